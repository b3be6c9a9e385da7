//! Time across policies: an instance outlives the runtime (and the paused clock) it was
//! first used on, and a timeout's clock starts when the call does.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

use resilience::{
    timeout, Algorithm, CircuitBreaker, CircuitBreakerConfig, CircuitState, Error, RateLimiter,
    RateLimiterConfig,
};
use tokio::time::{advance, Instant};

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// What a test suite does when instances are shared: the first test advances its paused
/// clock and only then uses them; the next test's clock starts where the real time is,
/// behind that first use. Every instance must start over there, never stand still.
#[test]
fn instances_first_used_late_in_one_runtime_start_over_in_the_next() {
    let breaker = CircuitBreaker::new(
        "time::breaker",
        CircuitBreakerConfig::DEFAULT
            .failure_threshold(1)
            .recovery_timeout(Duration::from_secs(30)),
    )
    .unwrap();
    let limiters = [
        Algorithm::TokenBucket,
        Algorithm::FixedWindow,
        Algorithm::SlidingWindow,
    ]
    .map(|algorithm| {
        let config = RateLimiterConfig::DEFAULT
            .max_requests(1)
            .window(Duration::from_secs(60))
            .algorithm(algorithm);
        RateLimiter::new("time::limiter", config).unwrap()
    });

    paused_runtime().block_on(async {
        advance(Duration::from_secs(150)).await;
        breaker.record_failure();
        assert_eq!(breaker.state(), CircuitState::Open);
        for limiter in &limiters {
            limiter.try_acquire().unwrap();
            assert!(limiter.try_acquire().is_err());
        }
    });

    paused_runtime().block_on(async {
        let probe = breaker.call(|| async { Ok::<_, Error>(()) }).await;
        assert_eq!(probe, Ok(()), "the breaker is stuck open");
        for limiter in &limiters {
            let config = limiter.config().algorithm;
            assert_eq!(limiter.try_acquire(), Ok(()), "{config:?} did not refill");
            assert!(limiter.try_acquire().is_err(), "{config:?} over its quota");
            // And time runs on from there, on this runtime's clock.
            advance(Duration::from_secs(60)).await;
            assert_eq!(limiter.try_acquire(), Ok(()), "{config:?} stands still");
        }
        // Opened again on this clock, the breaker recovers on it.
        breaker.record_failure();
        let Err(Error::CircuitOpen { retry_after, .. }) =
            breaker.call(|| async { Ok::<_, Error>(()) }).await
        else {
            panic!("open again")
        };
        assert_eq!(retry_after, Duration::from_secs(30));
        advance(retry_after).await;
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
    });
}

#[tokio::test]
async fn blocking_work_before_the_first_await_counts_against_the_timeout() {
    #[timeout("400ms")]
    async fn blocks_then_finishes() -> Result<(), Error> {
        // Real blocking work, as a synchronous client or a heavy parse does it.
        std::thread::sleep(Duration::from_millis(500));
        tokio::task::yield_now().await;
        Ok(())
    }
    let start = std::time::Instant::now();
    assert!(matches!(
        blocks_then_finishes().await,
        Err(Error::Timeout { .. })
    ));
    // It is not given the time again after its first poll (that would end at 900ms).
    assert!(
        start.elapsed() < Duration::from_millis(800),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn the_timeout_counts_from_the_call_not_from_the_first_await() {
    #[timeout("200ms")]
    async fn spends_300ms_before_its_first_await() -> Result<(), Error> {
        // Moves the paused clock synchronously, as blocking work moves a real one: the
        // first poll of `advance` moves the clock before it yields.
        let mut advanced = pin!(advance(Duration::from_millis(300)));
        let _ = advanced
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        tokio::task::yield_now().await;
        Ok(())
    }
    let start = Instant::now();
    let outcome = spends_300ms_before_its_first_await().await;
    assert!(
        matches!(outcome, Err(Error::Timeout { after, .. }) if after == Duration::from_millis(200)),
        "{outcome:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn a_ready_body_is_not_timed_out_and_a_slow_one_is_cut_at_the_deadline() {
    #[timeout("200ms")]
    async fn takes(ms: u64) -> Result<u64, Error> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(ms)
    }
    let start = Instant::now();
    assert_eq!(takes(0).await, Ok(0));
    assert_eq!(takes(199).await, Ok(199));
    assert!(takes(201).await.is_err());
    assert_eq!(start.elapsed(), Duration::from_millis(399));
}
