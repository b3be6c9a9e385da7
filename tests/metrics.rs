//! The metric families: every exporter's values equal the registry's snapshot at the same
//! moment, the breaker's state gauge is exactly one 1 through a whole cycle, and the text
//! passes `promtool check metrics`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use resilience::metrics::{self, MetricType, PrometheusCollector, FAMILIES};
use resilience::shared::{
    CallOutcome, QuotaDecision, QuotaFuture, SharedCircuit, SharedQuota, SharedStats, Ticket,
};
use resilience::{
    BulkheadConfig, CircuitBreakerConfig, CircuitState, Error, RateLimiterConfig, Registry,
    RetryConfig, Snapshot, Stats, TimeoutConfig,
};
use tokio::time::{advance, sleep};

const SECOND: Duration = Duration::from_secs(1);

/// A series: its name and its labels, sorted.
type Key = (String, Vec<(String, String)>);

/// Series and their values.
type Series = BTreeMap<Key, f64>;

/// A registry of its own (the collector wants it `'static`), after a scripted scenario:
/// a breaker that opens, probes, re-opens and closes; retries of each outcome; a timeout
/// that completes and one that cuts a call short; a full bulkhead and a limiter that
/// makes one call wait and rejects another. Returns with a call holding the bulkhead's
/// slot and another queued behind it.
async fn scripted() -> &'static Registry {
    let registry: &'static Registry = Box::leak(Box::default());

    let breaker = registry
        .get_or_create(
            "payments",
            CircuitBreakerConfig::DEFAULT
                .failure_threshold(2)
                .success_threshold(1)
                .recovery_timeout(10 * SECOND),
        )
        .unwrap();
    let down = || async { Err::<(), _>(anyhow::anyhow!("down")) };
    let up = || async { Ok::<(), anyhow::Error>(()) };
    for _ in 0..2 {
        breaker.call(down).await.unwrap_err();
    }
    breaker.call(up).await.unwrap_err(); // rejected: open
    advance(10 * SECOND).await;
    breaker.call(down).await.unwrap_err(); // the probe fails: open again
    advance(10 * SECOND).await;
    breaker.call(up).await.unwrap(); // the probe succeeds: closed
    assert_eq!(breaker.state(), CircuitState::Closed);

    let retry = registry
        .get_or_create(
            "fetch",
            RetryConfig::DEFAULT
                .max_attempts(3)
                .base_delay(Duration::from_millis(10)),
        )
        .unwrap();
    let timed_out = || Error::Timeout {
        name: "x".into(),
        after: SECOND,
    };
    retry.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    let mut failures = 1;
    let flaky = || {
        let fail = failures > 0;
        failures -= 1;
        async move {
            if fail {
                Err(timed_out())
            } else {
                Ok(())
            }
        }
    };
    retry.call(flaky).await.unwrap(); // two attempts
    let always = || async { Err::<(), _>(timed_out()) };
    retry.call(always).await.unwrap_err(); // three attempts
    retry.call_with(|_| false, always).await.unwrap_err(); // one attempt

    let timeout = registry
        .get_or_create("slow", TimeoutConfig::DEFAULT.duration(SECOND))
        .unwrap();
    timeout.call(up).await.unwrap();
    timeout.call(down).await.unwrap_err(); // completed in time, with an error
    let late = || async {
        sleep(2 * SECOND).await;
        Ok::<_, Error>(())
    };
    timeout.call(late).await.unwrap_err();

    let bulkhead = registry
        .get_or_create(
            "pool",
            BulkheadConfig::DEFAULT
                .max_concurrent(1)
                .max_queued(1)
                .max_wait(60 * SECOND),
        )
        .unwrap();
    for _ in 0..2 {
        let bulkhead = Arc::clone(&bulkhead);
        tokio::spawn(async move {
            let held = || async {
                sleep(3600 * SECOND).await;
                Ok::<_, Error>(())
            };
            bulkhead.call(held).await
        });
    }
    tokio::task::yield_now().await;
    assert_eq!((bulkhead.active(), bulkhead.queued()), (1, 1));
    bulkhead.call(up).await.unwrap_err(); // the queue is full

    let limiter = registry
        .get_or_create(
            "geo",
            RateLimiterConfig::DEFAULT
                .max_requests(1)
                .window(SECOND)
                .max_wait(2 * SECOND),
        )
        .unwrap();
    limiter.acquire().await.unwrap();
    limiter.acquire().await.unwrap(); // waits a second
    limiter.try_acquire().unwrap_err();

    // Shared by a store: a breaker that lost its shared state once and found it again, a
    // limiter that lost its shared quota and runs on its fallback.
    let breaker = registry
        .get_or_create("fleet", CircuitBreakerConfig::default())
        .unwrap();
    breaker.share(Arc::new(Fallen)).unwrap();
    breaker.shared_availability(false);
    breaker.shared_availability(true);
    let limiter = registry
        .get_or_create("fleet-quota", RateLimiterConfig::default())
        .unwrap();
    limiter.share(Arc::new(Fallen)).unwrap();
    limiter.shared_availability(false);

    registry
}

/// A store whose shared state is unreachable: the instance decides on its own.
struct Fallen;

impl SharedCircuit for Fallen {
    fn in_charge(&self) -> bool {
        false
    }
    fn state(&self) -> CircuitState {
        CircuitState::Closed
    }
    fn admit(&self) -> Result<Ticket, (CircuitState, Duration)> {
        unreachable!("never in charge")
    }
    fn report(&self, _: u64, _: bool, _: CallOutcome) {}
}

impl SharedQuota for Fallen {
    fn admit(&self) -> QuotaFuture<'_> {
        Box::pin(async { QuotaDecision::Local })
    }
    fn admit_blocking(&self) -> QuotaDecision {
        QuotaDecision::Local
    }
    fn try_admit(&self) -> QuotaDecision {
        QuotaDecision::Local
    }
}

/// What every family should say of `snapshot`, written from the stats' fields here, apart
/// from the exporters' table.
fn expected(snapshot: &Snapshot) -> Series {
    let mut series = Series::new();
    let mut put = |family: &str, name: &str, label: Option<(&str, String)>, value: u64| {
        let mut labels = vec![("name".to_owned(), name.to_owned())];
        labels.extend(label.map(|(k, v)| (k.to_owned(), v)));
        labels.sort();
        series.insert((family.to_owned(), labels), value as f64);
    };
    for instance in &snapshot.instances {
        let name = &*instance.name;
        match instance.stats {
            Stats::CircuitBreaker(s) => {
                for (label, state) in [
                    ("closed", CircuitState::Closed),
                    ("open", CircuitState::Open),
                    ("half_open", CircuitState::HalfOpen),
                    ("forced_open", CircuitState::ForcedOpen),
                    ("disabled", CircuitState::Disabled),
                ] {
                    let label = Some(("state", label.to_owned()));
                    let value = u64::from(s.recorded_state == state);
                    put("circuit_breaker_state", name, label.clone(), value);
                    let changes = s.transitions_to(state);
                    put("circuit_breaker_state_changes_total", name, label, changes);
                }
                put("circuit_breaker_successes_total", name, None, s.successes);
                put("circuit_breaker_failures_total", name, None, s.failures);
                put("circuit_breaker_rejected_total", name, None, s.rejections);
                shared(&mut put, "circuit_breaker", name, s.shared);
            }
            Stats::Retry(s) => {
                for (n, below) in s.attempt_buckets() {
                    let le = Some(("le", n.to_string()));
                    put("retry_attempts_bucket", name, le, below);
                }
                let inf = Some(("le", "+Inf".to_owned()));
                put("retry_attempts_bucket", name, inf, s.calls);
                put("retry_attempts_sum", name, None, s.attempts);
                put("retry_attempts_count", name, None, s.calls);
                put("retry_attempts_total", name, None, s.retries);
                let failed = s.failed_without_retry + s.failed_after_retry;
                for (outcome, calls) in [
                    ("success_first_try", s.succeeded_first_try),
                    ("success_after_retry", s.succeeded_after_retry),
                    ("failed", failed),
                ] {
                    let outcome = Some(("outcome", outcome.to_owned()));
                    put("retry_calls_total", name, outcome, calls);
                }
            }
            Stats::Timeout(s) => {
                for (outcome, calls) in [("completed", s.completed), ("timed_out", s.timeouts)] {
                    let outcome = Some(("outcome", outcome.to_owned()));
                    put("timeout_calls_total", name, outcome, calls);
                }
            }
            Stats::Bulkhead(s) => {
                put("bulkhead_active", name, None, s.active as u64);
                put("bulkhead_queued", name, None, s.queued as u64);
                put(
                    "bulkhead_max_concurrent",
                    name,
                    None,
                    s.max_concurrent as u64,
                );
                put("bulkhead_rejected_total", name, None, s.rejections);
            }
            Stats::RateLimiter(s) => {
                put("rate_limit_admitted_total", name, None, s.admitted);
                put("rate_limit_waited_total", name, None, s.waited);
                put("rate_limit_rejected_total", name, None, s.rejections);
                shared(&mut put, "rate_limit", name, s.shared);
            }
            other => panic!("a kind this test does not know: {other:?}"),
        }
    }
    series
}

/// A shared instance's series: the one-hot mode and the fallbacks; none for another.
fn shared(
    put: &mut impl FnMut(&str, &str, Option<(&str, String)>, u64),
    kind: &str,
    name: &str,
    shared: Option<SharedStats>,
) {
    let Some(shared) = shared else { return };
    for (mode, on) in [
        ("shared", shared.available),
        ("fallback", !shared.available),
    ] {
        let mode = Some(("mode", mode.to_owned()));
        put(&format!("{kind}_shared_mode"), name, mode, u64::from(on));
    }
    let fallbacks = format!("{kind}_shared_fallbacks_total");
    put(&fallbacks, name, None, shared.fallbacks);
}

/// The samples of a text exposition (Prometheus 0.0.4 or OpenMetrics), `le` bounds
/// written as Prometheus writes them (`1`, not `1.0`). A series twice is an error.
fn parse(text: &str) -> Series {
    let mut series = Series::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (metric, value) = line.rsplit_once(' ').expect("`<series> <value>`");
        let (family, labels) = match metric.split_once('{') {
            Some((family, labels)) => (family, labels.strip_suffix('}').unwrap()),
            None => (metric, ""),
        };
        let mut pairs: Vec<(String, String)> = labels
            .split("\",")
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once("=\"").unwrap();
                let value = value.trim_end_matches('"').to_owned();
                match (key, value.parse::<f64>()) {
                    ("le", Ok(bound)) if bound.is_finite() => (key.to_owned(), bound.to_string()),
                    _ => (key.to_owned(), value),
                }
            })
            .collect();
        pairs.sort();
        let value: f64 = value.parse().expect("a number");
        let previous = series.insert((family.to_owned(), pairs), value);
        assert!(previous.is_none(), "a series twice: {line}");
    }
    series
}

/// The value of one series of `text`.
fn value(text: &str, family: &str, labels: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.sort();
    let key = (family.to_owned(), labels);
    *parse(text)
        .get(&key)
        .unwrap_or_else(|| panic!("no series {key:?} in\n{text}"))
}

fn text_of(snapshot: &Snapshot) -> String {
    let mut text = String::new();
    metrics::write_text(snapshot, &mut text);
    text
}

#[tokio::test(start_paused = true)]
async fn the_text_says_what_the_snapshot_says_of_every_family() {
    let registry = scripted().await;
    let snapshot = registry.snapshot();
    let text = text_of(&snapshot);
    assert_eq!(parse(&text), expected(&snapshot), "{text}");

    // The scenario's own numbers, so the snapshot is what the script did.
    let payments = [("name", "payments")];
    let open = [("name", "payments"), ("state", "open")];
    let half_open = [("name", "payments"), ("state", "half_open")];
    let closed = [("name", "payments"), ("state", "closed")];
    let changes = "circuit_breaker_state_changes_total";
    assert_eq!(value(&text, changes, &open), 2.0);
    assert_eq!(value(&text, changes, &half_open), 2.0);
    assert_eq!(value(&text, changes, &closed), 1.0);
    assert_eq!(value(&text, "circuit_breaker_state", &closed), 1.0);
    assert_eq!(
        value(&text, "circuit_breaker_failures_total", &payments),
        3.0
    );
    assert_eq!(
        value(&text, "circuit_breaker_successes_total", &payments),
        1.0
    );
    assert_eq!(
        value(&text, "circuit_breaker_rejected_total", &payments),
        1.0
    );

    let fetch = |le: &'static str| [("name", "fetch"), ("le", le)];
    let buckets: Vec<f64> = ["1", "2", "3", "+Inf"]
        .iter()
        .map(|le| value(&text, "retry_attempts_bucket", &fetch(le)))
        .collect();
    assert_eq!(buckets, [2.0, 3.0, 4.0, 4.0], "attempts: 1, 2, 3 and 1");
    assert_eq!(
        value(&text, "retry_attempts_sum", &[("name", "fetch")]),
        7.0
    );
    assert_eq!(
        value(&text, "retry_attempts_total", &[("name", "fetch")]),
        3.0
    );
    let outcome = |o: &'static str| [("name", "fetch"), ("outcome", o)];
    assert_eq!(value(&text, "retry_calls_total", &outcome("failed")), 2.0);

    let slow = |o: &'static str| [("name", "slow"), ("outcome", o)];
    assert_eq!(value(&text, "timeout_calls_total", &slow("completed")), 2.0);
    assert_eq!(value(&text, "timeout_calls_total", &slow("timed_out")), 1.0);

    let pool = [("name", "pool")];
    assert_eq!(value(&text, "bulkhead_active", &pool), 1.0);
    assert_eq!(value(&text, "bulkhead_queued", &pool), 1.0);
    assert_eq!(value(&text, "bulkhead_max_concurrent", &pool), 1.0);
    assert_eq!(value(&text, "bulkhead_rejected_total", &pool), 1.0);

    let geo = [("name", "geo")];
    assert_eq!(value(&text, "rate_limit_admitted_total", &geo), 2.0);
    assert_eq!(value(&text, "rate_limit_waited_total", &geo), 1.0);
    assert_eq!(value(&text, "rate_limit_rejected_total", &geo), 1.0);

    let mode = |name: &'static str, mode: &'static str| [("name", name), ("mode", mode)];
    let breaker_mode = "circuit_breaker_shared_mode";
    assert_eq!(value(&text, breaker_mode, &mode("fleet", "shared")), 1.0);
    assert_eq!(value(&text, breaker_mode, &mode("fleet", "fallback")), 0.0);
    let fleet = [("name", "fleet")];
    let fallbacks = "circuit_breaker_shared_fallbacks_total";
    assert_eq!(value(&text, fallbacks, &fleet), 1.0);
    let limiter_mode = "rate_limit_shared_mode";
    assert_eq!(
        value(&text, limiter_mode, &mode("fleet-quota", "shared")),
        0.0
    );
    assert_eq!(
        value(&text, limiter_mode, &mode("fleet-quota", "fallback")),
        1.0
    );
    let quota = [("name", "fleet-quota")];
    let fallbacks = "rate_limit_shared_fallbacks_total";
    assert_eq!(value(&text, fallbacks, &quota), 1.0);
    // Only the shared instances have these series.
    assert!(!text.contains("shared_mode{name=\"payments\""), "{text}");
    assert!(
        !text.contains("shared_fallbacks_total{name=\"geo\""),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_prometheus_client_collector_says_what_the_snapshot_says() {
    let registry = scripted().await;
    let mut theirs = prometheus_client::registry::Registry::default();
    theirs.register_collector(Box::new(PrometheusCollector::of(registry)));
    let mut text = String::new();
    encode(&mut text, &theirs).unwrap();
    assert_eq!(parse(&text), expected(&registry.snapshot()), "{text}");
    // OpenMetrics names a counter family without `_total`, except the one whose name
    // the histogram `retry_attempts` takes.
    assert!(text.contains("# TYPE rate_limit_rejected counter\n"));
    assert!(text.contains("# TYPE retry_attempts histogram\n"));
    assert!(text.contains("# TYPE retry_attempts_total unknown\n"));
}

/// An instance's name may hold any character; both exporters quote it as the text format
/// says, or one odd name would spoil the whole scrape.
#[test]
fn both_exporters_escape_an_instance_s_name() {
    let registry = Box::leak(Box::new(Registry::new()));
    registry
        .get_or_create::<TimeoutConfig>("we\"ird\\name\nx", TimeoutConfig::DEFAULT)
        .unwrap();
    let quoted = r#"timeout_calls_total{name="we\"ird\\name\nx",outcome="completed"} 0"#;
    let mut ours = String::new();
    metrics::write_text(&registry.snapshot(), &mut ours);
    assert!(ours.contains(quoted), "{ours}");
    let mut theirs = prometheus_client::registry::Registry::default();
    theirs.register_collector(Box::new(PrometheusCollector::of(registry)));
    let mut text = String::new();
    encode(&mut text, &theirs).unwrap();
    assert!(text.contains(r#"name="we\"ird\\name\nx""#), "{text}");
}

#[tokio::test(start_paused = true)]
async fn the_metrics_facade_gets_what_the_snapshot_says() {
    let registry = scripted().await;
    let snapshot = registry.snapshot();
    let recorder = Recorded::default();
    ::metrics::with_local_recorder(&recorder, || metrics::publish_snapshot(&snapshot));
    assert_eq!(recorder.series(), expected(&snapshot));
    // Published again, the values are set, not added.
    ::metrics::with_local_recorder(&recorder, || metrics::publish_snapshot(&snapshot));
    assert_eq!(recorder.series(), expected(&snapshot));
}

/// After every transition of a whole cycle, exactly one `state` series is 1: the one of
/// the state the breaker is in.
#[tokio::test(start_paused = true)]
async fn the_state_gauge_is_one_for_the_state_the_breaker_was_last_put_in_and_zero_for_the_others()
{
    let registry = Registry::new();
    let breaker = registry
        .get_or_create(
            "cycle",
            CircuitBreakerConfig::DEFAULT
                .failure_threshold(1)
                .success_threshold(1)
                .recovery_timeout(5 * SECOND),
        )
        .unwrap();
    let gauge = |expected: &str| {
        let text = text_of(&registry.snapshot());
        let ones: Vec<String> = parse(&text)
            .into_iter()
            .filter(|((family, _), _)| family == "circuit_breaker_state")
            .filter_map(|((_, labels), value)| {
                assert!(value == 0.0 || value == 1.0, "{value}");
                (value == 1.0).then(|| labels[1].1.clone())
            })
            .collect();
        assert_eq!(ones, [expected], "{text}");
    };
    let down = || async { Err::<(), _>(anyhow::anyhow!("down")) };
    // A probe that runs until told how it ends.
    let probe = |succeeds: tokio::sync::oneshot::Receiver<bool>| {
        let breaker = Arc::clone(&breaker);
        tokio::spawn(async move {
            let ends = || async move {
                match succeeds.await {
                    Ok(true) => Ok(()),
                    _ => Err(anyhow::anyhow!("down")),
                }
            };
            breaker.call(ends).await
        })
    };
    gauge("closed");
    breaker.call(down).await.unwrap_err();
    gauge("open");
    advance(5 * SECOND).await;
    // Its recovery is over, but until a call probes it the breaker stays open, as the
    // changes counted say: an alert on an open breaker holds while nothing calls it.
    gauge("open");
    let (fails, told) = tokio::sync::oneshot::channel();
    let running = probe(told);
    tokio::task::yield_now().await;
    gauge("half_open");
    fails.send(false).unwrap();
    running.await.unwrap().unwrap_err();
    gauge("open");
    advance(5 * SECOND).await;
    gauge("open");
    let (succeeds, told) = tokio::sync::oneshot::channel();
    let running = probe(told);
    tokio::task::yield_now().await;
    gauge("half_open");
    succeeds.send(true).unwrap();
    running.await.unwrap().unwrap();
    gauge("closed");
    breaker.force_open();
    gauge("forced_open");
    breaker.disable();
    gauge("disabled");
}

#[tokio::test(start_paused = true)]
async fn a_retry_of_more_than_sixteen_attempts_keeps_the_rest_past_the_last_bucket() {
    let registry = Registry::new();
    let retry = registry
        .get_or_create(
            "long",
            RetryConfig::DEFAULT
                .max_attempts(20)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(1)),
        )
        .unwrap();
    let mut failures = 17;
    let flaky = || {
        let fail = failures > 0;
        failures -= 1;
        async move {
            if fail {
                Err(anyhow::anyhow!("flaky"))
            } else {
                Ok(())
            }
        }
    };
    retry.call(flaky).await.unwrap(); // 18 attempts
    let text = text_of(&registry.snapshot());
    let bucket = |le: &'static str| {
        value(
            &text,
            "retry_attempts_bucket",
            &[("name", "long"), ("le", le)],
        )
    };
    assert_eq!((bucket("16"), bucket("+Inf")), (0.0, 1.0));
    assert!(!text.contains("le=\"17\""), "no bucket past 16: {text}");
    assert_eq!(
        value(&text, "retry_attempts_sum", &[("name", "long")]),
        18.0
    );
}

/// Scrapes taken while calls run on other threads: every counter only grows from one scrape
/// to the next, and every histogram is whole (buckets rising to `+Inf`, which is its count).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scrapes_during_calls_see_counters_only_grow_and_histograms_whole() {
    let registry: &'static Registry = Box::leak(Box::default());
    let retry = registry
        .get_or_create(
            "busy",
            RetryConfig::DEFAULT
                .max_attempts(3)
                .base_delay(Duration::from_micros(1))
                .max_delay(Duration::from_micros(1)),
        )
        .unwrap();
    let breaker = registry
        .get_or_create(
            "busy",
            CircuitBreakerConfig::DEFAULT.failure_threshold(1_000_000),
        )
        .unwrap();
    let callers: Vec<_> = (0..3u64)
        .map(|caller| {
            let (retry, breaker) = (Arc::clone(&retry), Arc::clone(&breaker));
            tokio::spawn(async move {
                for call in 0..500u64 {
                    let mut failures = (caller + call) % 4; // 0 to 3 failures: all outcomes
                    let body = || {
                        let fail = failures > 0;
                        failures = failures.saturating_sub(1);
                        async move {
                            if fail {
                                Err(anyhow::anyhow!("flaky"))
                            } else {
                                Ok(())
                            }
                        }
                    };
                    let _ = breaker.call(|| retry.call(body)).await;
                }
            })
        })
        .collect();
    let mut scrapes = 0;
    let mut last = Series::new();
    for _ in 0..100_000 {
        if callers.iter().all(|c| c.is_finished()) {
            break;
        }
        let now = parse(&text_of(&registry.snapshot()));
        for (key, value) in &now {
            let counter = key.0.ends_with("_total") || key.0.starts_with("retry_attempts_");
            if let Some(before) = last.get(key).filter(|_| counter) {
                assert!(value >= before, "{key:?} went from {before} to {value}");
            }
        }
        let bucket = |le: &str| {
            now[&(
                "retry_attempts_bucket".to_owned(),
                vec![
                    ("le".to_owned(), le.to_owned()),
                    ("name".to_owned(), "busy".to_owned()),
                ],
            )]
        };
        let buckets = ["1", "2", "3", "+Inf"].map(bucket);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        let count = now[&(
            "retry_attempts_count".to_owned(),
            vec![("name".to_owned(), "busy".to_owned())],
        )];
        assert_eq!(buckets[3], count);
        last = now;
        scrapes += 1;
        tokio::task::yield_now().await;
    }
    for caller in callers {
        caller.await.unwrap();
    }
    assert!(
        scrapes >= 10,
        "scraped only {scrapes} times while the calls ran"
    );
    let snapshot = registry.snapshot();
    assert_eq!(parse(&text_of(&snapshot)), expected(&snapshot));
    assert_eq!(retry.stats().calls, 1_500);
}

#[tokio::test(start_paused = true)]
async fn the_text_passes_promtool_check_metrics() {
    let text = text_of(&scripted().await.snapshot());
    let Some(output) = promtool(&["check", "metrics"], Some(&text)) else {
        return;
    };
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// The alerts shipped in `contrib/prometheus/` are valid rules, pass their unit tests, and
/// query only series we export.
#[test]
fn the_alerts_pass_promtool_and_name_only_our_families() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/prometheus");
    let alerts = std::fs::read_to_string(format!("{dir}/alerts.yml")).unwrap();
    let ours: BTreeSet<String> = FAMILIES
        .iter()
        .flat_map(|f| match f.metric_type {
            MetricType::Histogram => ["_bucket", "_sum", "_count"]
                .map(|suffix| format!("{}{suffix}", f.name))
                .to_vec(),
            _ => vec![f.name.to_owned()],
        })
        .collect();
    let prefixes = [
        "circuit_breaker_",
        "retry_",
        "timeout_",
        "bulkhead_",
        "rate_limit_",
    ];
    let queried: BTreeSet<&str> = alerts
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| prefixes.iter().any(|p| word.starts_with(p)))
        .collect();
    assert!(queried.len() >= 5, "{queried:?}");
    for name in queried {
        assert!(
            ours.contains(name),
            "alerts.yml queries `{name}`, which we do not export"
        );
    }
    for args in [
        ["check", "rules", &format!("{dir}/alerts.yml")],
        ["test", "rules", &format!("{dir}/alerts.test.yml")],
    ] {
        let Some(output) = promtool(&args, None) else {
            return;
        };
        assert!(
            output.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

/// The README's table of families, in its "Metrics" section, lists exactly the exported
/// ones, with their types.
#[test]
fn the_readme_lists_every_family() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("\n### Metrics\n")
        .nth(1)
        .expect("a `### Metrics` section")
        .split("\n#")
        .next()
        .unwrap();
    let listed: BTreeSet<(String, String)> = section
        .lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix("| `")?.split('|');
            let name = cells.next()?.trim().trim_end_matches('`').to_owned();
            let kind = cells.next()?.trim().to_owned();
            Some((name, kind))
        })
        .collect();
    let exported: BTreeSet<(String, String)> = FAMILIES
        .iter()
        .map(|f| {
            let kind = match f.metric_type {
                MetricType::Counter => "counter",
                MetricType::Gauge => "gauge",
                MetricType::Histogram => "histogram",
                _ => unreachable!("a type this test does not know"),
            };
            (f.name.to_owned(), kind.to_owned())
        })
        .collect();
    assert_eq!(listed, exported);
}

/// Runs promtool, or says once how to run this test with it and returns `None` when it is
/// not installed (unless `RESILIENCE_REQUIRE_PROMTOOL=1`, as in CI, makes that a failure).
fn promtool(args: &[&str], stdin: Option<&str>) -> Option<std::process::Output> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if std::env::var("RESILIENCE_REQUIRE_PROMTOOL").as_deref() == Ok("1") => {
            panic!(
                "promtool is required (RESILIENCE_REQUIRE_PROMTOOL=1) but did not start: {error}"
            )
        }
        Err(_) => {
            // Straight to stderr: the test harness captures `eprintln!` of passing tests.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let said = "skipped the promtool checks: promtool is not installed; \
                            `apt-get install prometheus`, then `cargo test --test metrics`\n";
                _ = std::io::stderr().write_all(said.as_bytes());
            });
            return None;
        }
    };
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    Some(child.wait_with_output().unwrap())
}

/// A `metrics` recorder that keeps the last value of each series.
#[derive(Default)]
struct Recorded(Mutex<BTreeMap<Key, Arc<Cell>>>);

#[derive(Default)]
struct Cell(Mutex<f64>);

impl ::metrics::CounterFn for Cell {
    fn increment(&self, value: u64) {
        *self.0.lock().unwrap() += value as f64;
    }
    fn absolute(&self, value: u64) {
        *self.0.lock().unwrap() = value as f64;
    }
}

impl ::metrics::GaugeFn for Cell {
    fn increment(&self, value: f64) {
        *self.0.lock().unwrap() += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.lock().unwrap() -= value;
    }
    fn set(&self, value: f64) {
        *self.0.lock().unwrap() = value;
    }
}

impl Recorded {
    fn cell(&self, key: &::metrics::Key) -> Arc<Cell> {
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        let key = (key.name().to_owned(), labels);
        Arc::clone(self.0.lock().unwrap().entry(key).or_default())
    }

    fn series(&self) -> Series {
        let cells = self.0.lock().unwrap();
        cells
            .iter()
            .map(|(key, cell)| (key.clone(), *cell.0.lock().unwrap()))
            .collect()
    }
}

impl ::metrics::Recorder for Recorded {
    fn describe_counter(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: ::metrics::KeyName,
        _: Option<::metrics::Unit>,
        _: ::metrics::SharedString,
    ) {
    }

    fn register_counter(
        &self,
        key: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Counter {
        ::metrics::Counter::from_arc(self.cell(key))
    }

    fn register_gauge(
        &self,
        key: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Gauge {
        ::metrics::Gauge::from_arc(self.cell(key))
    }

    fn register_histogram(
        &self,
        _: &::metrics::Key,
        _: &::metrics::Metadata<'_>,
    ) -> ::metrics::Histogram {
        panic!("every family is published as counters and gauges")
    }
}
