//! Live reload of each policy's config: the state each one keeps, by its documented rule,
//! on the paused clock, and a bulkhead resized under load on a multi-thread runtime. The
//! event and log line of a change are in `events_tracing.rs`, whose captures of `tracing`
//! need a binary of their own.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::{
    Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, ConfigError, Error,
    RateLimiter, RateLimiterConfig, Retry, RetryConfig, SlidingWindow, Timeout, TimeoutConfig,
};
use tokio::time::{advance, sleep};

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

fn breaker(recovery: Duration) -> (CircuitBreaker, CircuitBreakerConfig) {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .recovery_timeout(recovery);
    (CircuitBreaker::new("b", config.clone()).unwrap(), config)
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_stays_open_until_the_new_deadline_when_it_shrinks() {
    let (breaker, config) = breaker(60 * SECOND);
    breaker.record_failure();
    advance(5 * SECOND).await;
    breaker
        .reconfigure(config.recovery_timeout(10 * SECOND))
        .unwrap();
    advance(5 * SECOND - MS).await;
    assert!(!breaker.can_execute(), "open until 10s after it opened");
    advance(MS).await;
    assert!(breaker.can_execute(), "the new deadline, not the old one");
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_stays_open_until_the_new_deadline_when_it_grows() {
    let (breaker, config) = breaker(10 * SECOND);
    breaker.record_failure();
    breaker
        .reconfigure(config.recovery_timeout(30 * SECOND))
        .unwrap();
    advance(30 * SECOND - MS).await;
    assert!(
        !breaker.can_execute(),
        "the old deadline passed, the new one not"
    );
    advance(MS).await;
    assert!(breaker.can_execute());
}

#[tokio::test(start_paused = true)]
async fn a_deadline_already_past_under_the_new_config_lets_the_next_call_probe() {
    let (breaker, config) = breaker(60 * SECOND);
    breaker.record_failure();
    advance(20 * SECOND).await;
    breaker
        .reconfigure(config.recovery_timeout(10 * SECOND))
        .unwrap();
    assert!(breaker.can_execute());
    let permit = breaker.try_acquire().unwrap();
    assert!(breaker.is_half_open());
    drop(permit);
}

#[tokio::test(start_paused = true)]
async fn a_half_open_breaker_keeps_its_probes_and_takes_the_new_limits_from_the_next() {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(10 * SECOND);
    let breaker = CircuitBreaker::new("b", config.clone()).unwrap();
    breaker.record_failure();
    advance(10 * SECOND).await;
    let first = breaker.try_acquire().unwrap();
    assert!(breaker.try_acquire().is_err(), "one probe at a time");
    breaker
        .reconfigure(config.success_threshold(2).half_open_max_calls(2))
        .unwrap();
    assert!(breaker.is_half_open(), "the probe running keeps its slot");
    let second = breaker
        .try_acquire()
        .expect("a second probe slot, from the new limit");
    first.success();
    assert!(breaker.is_half_open(), "two successes close it now");
    second.success();
    assert!(breaker.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_breaker_opened_by_hand_stays_open_through_a_reload() {
    let config = CircuitBreakerConfig::DEFAULT.recovery_timeout(SECOND);
    let breaker = CircuitBreaker::new("b", config.clone()).unwrap();
    breaker.force_open();
    breaker.reconfigure(config.failure_threshold(9)).unwrap();
    advance(10 * SECOND).await;
    assert!(!breaker.can_execute(), "still forced open");
}

#[tokio::test(start_paused = true)]
async fn a_closed_breaker_keeps_its_failures_and_opens_at_the_next_under_a_lower_threshold() {
    let config = CircuitBreakerConfig::DEFAULT.failure_threshold(5);
    let breaker = CircuitBreaker::new("b", config.clone()).unwrap();
    for _ in 0..3 {
        breaker.record_failure();
    }
    breaker.reconfigure(config.failure_threshold(3)).unwrap();
    assert!(breaker.is_closed(), "a reload alone opens nothing");
    breaker.record_failure();
    assert!(
        breaker.is_open(),
        "the failures counted before the reload still count"
    );
}

#[tokio::test(start_paused = true)]
async fn a_breaker_refuses_a_new_window_and_keeps_running_on_its_config() {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_rate_threshold(50)
        .sliding_window(SlidingWindow::Calls(10));
    let breaker = CircuitBreaker::new("b", config.clone()).unwrap();
    let error = breaker
        .reconfigure(config.clone().sliding_window(SlidingWindow::Calls(20)))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("`sliding_window` cannot change"),
        "{error}"
    );
    let error = breaker
        .reconfigure(CircuitBreakerConfig::DEFAULT)
        .unwrap_err();
    assert!(matches!(error, ConfigError::Invalid(e) if e.field() == "failure_rate_threshold"));
    assert_eq!(breaker.config(), &config);
    breaker
        .reconfigure(config.clone().failure_rate_threshold(80))
        .unwrap();
    assert_eq!(breaker.config().failure_rate_threshold, Some(80));

    // Beside a slow-call rule, whose window stays, the rate rule still cannot come or go:
    // the breaker would change from rating its window to counting consecutive failures.
    let slow = CircuitBreakerConfig::DEFAULT
        .slow_call_duration(Duration::from_secs(2))
        .sliding_window(SlidingWindow::Calls(4));
    let timed = CircuitBreaker::new("timed", slow.clone()).unwrap();
    let refused = |next: CircuitBreakerConfig| match timed.reconfigure(next) {
        Err(ConfigError::Invalid(e)) => e.field() == "failure_rate_threshold",
        _ => false,
    };
    assert!(refused(slow.clone().failure_rate_threshold(50)), "set");
    let both = CircuitBreaker::new("both", slow.clone().failure_rate_threshold(50)).unwrap();
    assert!(
        matches!(both.reconfigure(slow.clone()), Err(ConfigError::Invalid(e)) if e.field() == "failure_rate_threshold"),
        "removed"
    );
    assert_eq!(timed.config(), &slow);
    timed
        .reconfigure(slow.clone().slow_call_duration(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(
        timed.config().slow_call_duration,
        Some(Duration::from_secs(5))
    );
}

fn limiter(config: &RateLimiterConfig) -> RateLimiter {
    RateLimiter::new("l", config.clone()).unwrap()
}

fn admitted(limiter: &RateLimiter) -> u32 {
    let mut n = 0;
    while limiter.try_acquire().is_ok() {
        n += 1;
        assert!(n <= 1000, "a limiter admits without end");
    }
    n
}

#[tokio::test(start_paused = true)]
async fn a_limiter_keeps_its_used_quota_under_the_new_one() {
    use resilience::Algorithm::{FixedWindow, SlidingWindow, TokenBucket};
    for algorithm in [TokenBucket, FixedWindow, SlidingWindow] {
        let config = RateLimiterConfig::DEFAULT
            .max_requests(4)
            .window(SECOND)
            .algorithm(algorithm);
        let limiter = limiter(&config);
        for _ in 0..3 {
            limiter.try_acquire().unwrap();
        }
        limiter.reconfigure(config.clone().max_requests(8)).unwrap();
        assert_eq!(
            admitted(&limiter),
            5,
            "{algorithm:?}: three of eight were used"
        );
        limiter.reconfigure(config.clone().max_requests(2)).unwrap();
        assert_eq!(
            admitted(&limiter),
            0,
            "{algorithm:?}: eight used, clamped to two"
        );
    }
}

/// Shrunk below what it has admitted in this window and grown again, a window limiter
/// still counts every admission: never over the larger quota.
#[tokio::test(start_paused = true)]
async fn a_window_shrunk_and_grown_again_still_counts_every_admission() {
    use resilience::Algorithm::{FixedWindow, SlidingWindow};
    for algorithm in [FixedWindow, SlidingWindow] {
        let config = RateLimiterConfig::DEFAULT
            .max_requests(10)
            .window(SECOND * 10)
            .algorithm(algorithm);
        let limiter = limiter(&config);
        for _ in 0..7 {
            limiter.try_acquire().unwrap();
        }
        limiter.reconfigure(config.clone().max_requests(5)).unwrap();
        assert_eq!(admitted(&limiter), 0, "{algorithm:?}: seven of five");
        limiter
            .reconfigure(config.clone().max_requests(20))
            .unwrap();
        assert_eq!(admitted(&limiter), 13, "{algorithm:?}: seven of twenty");
    }
}

#[tokio::test(start_paused = true)]
async fn a_smaller_burst_clamps_a_token_bucket_and_refills_at_the_new_rate() {
    let config = RateLimiterConfig::DEFAULT.max_requests(10).window(SECOND);
    let limiter = limiter(&config);
    for _ in 0..6 {
        limiter.try_acquire().unwrap();
    }
    limiter.reconfigure(config.clone().burst(5)).unwrap();
    assert_eq!(
        admitted(&limiter),
        0,
        "six used, clamped to the five of the new burst"
    );
    advance(100 * MS).await;
    assert_eq!(admitted(&limiter), 1, "one token per 100ms, as before");
}

#[tokio::test(start_paused = true)]
async fn a_limiter_refuses_a_new_algorithm() {
    let config = RateLimiterConfig::DEFAULT;
    let limiter = limiter(&config);
    let error = limiter
        .reconfigure(config.clone().algorithm(resilience::Algorithm::FixedWindow))
        .unwrap_err();
    assert!(
        error.to_string().starts_with("`algorithm` cannot change"),
        "{error}"
    );
    assert_eq!(limiter.config(), &config);
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_shrunk_while_full_lets_no_call_start_until_under_the_new_limit() {
    let config = BulkheadConfig::DEFAULT
        .max_concurrent(3)
        .max_wait(Duration::ZERO);
    let bulkhead = Bulkhead::new("p", config.clone()).unwrap();
    let mut running: Vec<_> = (0..3).map(|_| bulkhead.try_acquire().unwrap()).collect();
    bulkhead
        .reconfigure(config.clone().max_concurrent(1))
        .unwrap();
    assert_eq!((bulkhead.active(), bulkhead.available()), (3, 0));
    running.pop();
    assert!(
        bulkhead.try_acquire().is_err(),
        "two run, over the new limit of one"
    );
    running.pop();
    assert!(bulkhead.try_acquire().is_err(), "one runs: the new limit");
    running.pop();
    let one = bulkhead.try_acquire().unwrap();
    assert!(bulkhead.try_acquire().is_err());
    drop(one);
    assert_eq!(
        (bulkhead.active(), bulkhead.available()),
        (0, 1),
        "no slot lost"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_grown_while_callers_wait_lets_them_in_at_once() {
    let config = BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(SECOND);
    let bulkhead = Arc::new(Bulkhead::new("p", config.clone()).unwrap());
    let held = bulkhead.try_acquire().unwrap();
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let bulkhead = Arc::clone(&bulkhead);
            tokio::spawn(async move { bulkhead.call(|| async { Ok::<_, Error>(()) }).await })
        })
        .collect();
    sleep(MS).await;
    assert_eq!(bulkhead.queued(), 2);
    bulkhead.reconfigure(config.max_concurrent(3)).unwrap();
    for waiter in waiters {
        waiter.await.unwrap().unwrap();
    }
    assert_eq!(bulkhead.active(), 1, "the waiters ran beside the held slot");
    drop(held);
    assert_eq!(bulkhead.available(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_running_call_keeps_the_timeout_it_started_with() {
    let timeout = Arc::new(Timeout::new("t", TimeoutConfig::DEFAULT.duration(SECOND)).unwrap());
    let running = {
        let timeout = Arc::clone(&timeout);
        tokio::spawn(async move {
            timeout
                .call(|| async {
                    sleep(2 * SECOND).await;
                    Ok::<_, Error>(())
                })
                .await
        })
    };
    sleep(MS).await;
    timeout
        .reconfigure(TimeoutConfig::DEFAULT.duration(5 * SECOND))
        .unwrap();
    let outcome = running.await.unwrap();
    assert!(matches!(outcome, Err(Error::Timeout { after, .. }) if after == SECOND));
    let next = timeout
        .call(|| async {
            sleep(2 * SECOND).await;
            Ok::<_, Error>(())
        })
        .await;
    assert_eq!(
        next,
        Ok(()),
        "a call that starts after the reload has the new limit"
    );
}

/// The attempts histogram keeps every bucket it has shown: a scrape's layout never
/// shrinks when a reload lowers `max_attempts`.
#[test]
fn a_retry_s_attempt_buckets_reach_the_highest_max_attempts_it_ran_with() {
    let config = RetryConfig::DEFAULT.max_attempts(3);
    let retry = Retry::new("buckets", config.clone()).unwrap();
    let bounds =
        |retry: &Retry| -> Vec<u32> { retry.stats().attempt_buckets().map(|(n, _)| n).collect() };
    assert_eq!(bounds(&retry), [1, 2, 3]);
    retry.reconfigure(config.clone().max_attempts(6)).unwrap();
    assert_eq!(bounds(&retry), [1, 2, 3, 4, 5, 6]);
    retry.reconfigure(config.clone()).unwrap();
    assert_eq!(bounds(&retry), [1, 2, 3, 4, 5, 6], "none removed");
}

#[tokio::test(start_paused = true)]
async fn a_running_retry_keeps_the_attempts_it_started_with() {
    let config = RetryConfig::DEFAULT.max_attempts(2).base_delay(SECOND);
    let retry = Arc::new(Retry::new("r", config.clone()).unwrap());
    let attempts = Arc::new(AtomicU32::new(0));
    let running = {
        let (retry, attempts) = (Arc::clone(&retry), Arc::clone(&attempts));
        tokio::spawn(async move {
            retry
                .call(|| async {
                    attempts.fetch_add(1, SeqCst);
                    Err::<(), _>(Error::Timeout {
                        name: "x".into(),
                        after: MS,
                    })
                })
                .await
        })
    };
    sleep(MS).await;
    retry.reconfigure(config.max_attempts(5)).unwrap();
    assert!(running.await.unwrap().is_err());
    assert_eq!(
        attempts.load(SeqCst),
        2,
        "the call ran with the attempts it started with"
    );
    assert_eq!(retry.config().max_attempts, 5);
}

struct Inside<'a>(&'a AtomicUsize);

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

/// Calls in flight while the limit moves between 2 and 8, on four threads, some cancelled
/// while they wait or run: at no moment do more calls run than the limit allows (the
/// larger of the old and the new while a shrink drains), and every slot comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bulkhead_resized_under_load_never_over_admits_and_returns_every_slot() {
    let config = BulkheadConfig::DEFAULT.max_concurrent(8).max_wait(SECOND);
    let bulkhead = Arc::new(Bulkhead::new("p", config.clone()).unwrap());
    // The most calls allowed to run now: raised before a grow, lowered only once a
    // shrink has drained to the new limit.
    let allowed = Arc::new(AtomicUsize::new(8));
    let (inside, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..32)
        .map(|i| {
            let (bulkhead, allowed, inside, most, stop) = (
                Arc::clone(&bulkhead),
                Arc::clone(&allowed),
                Arc::clone(&inside),
                Arc::clone(&most),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let mut calls = 0_u32;
                while !stop.load(SeqCst) && calls < 100_000 {
                    calls += 1;
                    let call = bulkhead.call(|| async {
                        let now = inside.fetch_add(1, SeqCst) + 1;
                        // Counted out when the call ends or is cancelled.
                        let _inside = Inside(&inside);
                        most.fetch_max(now, SeqCst);
                        assert!(now <= allowed.load(SeqCst), "{now} run, over the limit");
                        sleep(Duration::from_millis(1)).await;
                        Ok::<_, Error>(())
                    });
                    // Every seventh call is cancelled soon, queued or running.
                    if (calls + i) % 7 == 0 {
                        let _ = tokio::time::timeout(Duration::from_micros(500), call).await;
                    } else {
                        let _ = call.await;
                    }
                }
            })
        })
        .collect();
    for round in 0..100 {
        let (small, large) = (2, 8);
        if round % 2 == 0 {
            bulkhead
                .reconfigure(config.clone().max_concurrent(small))
                .unwrap();
            for spin in 0.. {
                assert!(spin < 10_000, "a shrink never drained");
                if bulkhead.active() <= small {
                    break;
                }
                sleep(Duration::from_micros(100)).await;
            }
            allowed.store(small, SeqCst);
        } else {
            allowed.store(large, SeqCst);
            bulkhead
                .reconfigure(config.clone().max_concurrent(large))
                .unwrap();
        }
        sleep(2 * MS).await;
    }
    stop.store(true, SeqCst);
    for caller in callers {
        caller.await.unwrap();
    }
    assert!(
        most.load(SeqCst) > 2,
        "the load never went past the small limit"
    );
    assert_eq!(
        (bulkhead.active(), bulkhead.queued(), bulkhead.available()),
        (0, 0, 8),
        "every slot came back"
    );
}
