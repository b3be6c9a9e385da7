//! The breaker's failure-rate and slow-call rules, its sliding windows and its recovery
//! backoff, on tokio's paused clock; and concurrent recording on real threads.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use resilience::{
    circuit_breaker, registry, CircuitBreaker, CircuitBreakerConfig, CircuitState, Error,
    SlidingWindow, WindowStats,
};
use tokio::time::advance;

mod support {
    pub mod cases;
}

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

fn down() -> Error {
    Error::Timeout {
        name: "downstream".into(),
        after: SECOND,
    }
}

fn rated(window: SlidingWindow, threshold: u32, minimum: u32) -> CircuitBreakerConfig {
    CircuitBreakerConfig::DEFAULT
        .failure_rate_threshold(threshold)
        .sliding_window(window)
        .minimum_calls(minimum)
}

fn breaker(config: CircuitBreakerConfig) -> CircuitBreaker {
    CircuitBreaker::new("rate", config).expect("valid config")
}

/// One call through the breaker that succeeds or fails after `takes`.
async fn call(breaker: &CircuitBreaker, fail: bool, takes: Duration) -> Result<(), Error> {
    breaker
        .call(|| async move {
            tokio::time::sleep(takes).await;
            if fail {
                Err(down())
            } else {
                Ok(())
            }
        })
        .await
}

fn window(breaker: &CircuitBreaker) -> (u64, u64, u64) {
    let WindowStats {
        calls,
        failures,
        slow_calls,
        ..
    } = breaker
        .stats()
        .window
        .expect("a rate-mode breaker has a window");
    (calls, failures, slow_calls)
}

#[tokio::test(start_paused = true)]
async fn a_rate_that_reaches_the_threshold_exactly_opens_it_and_one_below_does_not() {
    for (threshold, opens) in [(50, true), (51, false)] {
        let cb = breaker(rated(SlidingWindow::Calls(4), threshold, 4));
        for fail in [true, false, true, false] {
            let _ = call(&cb, fail, MS).await;
        }
        assert_eq!(cb.stats().failure_rate(), Some(50.0));
        assert_eq!(
            cb.is_open(),
            opens,
            "2 failures in 4 calls against {threshold}%"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn no_rate_is_computed_before_minimum_calls_and_the_call_that_reaches_it_decides() {
    let cb = breaker(rated(SlidingWindow::Calls(100), 50, 5));
    for _ in 0..4 {
        let _ = call(&cb, true, MS).await;
    }
    assert!(
        cb.is_closed(),
        "4 failures of 4 calls, but fewer than minimum_calls"
    );
    let stats = cb.stats();
    assert_eq!((stats.failure_rate(), stats.slow_call_rate()), (None, None));
    assert_eq!(window(&cb), (4, 4, 0));
    // A success can open it: it brings the window to minimum_calls at 80% failures.
    call(&cb, false, MS).await.unwrap();
    assert!(cb.is_open());
    assert_eq!(cb.stats().failure_rate(), Some(80.0));
}

#[tokio::test(start_paused = true)]
async fn minimum_calls_above_a_count_window_s_size_means_the_whole_window() {
    let cb = breaker(rated(SlidingWindow::Calls(3), 100, 50));
    for _ in 0..3 {
        let _ = call(&cb, true, MS).await;
    }
    assert!(
        cb.is_open(),
        "the window can never hold 50 calls: 3 are enough"
    );
    assert_eq!(cb.stats().window.unwrap().minimum_calls, 3);
}

#[tokio::test(start_paused = true)]
async fn a_count_window_forgets_exactly_the_oldest_call() {
    let cb = breaker(rated(SlidingWindow::Calls(3), 100, 3));
    let mut seen = Vec::new();
    for fail in [true, true, false, true, true, true] {
        let _ = call(&cb, fail, MS).await;
        seen.push((window(&cb), cb.state()));
    }
    use CircuitState::{Closed, Open};
    assert_eq!(
        seen,
        [
            ((1, 1, 0), Closed),
            ((2, 2, 0), Closed),
            ((3, 2, 0), Closed),
            ((3, 2, 0), Closed), // the first failure left as the fourth call came
            ((3, 2, 0), Closed), // the second failure left
            ((3, 3, 0), Open),   // the success left: three failures in a row
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_time_window_forgets_each_second_exactly_when_it_leaves() {
    // Seconds count from the breaker's creation; a 10 s window at second 10 holds seconds
    // 1 to 10.
    let cb = breaker(rated(SlidingWindow::Time(Duration::from_secs(10)), 100, 1));
    cb.record_success(); // second 0
    advance(Duration::from_millis(9_500)).await;
    cb.record_success(); // second 9
    advance(Duration::from_millis(499)).await; // 9.999 s
    assert_eq!(window(&cb), (2, 0, 0));
    advance(MS).await; // 10.000 s: second 0 leaves
    assert_eq!(window(&cb), (1, 0, 0));
    advance(Duration::from_millis(8_999)).await; // 18.999 s
    assert_eq!(window(&cb), (1, 0, 0));
    advance(MS).await; // 19.000 s: second 9 leaves
    assert_eq!(window(&cb), (0, 0, 0));
    assert_eq!(
        cb.stats().failure_rate(),
        None,
        "an empty window has no rate"
    );
}

#[tokio::test(start_paused = true)]
async fn a_time_window_idle_for_an_hour_holds_nothing_of_before() {
    // tower-resilience's bug: a window that never forgot, so that old failures kept
    // counting against a downstream long recovered.
    let cb = breaker(rated(SlidingWindow::Time(Duration::from_secs(60)), 50, 4));
    for _ in 0..3 {
        let _ = call(&cb, true, MS).await;
    }
    advance(Duration::from_secs(3600)).await;
    assert_eq!(window(&cb), (0, 0, 0));
    for _ in 0..4 {
        call(&cb, false, MS).await.unwrap();
    }
    let _ = call(&cb, true, MS).await;
    assert!(
        cb.is_closed(),
        "1 failure in 5 calls: the hour-old failures are gone"
    );
    assert_eq!(cb.stats().failure_rate(), Some(20.0));
}

fn slow(threshold: u32, minimum: u32) -> CircuitBreakerConfig {
    CircuitBreakerConfig::DEFAULT
        .slow_call_duration(SECOND)
        .slow_call_rate_threshold(threshold)
        .minimum_calls(minimum)
}

#[tokio::test(start_paused = true)]
async fn slow_successes_count_as_slow_and_open_it() {
    let cb = breaker(slow(50, 2));
    call(&cb, false, SECOND).await.unwrap();
    assert_eq!(
        window(&cb),
        (1, 0, 0),
        "exactly the duration is not slower than it"
    );
    call(&cb, false, SECOND + MS).await.unwrap();
    assert_eq!(window(&cb), (2, 0, 1));
    assert!(cb.is_open(), "1 slow call in 2: 50%");
    assert_eq!(cb.stats().slow_call_rate(), Some(50.0));
    assert_eq!(cb.stats().slow_calls, 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_failure_counts_as_slow_and_as_failed() {
    let config = slow(100, 2).failure_rate_threshold(100);
    let cb = breaker(config);
    let _ = call(&cb, true, 2 * SECOND).await;
    assert_eq!(window(&cb), (1, 1, 1));
    call(&cb, false, MS).await.unwrap();
    assert!(cb.is_closed(), "50% failed and 50% slow, against 100% each");
    assert_eq!(cb.stats().failure_rate(), Some(50.0));
    assert_eq!(cb.stats().slow_call_rate(), Some(50.0));
}

#[tokio::test(start_paused = true)]
async fn with_only_a_slow_call_rule_consecutive_failures_still_open_it() {
    let cb = breaker(slow(100, 10).failure_threshold(2));
    for _ in 0..2 {
        let _ = call(&cb, true, MS).await;
    }
    assert!(cb.is_open());
}

#[tokio::test(start_paused = true)]
async fn under_a_rate_rule_consecutive_failures_do_not_open_it() {
    let cb = breaker(rated(SlidingWindow::Calls(100), 90, 20).failure_threshold(1));
    for _ in 0..10 {
        let _ = call(&cb, true, MS).await;
    }
    assert!(
        cb.is_closed(),
        "failure_rate_threshold replaces failure_threshold"
    );
}

#[tokio::test(start_paused = true)]
async fn half_open_a_slow_probe_reopens_it_and_fast_probes_close_it_on_an_empty_window() {
    let config = slow(50, 2)
        .failure_rate_threshold(50)
        .recovery_timeout(Duration::from_secs(10))
        .success_threshold(2);
    let cb = breaker(config);
    let _ = call(&cb, true, MS).await;
    let _ = call(&cb, true, MS).await;
    assert!(cb.is_open());
    advance(Duration::from_secs(10)).await;
    call(&cb, false, 2 * SECOND).await.unwrap();
    assert!(cb.is_open(), "a slow probe is a failed probe");
    advance(Duration::from_secs(10)).await;
    call(&cb, false, MS).await.unwrap();
    assert!(cb.is_half_open(), "one of success_threshold probes");
    call(&cb, false, MS).await.unwrap();
    assert!(cb.is_closed());
    // Resilience4j's stale gauge kept reading the state before: here the closed phase
    // reads its own, empty, window.
    let stats = cb.stats();
    assert_eq!(window(&cb), (0, 0, 0));
    assert_eq!((stats.failure_rate(), stats.slow_call_rate()), (None, None));
}

/// Durations past 2^23 s (97 days) do not survive a round trip through `f64` seconds: the
/// open duration stays between `recovery_timeout` and its cap all the same (found by the
/// `hostile` property below).
#[test]
fn an_open_duration_too_long_for_an_f64_stays_within_its_bounds() {
    let recovery = Duration::new(40_469_218, 719_055_475);
    for (backoff, cap) in [
        (f64::MAX, recovery + Duration::from_nanos(3)),
        (1.000_000_000_000_001, recovery + Duration::from_nanos(9)),
        (2.0, Duration::MAX),
    ] {
        let config = CircuitBreakerConfig::DEFAULT
            .recovery_timeout(recovery)
            .recovery_backoff(backoff)
            .max_recovery_timeout(cap);
        assert_eq!(config.open_duration(0), recovery, "backoff {backoff:e}");
        for reopenings in [1, 2, 64, u32::MAX] {
            let open = config.open_duration(reopenings);
            assert!(
                (recovery..=cap).contains(&open),
                "backoff {backoff:e}, {reopenings} reopenings: {open:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_open_duration_grows_per_failed_probe_to_its_cap_and_starts_over_after_closing() {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .success_threshold(1)
        .recovery_timeout(Duration::from_secs(10))
        .recovery_backoff(2.0)
        .max_recovery_timeout(Duration::from_secs(35));
    let cb = breaker(config);
    // How long each open lasts, measured: rejected a millisecond before, a probe at it.
    let mut opens = Vec::new();
    let _ = call(&cb, true, Duration::ZERO).await;
    for _ in 0..4 {
        let retry_after = match call(&cb, false, Duration::ZERO).await {
            Err(Error::CircuitOpen { retry_after, .. }) => retry_after,
            other => panic!("expected a rejection, got {other:?}"),
        };
        advance(retry_after - MS).await;
        assert!(cb.is_open(), "still open a millisecond before");
        advance(MS).await;
        assert!(cb.is_half_open());
        opens.push(retry_after.as_secs());
        let _ = call(&cb, true, Duration::ZERO).await; // the probe fails
    }
    assert_eq!(
        opens,
        [10, 20, 35, 35],
        "x2 per failed probe, capped at 35 s"
    );
    advance(Duration::from_secs(35)).await;
    call(&cb, false, Duration::ZERO).await.unwrap();
    assert!(cb.is_closed());
    let _ = call(&cb, true, Duration::ZERO).await;
    let mut again = Vec::new();
    for _ in 0..2 {
        match call(&cb, false, Duration::ZERO).await {
            Err(Error::CircuitOpen { retry_after, .. }) => again.push(retry_after.as_secs()),
            other => panic!("expected a rejection, got {other:?}"),
        }
        advance(Duration::from_secs(again[again.len() - 1])).await;
        let _ = call(&cb, true, Duration::ZERO).await;
    }
    assert_eq!(again, [10, 20], "closing started the growth over");
}

#[tokio::test(start_paused = true)]
async fn reset_empties_the_window_and_the_backoff() {
    let config = rated(SlidingWindow::Calls(10), 50, 2)
        .recovery_timeout(Duration::from_secs(10))
        .recovery_backoff(3.0)
        .max_recovery_timeout(Duration::from_secs(100));
    let cb = breaker(config);
    let _ = call(&cb, true, MS).await;
    assert_eq!(window(&cb), (1, 1, 0));
    cb.reset();
    assert_eq!(window(&cb), (0, 0, 0));
    assert_eq!(cb.stats().slow_calls, 0);
    cb.record_failure();
    cb.record_failure();
    assert!(cb.is_open(), "recorded by hand, counted in the window");
    advance(Duration::from_secs(10)).await;
    cb.try_acquire().unwrap().failure();
    assert!(cb.is_open());
    cb.reset();
    cb.record_failure();
    cb.record_failure();
    match cb.try_acquire() {
        Err(Error::CircuitOpen { retry_after, .. }) => {
            assert_eq!(retry_after, Duration::from_secs(10))
        }
        other => panic!("expected a rejection, got {other:?}"),
    };
}

#[tokio::test(start_paused = true)]
async fn abandoned_calls_are_not_in_the_window() {
    let config = rated(SlidingWindow::Calls(10), 50, 1).slow_call_duration(MS / 2);
    let cb = breaker(config);
    drop(cb.try_acquire().unwrap());
    let running = call(&cb, true, SECOND);
    assert!(
        tokio::time::timeout(MS, running).await.is_err(),
        "cancelled mid-call"
    );
    assert_eq!(window(&cb), (0, 0, 0));
    assert_eq!(
        cb.stats().slow_calls,
        0,
        "dropped after 1 ms, but not a slow call"
    );
    assert!(cb.is_closed());
}

#[test]
fn concurrent_outcomes_are_all_counted_in_either_window() {
    const THREADS: u64 = 4;
    const EACH: u64 = 20_000;
    for window_kind in [
        SlidingWindow::Calls(1_000_000),
        SlidingWindow::Time(Duration::from_secs(3600)),
    ] {
        // 100% failures are never reached: one call in ten fails, after nine successes.
        let cb = breaker(rated(window_kind, 100, 1));
        let cb = &cb;
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(move || {
                    for i in 0..EACH {
                        let permit = cb.try_acquire().expect("closed");
                        if i % 10 == 9 {
                            permit.failure();
                        } else {
                            permit.success();
                        }
                    }
                });
            }
        });
        assert_eq!(
            window(cb),
            (THREADS * EACH, THREADS * EACH / 10, 0),
            "{window_kind:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_cancelled_on_other_threads_leave_the_window_whole() {
    // Rated only once the window holds all its calls, which these 4 000 never fill: with
    // a smaller minimum, a failure that happened to be the first outcome recorded would be
    // a rate of 100 % and open the breaker (and clear its window) mid-test.
    let cb = Arc::new(breaker(rated(SlidingWindow::Calls(100_000), 100, 100_000)));
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let cb = Arc::clone(&cb);
            tokio::spawn(async move {
                for i in 0..500u32 {
                    let fail = (i + task) % 7 == 0;
                    let body = cb.call(|| async move {
                        tokio::task::yield_now().await;
                        if fail {
                            Err(down())
                        } else {
                            Ok(())
                        }
                    });
                    if i % 5 == 0 {
                        // Dropped after its first poll, at its `yield_now`: abandoned, in no
                        // window.
                        let mut body = std::pin::pin!(body);
                        std::future::poll_fn(|cx| {
                            let _ = body.as_mut().poll(cx);
                            Poll::Ready(())
                        })
                        .await;
                    } else {
                        let _ = body.await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stats = cb.stats();
    let window = stats.window.unwrap();
    assert_eq!(window.calls, stats.successes + stats.failures);
    assert_eq!(window.failures, stats.failures);
    assert!(stats.abandoned > 0 && stats.failures > 0);
    assert!(cb.is_closed());
}

#[circuit_breaker(
    name = "rate::attribute",
    failure_rate_threshold = 50,
    slow_call_duration = "500ms",
    slow_call_rate_threshold = 80,
    sliding_window = "30s",
    minimum_calls = 4,
    recovery_backoff = 1.5,
    max_recovery_timeout = "5m"
)]
async fn attribute(fail: bool) -> Result<(), Error> {
    if fail {
        Err(down())
    } else {
        Ok(())
    }
}

#[circuit_breaker(name = "rate::count", failure_rate_threshold = 25, sliding_window = 8)]
async fn counted() -> Result<(), Error> {
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_attribute_arguments_build_the_config() {
    attribute(false).await.unwrap();
    counted().await.unwrap();
    let expected = CircuitBreakerConfig::DEFAULT
        .failure_rate_threshold(50)
        .slow_call_duration(Duration::from_millis(500))
        .slow_call_rate_threshold(80)
        .sliding_window(SlidingWindow::Time(Duration::from_secs(30)))
        .minimum_calls(4)
        .recovery_backoff(1.5)
        .max_recovery_timeout(Duration::from_secs(300));
    let cb = registry().circuit_breaker("rate::attribute").unwrap();
    assert_eq!(cb.config(), &expected);
    let counted = registry().circuit_breaker("rate::count").unwrap();
    assert_eq!(counted.config().sliding_window, SlidingWindow::Calls(8));
    for _ in 0..3 {
        let _ = attribute(true).await;
    }
    assert!(cb.is_open(), "3 failures in 4 calls");
}

mod hostile {
    //! Any values at all for the new fields: refused with an error or accepted, never a
    //! panic, and an accepted breaker still opens and bounds its open duration.

    use super::*;
    use proptest::prelude::*;

    fn duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            Just(SECOND),
            any::<u64>().prop_map(Duration::from_nanos),
            (0u64..5_000).prop_map(Duration::from_secs),
        ]
    }

    fn count() -> impl Strategy<Value = u32> {
        prop_oneof![
            Just(0u32),
            Just(1),
            Just(100),
            Just(101),
            Just(u32::MAX),
            any::<u32>()
        ]
    }

    fn small_count() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0u32), Just(1), Just(2_000_000), 1u32..200]
    }

    proptest! {
        // No persistence file, as in the other properties: a case found is kept as a test of
        // its own (`an_open_duration_too_long_for_an_f64_stays_within_its_bounds`). More
        // cases: `PROPTEST_CASES=20000`.
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(support::cases::cases(64)) })]

        #[test]
        fn hostile_rate_configs_are_refused_with_an_error_never_a_panic(
            rate in proptest::option::of(count()),
            slow in proptest::option::of(duration()),
            slow_rate in count(),
            by_calls in any::<bool>(),
            calls in small_count(),
            span in duration(),
            minimum in count(),
            backoff in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::MAX), Just(0.5), Just(1.0), Just(2.0), any::<f64>()],
            recovery in duration(),
            max in duration(),
        ) {
            let window = if by_calls { SlidingWindow::Calls(calls) } else { SlidingWindow::Time(span) };
            let mut config = CircuitBreakerConfig::DEFAULT
                .slow_call_rate_threshold(slow_rate)
                .sliding_window(window)
                .minimum_calls(minimum)
                .recovery_backoff(backoff)
                .recovery_timeout(recovery)
                .max_recovery_timeout(max);
            if let Some(rate) = rate {
                config = config.failure_rate_threshold(rate);
            }
            if let Some(slow) = slow {
                config = config.slow_call_duration(slow);
            }
            let built = CircuitBreaker::new("hostile", config.clone());
            prop_assert_eq!(built.is_ok(), config.validate().is_ok());
            let Ok(cb) = built else { return Ok(()) };
            let longest = config.recovery_timeout.max(config.max_recovery_timeout);
            for reopenings in [0, 1, 2, 64, 2000, u32::MAX] {
                let open = config.open_duration(reopenings);
                prop_assert!(open >= config.recovery_timeout && open <= longest, "{open:?}");
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                // Failures only: every rule that counts failures opens by the time the
                // window is full, and nothing panics on the way.
                for _ in 0..200 {
                    let _ = call(&cb, true, MS).await;
                }
                let stats = cb.stats();
                let rate = stats.failure_rate();
                assert!(rate.is_none_or(|rate| (0.0..=100.0).contains(&rate)), "{rate:?}");
                if config.is_windowed() && config.failure_rate_threshold.is_some() && config.rated_after() <= 100 {
                    assert!(!cb.is_closed(), "{config:?}");
                }
                if !config.is_windowed() || config.failure_rate_threshold.is_none() {
                    assert!(!cb.is_closed(), "consecutive failures: {config:?}");
                }
            });
        }
    }
}
