//! The events as `tracing` events, with their targets, levels and fields: a binary of its
//! own, whose tests run one at a time (`alone`). `tracing` caches each callsite's interest
//! process-wide, and a callsite first reached on another thread while a test's subscriber is
//! being registered can keep the interest computed without it (a race inside
//! `tracing-core`), so no other test may make events meanwhile.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use resilience::events::Detail;
use resilience::{
    Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, Error, RateLimiter,
    RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};
use tokio::time::{advance, sleep};
use tracing::Level;

mod support {
    pub mod app_error;
    pub mod capture;
}
use support::app_error::AppError;
use support::capture::{Capture, Captured};

/// Held by each test for its whole length: see the module's docs.
fn alone() -> MutexGuard<'static, ()> {
    static ALONE: Mutex<()> = Mutex::new(());
    ALONE.lock().unwrap_or_else(PoisonError::into_inner)
}

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

#[test]
fn the_same_events_reach_tracing_with_their_fields_and_levels() {
    let _alone = alone();
    let capture = Capture::new(|metadata| metadata.target().starts_with("resilience::"));
    capture.run(traced_scenario());
    let captured = capture.take();

    let by_name = |name: &str| -> Vec<&Captured> {
        captured
            .iter()
            .filter(|event| event.field("name") == Some(name))
            .collect()
    };
    let breaker = by_name("events::traced::breaker");
    let summary: Vec<_> = breaker
        .iter()
        .map(|event| {
            (
                event.level,
                event.target.as_str(),
                event.field("from").unwrap_or("-"),
                event.field("to").unwrap_or("-"),
            )
        })
        .collect();
    let target = "resilience::circuit_breaker";
    assert_eq!(
        summary,
        [
            (Level::WARN, target, "closed", "open"),
            (Level::DEBUG, target, "-", "-"),
            (Level::INFO, target, "open", "half-open"),
            (Level::INFO, target, "half-open", "closed"),
            (Level::WARN, target, "closed", "forced-open"),
            (Level::INFO, target, "forced-open", "disabled"),
        ]
    );
    assert!(breaker
        .iter()
        .all(|event| event.field("kind") == Some("circuit_breaker")));
    assert_eq!(
        breaker[0].field("message"),
        Some("circuit breaker `events::traced::breaker` opened")
    );
    assert_eq!(breaker[1].field("retry_after_ms"), Some("10000"));
    assert_eq!(
        breaker[1].field("error"),
        Some("circuit breaker `events::traced::breaker` is open, retry after 10s")
    );

    let retry = by_name("events::traced::retry");
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].level, Level::DEBUG);
    assert_eq!(retry[0].target, "resilience::retry");
    assert_eq!(retry[0].field("kind"), Some("retry"));
    assert_eq!(retry[0].field("attempt"), Some("1"));
    assert_eq!(retry[0].field("delay_ms"), Some("100"));
    assert_eq!(retry[0].field("error"), Some("down 1"));

    let timeout = by_name("events::traced::timeout");
    assert_eq!(timeout.len(), 1);
    assert_eq!(
        (timeout[0].level, timeout[0].target.as_str()),
        (Level::DEBUG, "resilience::timeout")
    );
    assert_eq!(timeout[0].field("after_ms"), Some("1000"));

    let bulkhead = by_name("events::traced::bulkhead");
    assert_eq!(bulkhead.len(), 2);
    assert_eq!(
        (bulkhead[0].level, bulkhead[0].target.as_str()),
        (Level::TRACE, "resilience::bulkhead")
    );
    assert_eq!(bulkhead[0].field("waited_ms"), Some("5"));
    assert_eq!(
        (bulkhead[1].level, bulkhead[1].field("kind")),
        (Level::DEBUG, Some("bulkhead"))
    );
    assert_eq!(
        bulkhead[1].field("retry_after_ms"),
        None,
        "a bulkhead knows no time to wait"
    );

    let limiter = by_name("events::traced::limiter");
    assert_eq!(limiter.len(), 1);
    assert_eq!(
        (limiter[0].level, limiter[0].target.as_str()),
        (Level::DEBUG, "resilience::rate_limit")
    );
    assert_eq!(limiter[0].field("kind"), Some("rate_limit"));
    assert_eq!(limiter[0].field("retry_after_ms"), Some("1000"));
}

async fn traced_scenario() {
    let breaker = CircuitBreaker::new(
        "events::traced::breaker",
        CircuitBreakerConfig::DEFAULT
            .failure_threshold(1)
            .success_threshold(1)
            .recovery_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    breaker.record_failure();
    let _ = breaker.call(|| async { Ok::<_, Error>(()) }).await;
    advance(Duration::from_secs(10)).await;
    breaker.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    breaker.force_open();
    breaker.disable();

    let retry = Retry::new(
        "events::traced::retry",
        RetryConfig::DEFAULT
            .max_attempts(2)
            .base_delay(100 * MS)
            .jitter(resilience::Jitter::None),
    )
    .unwrap();
    let attempts = AtomicU32::new(0);
    let answer: Result<(), AppError> = retry
        .call(|| async {
            match attempts.fetch_add(1, SeqCst) {
                0 => Err(AppError::Down(1)),
                _ => Ok(()),
            }
        })
        .await;
    answer.unwrap();

    let timeout = Timeout::new(
        "events::traced::timeout",
        TimeoutConfig::DEFAULT.duration(SECOND),
    )
    .unwrap();
    let _ = timeout
        .call(|| async {
            sleep(2 * SECOND).await;
            Ok::<_, Error>(())
        })
        .await;

    let bulkhead = Bulkhead::new(
        "events::traced::bulkhead",
        BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(10 * MS),
    )
    .unwrap();
    let hold = |d| {
        bulkhead.call(move || async move {
            sleep(d).await;
            Ok::<_, Error>(())
        })
    };
    let _ = tokio::join!(hold(5 * MS), hold(Duration::ZERO));
    let _ = tokio::join!(hold(SECOND), hold(Duration::ZERO));

    let limiter = RateLimiter::new(
        "events::traced::limiter",
        RateLimiterConfig::DEFAULT.max_requests(1).window(SECOND),
    )
    .unwrap();
    limiter.try_acquire().unwrap();
    limiter.try_acquire().unwrap_err();
}

/// A reload, as an event and as one `INFO` line saying what changed; an unchanged or
/// invalid config, as neither.
#[test]
fn each_change_is_an_event_and_an_info_line_saying_what_changed() {
    let _alone = alone();
    let capture = Capture::new(|metadata| metadata.target().starts_with("resilience::"));
    let config = BulkheadConfig::DEFAULT.max_concurrent(4);
    let bulkhead = Bulkhead::new("reload::traced", config.clone()).unwrap();
    let mut events = bulkhead.subscribe();
    capture.run(async {
        bulkhead
            .reconfigure(config.clone().max_concurrent(2).max_wait(SECOND))
            .unwrap();
        bulkhead
            .reconfigure(config.clone().max_concurrent(2).max_wait(SECOND))
            .unwrap();
        assert!(bulkhead
            .reconfigure(config.clone().max_concurrent(0))
            .is_err());
    });
    let event = events.try_recv().unwrap();
    let changes = "max_concurrent: 4 -> 2, max_wait: 5s -> 1s";
    assert_eq!(
        event.detail,
        Detail::Reconfigured {
            changes: changes.into()
        }
    );
    assert_eq!(
        event.to_string(),
        format!("bulkhead `reload::traced` reconfigured: {changes}")
    );
    assert!(
        events.try_recv().is_err(),
        "an unchanged or invalid config emits nothing"
    );
    let lines = capture.take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].level, tracing::Level::INFO);
    assert_eq!(lines[0].target, "resilience::bulkhead");
    assert_eq!(lines[0].field("changes"), Some(changes));
}

/// A shared breaker losing and finding its shared state: one `WARN` line each, at the
/// breaker's target, saying which.
#[test]
fn losing_and_finding_the_shared_state_are_one_warning_each() {
    use resilience::shared::{CallOutcome, SharedCircuit, Ticket};
    use resilience::CircuitState;

    /// A store that is always in charge and never asked: only availability is reported.
    struct Store;
    impl SharedCircuit for Store {
        fn in_charge(&self) -> bool {
            true
        }
        fn state(&self) -> CircuitState {
            CircuitState::Closed
        }
        fn admit(&self) -> Result<Ticket, (CircuitState, Duration)> {
            Err((CircuitState::Open, SECOND))
        }
        fn report(&self, _: u64, _: bool, _: CallOutcome) {}
    }

    let _alone = alone();
    let capture = Capture::new(|metadata| metadata.target().starts_with("resilience::"));
    let breaker =
        CircuitBreaker::new("events::traced::shared", CircuitBreakerConfig::DEFAULT).unwrap();
    breaker.share(std::sync::Arc::new(Store)).unwrap();
    capture.run(async {
        breaker.shared_availability(false);
        breaker.shared_availability(true);
    });
    let lines: Vec<_> = capture
        .take()
        .into_iter()
        .map(|line| (line.level, line.target, line.fields["message"].clone()))
        .collect();
    let target = "resilience::circuit_breaker".to_owned();
    assert_eq!(
        lines,
        [
            (
                Level::WARN,
                target.clone(),
                "`events::traced::shared` lost its shared state and falls back".to_owned()
            ),
            (
                Level::WARN,
                target,
                "`events::traced::shared` is back on its shared state".to_owned()
            ),
        ]
    );
}

struct Slow;

impl Slow {
    #[resilience::retry(base_delay = "2m", max_delay = "5m")]
    async fn call(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// A document applied before a method's first call whose fields break a rule beside the
/// attribute's own values (checked at the apply over the kind's defaults, where they
/// were sound): the method runs on its attribute, and one `WARN` line says why.
#[test]
fn a_document_a_method_s_attribute_turns_invalid_is_one_warning_and_the_attribute_stands() {
    let _alone = alone();
    let name = "events_tracing::Slow::call";
    let capture = Capture::new(|metadata| metadata.target().starts_with("resilience::"));
    let document = resilience::config::Document::from_toml(&format!(
        "[retry.instances.\"{name}\"]\nmax_delay = \"90s\"\n"
    ))
    .unwrap();
    resilience::registry().apply(&document).unwrap();
    capture.run(async { Slow.call().await.unwrap() });
    let config = resilience::registry().retry(name).unwrap().config().clone();
    assert_eq!(config.max_delay, 5 * 60 * SECOND, "the attribute's");
    let lines = capture.take();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].level, Level::WARN);
    assert_eq!(lines[0].target, "resilience::retry");
    assert_eq!(lines[0].field("name"), Some(name));
    assert!(
        lines[0].field("problem").unwrap().contains("max_delay"),
        "{lines:?}"
    );
}
