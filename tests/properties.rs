//! Properties over random inputs, on tokio's paused clock: rate limiters never admit more
//! than their definition allows, retries never run more than `max_attempts` and wait exactly
//! what the formula says, and no config, however hostile, makes a policy panic.

use std::time::Duration;

use proptest::prelude::*;
use resilience::{
    Algorithm, Backoff, Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, Error,
    Jitter, RateLimiter, RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};
use tokio::time::{advance, Instant};

mod support {
    pub mod cases;
}
use support::cases::cases;

fn paused<F: std::future::Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(future)
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::TokenBucket),
        Just(Algorithm::SlidingWindow),
        Just(Algorithm::FixedWindow)
    ]
}

/// Admission times (ms since the limiter's creation) of `try_acquire` calls spaced by `gaps`.
/// The limiter is made on the clock that measures it: made under another runtime, its
/// windows would start when that one's clock did, off from `start` by however long the
/// host took in between.
fn admitted(config: RateLimiterConfig, gaps: &[u64]) -> Vec<u64> {
    paused(async {
        let limiter = RateLimiter::new("prop", config).unwrap();
        let start = Instant::now();
        let mut times = Vec::new();
        for &gap in gaps {
            advance(Duration::from_millis(gap)).await;
            if limiter.try_acquire().is_ok() {
                times.push(start.elapsed().as_millis() as u64);
            }
        }
        times
    })
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases(128)) })]

    #[test]
    fn a_rate_limiter_never_admits_more_than_its_definition_allows(
        algorithm in algorithm(),
        max in 1u32..6,
        window_ms in 1u64..2000,
        burst in proptest::option::of(1u32..8),
        gaps in proptest::collection::vec(prop_oneof![Just(0u64), 0u64..50, 0u64..3000], 1..120),
    ) {
        let burst = if algorithm == Algorithm::TokenBucket { burst } else { None };
        let config = RateLimiterConfig::DEFAULT.max_requests(max).window(Duration::from_millis(window_ms)).algorithm(algorithm);
        let config = burst.map_or(config.clone(), |burst| config.burst(burst));
        let times = admitted(config, &gaps);
        match algorithm {
            Algorithm::SlidingWindow => {
                for (i, &t) in times.iter().enumerate() {
                    let in_span = times[i..].iter().take_while(|&&u| u < t + window_ms).count();
                    prop_assert!(in_span <= max as usize, "{in_span} admitted in [{t}, {t} + {window_ms}): {times:?}");
                }
            }
            Algorithm::FixedWindow => {
                let mut per_window = std::collections::HashMap::<u64, u32>::new();
                for &t in &times {
                    *per_window.entry(t / window_ms).or_default() += 1;
                }
                prop_assert!(per_window.values().all(|&n| n <= max), "{per_window:?}");
            }
            Algorithm::TokenBucket => {
                // GCRA: in any span of length L, at most `burst + floor(L / interval)`.
                let interval_ns = (window_ms * 1_000_000).div_ceil(u64::from(max));
                let capacity = u64::from(burst.unwrap_or(max));
                for i in 0..times.len() {
                    for j in i..times.len() {
                        let span_ns = (times[j] - times[i]) * 1_000_000;
                        prop_assert!((j - i + 1) as u64 <= capacity + span_ns / interval_ns, "{times:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_waiter_that_gives_up_consumes_nothing(algorithm in algorithm(), max in 1u32..4, give_up_ms in 1u64..900) {
        paused(async {
            let config = RateLimiterConfig::DEFAULT.max_requests(max).window(Duration::from_secs(1)).algorithm(algorithm).max_wait(Duration::from_secs(5));
            let limiter = RateLimiter::new("prop::give_up", config).unwrap();
            for _ in 0..max {
                limiter.try_acquire().unwrap();
            }
            let start = Instant::now();
            let waiter = tokio::time::timeout(Duration::from_millis(give_up_ms), limiter.acquire()).await;
            let gave_up = waiter.is_err();
            // A window after the first permits (and a tick, for the token interval rounded
            // up), the whole quota is back, less what the waiter took if it did not give up.
            tokio::time::sleep_until(start + Duration::from_millis(1001)).await;
            // Bounded: a limiter that stopped limiting fails here instead of hanging.
            let available = (0..=max).take_while(|_| limiter.try_acquire().is_ok()).count() as u32;
            let expected = if gave_up { max } else { max - 1 };
            assert_eq!(available, expected, "{algorithm:?}: gave up: {gave_up}");
        });
    }

    #[test]
    fn retry_runs_at_most_max_attempts_and_waits_what_the_formula_says(
        max_attempts in 1u32..7,
        base_ms in 0u64..500,
        extra_ms in 0u64..5000,
        exponential_base in 1.0f64..4.0,
        backoff in prop_oneof![Just(Backoff::Exponential), Just(Backoff::Linear), Just(Backoff::Constant)],
        jitter in prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)],
        seed in any::<u64>(),
    ) {
        let config = RetryConfig::DEFAULT.max_attempts(max_attempts).base_delay(Duration::from_millis(base_ms)).max_delay(Duration::from_millis(base_ms + extra_ms)).exponential_base(exponential_base).backoff(backoff).jitter(jitter);
        let expected: Vec<Duration> = (0..max_attempts.saturating_sub(1)).map(|n| config.delay(n)).collect();
        let starts = paused(async {
            let retry = Retry::new("prop::retry", config).unwrap();
            retry.reseed(seed);
            let mut starts = Vec::new();
            let result: Result<(), Error> = retry
                .call(|| {
                    starts.push(Instant::now());
                    async { Err(Error::BulkheadFull { name: "x".into(), max_concurrent: 1 }) }
                })
                .await;
            assert!(result.is_err());
            starts
        });
        prop_assert_eq!(starts.len(), max_attempts as usize);
        // tokio's timer wakes on whole milliseconds: a sleep of `d` ends at `d` rounded up.
        let tick = Duration::from_millis(1);
        for (n, pair) in starts.windows(2).enumerate() {
            let waited = pair[1] - pair[0];
            let d = expected[n];
            let (low, high) = match jitter {
                Jitter::None => (d, d),
                Jitter::Full => (Duration::ZERO, d),
                Jitter::Equal => (d / 2, d * 3 / 2),
            };
            prop_assert!(waited >= low && waited < high + tick, "{jitter:?}: waited {waited:?}, expected [{low:?}, {high:?}]");
        }
    }

    #[test]
    fn hostile_configs_are_refused_with_an_error_never_a_panic(
        count in prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>(), 1u32..80],
        other in prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>(), 1u32..8],
        probes in proptest::option::of(prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>(), 1u32..8]),
        duration in prop_oneof![Just(Duration::ZERO), Just(Duration::MAX), Just(Duration::from_nanos(1)), any::<u64>().prop_map(Duration::from_nanos), (1u64..100_000).prop_map(Duration::from_millis)],
        second in prop_oneof![Just(Duration::ZERO), Just(Duration::MAX), any::<u64>().prop_map(Duration::from_nanos)],
        float in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(0.0), Just(1.0), any::<f64>()],
        elapsed in proptest::option::of(prop_oneof![Just(Duration::ZERO), Just(Duration::MAX), any::<u64>().prop_map(Duration::from_nanos)]),
        slots in prop_oneof![Just(0usize), Just(usize::MAX), any::<usize>()],
        algorithm in algorithm(),
    ) {
        paused(async {
            let breaker = CircuitBreakerConfig::DEFAULT.failure_threshold(count).success_threshold(other).recovery_timeout(duration);
            let breaker = probes.map_or(breaker.clone(), |probes| breaker.half_open_max_calls(probes));
            assert_eq!(CircuitBreaker::new("h", breaker.clone()).is_ok(), breaker.validate().is_ok());
            if let Ok(cb) = CircuitBreaker::new("h", breaker.clone()) {
                // An accepted breaker limits: it opens at exactly `failure_threshold`
                // consecutive failures (checked up to 64), then rejects with a wait.
                let threshold = breaker.failure_threshold.min(64);
                for n in 1..threshold {
                    let _ = cb.call(|| async { Err::<(), _>(Error::Timeout { name: "x".into(), after: Duration::ZERO }) }).await;
                    assert!(cb.is_closed(), "open after {n} of {} failures", breaker.failure_threshold);
                }
                cb.record_failure();
                assert_eq!(cb.is_open(), breaker.failure_threshold <= 64, "{breaker:?}");
                if cb.is_open() {
                    let rejected = cb.call(|| async { Ok::<_, Error>(()) }).await;
                    let Err(Error::CircuitOpen { retry_after, .. }) = rejected else {
                        panic!("an open breaker let a call through: {rejected:?}");
                    };
                    // The deadline is kept in whole milliseconds, rounded up.
                    let most = breaker.recovery_timeout + Duration::from_millis(1);
                    assert!(!retry_after.is_zero() && retry_after <= most, "{retry_after:?}");
                }
                let _ = (cb.state(), cb.can_execute(), cb.stats());
            }

            let retry = RetryConfig::DEFAULT.max_attempts(count % 4).base_delay(duration).max_delay(second).exponential_base(float).backoff(Backoff::Exponential).jitter(Jitter::Equal);
            let retry = elapsed.map_or(retry.clone(), |elapsed| retry.max_elapsed(elapsed));
            assert_eq!(Retry::new("h", retry.clone()).is_ok(), retry.validate().is_ok());
            if let Ok(policy) = Retry::new("h", retry.clone()) {
                // An accepted retry limits: at most `max_attempts` attempts, none starting
                // after `max_elapsed`.
                let start = Instant::now();
                let mut starts = Vec::new();
                let sleeping = policy.call(|| {
                    starts.push(start.elapsed());
                    async { Err::<(), _>(Error::Timeout { name: "x".into(), after: Duration::ZERO }) }
                });
                let finished = tokio::time::timeout(Duration::from_secs(1), sleeping).await.is_ok();
                assert!(!starts.is_empty() && starts.len() <= retry.max_attempts as usize, "{starts:?}");
                if let Some(max_elapsed) = retry.max_elapsed {
                    assert!(starts.iter().all(|&at| at <= max_elapsed), "{starts:?} past {max_elapsed:?}");
                } else if finished {
                    assert_eq!(starts.len(), retry.max_attempts as usize);
                }
            }

            let timeout = TimeoutConfig::DEFAULT.duration(duration);
            assert_eq!(Timeout::new("h", timeout.clone()).is_ok(), timeout.validate().is_ok());
            if let Ok(timeout) = Timeout::new("h", timeout) {
                let _ = timeout.call(|| async { Ok::<_, Error>(()) }).await;
            }

            let bulkhead = BulkheadConfig::DEFAULT.max_concurrent(slots).max_wait(duration);
            assert_eq!(Bulkhead::new("h", bulkhead.clone()).is_ok(), bulkhead.validate().is_ok());
            if let Ok(bulkhead) = Bulkhead::new("h", bulkhead) {
                let _ = bulkhead.call(|| async { Ok::<_, Error>(()) }).await;
            }

            let limiter = RateLimiterConfig::DEFAULT.max_requests(count).window(duration).algorithm(algorithm).max_wait(second);
            let limiter = probes.map_or(limiter.clone(), |probes| limiter.burst(probes));
            assert_eq!(RateLimiter::new("h", limiter.clone()).is_ok(), limiter.validate().is_ok());
            if let Ok(limiter) = RateLimiter::new("h", limiter) {
                for _ in 0..3 {
                    let _ = tokio::time::timeout(Duration::from_secs(1), limiter.acquire()).await;
                }
            }
        });
    }
}
