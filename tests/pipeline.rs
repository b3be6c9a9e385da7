//! The pipeline by hand: the layers the attributes stack, composed without macros, and the
//! rules for rejections travelling through them.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilience::pipeline::{body, display, finish, Failure};
use resilience::{
    Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, Error, Jitter, RateLimiter,
    RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};
use tokio::time::{sleep, Instant};

const MS: Duration = Duration::from_millis(1);

fn retry(name: &str, max_attempts: u32) -> Retry {
    Retry::new(
        name,
        RetryConfig::DEFAULT
            .max_attempts(max_attempts)
            .base_delay(MS * 10)
            .jitter(Jitter::None),
    )
    .unwrap()
}

fn breaker(name: &str, failure_threshold: u32) -> CircuitBreaker {
    CircuitBreaker::new(
        name,
        CircuitBreakerConfig::DEFAULT.failure_threshold(failure_threshold),
    )
    .unwrap()
}

#[derive(Debug, PartialEq)]
enum AppError {
    Down,
    Rejected(Error),
}

// What the retry events show of the error.
impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Rejected(error)
    }
}

#[tokio::test(start_paused = true)]
async fn retry_does_not_retry_an_open_circuit() {
    let (retry, breaker) = (retry("p::retry", 5), breaker("p::cb", 1));
    breaker.record_failure();
    let attempts = AtomicU32::new(0);
    let outcome = retry
        .layer(
            (),
            |_: &AppError| true,
            |_| None,
            display,
            |()| async {
                attempts.fetch_add(1, SeqCst);
                (
                    (),
                    breaker
                        .layer(|_| true, || body(async { Ok::<u8, AppError>(1) }))
                        .await,
                )
            },
        )
        .await;
    assert!(matches!(
        outcome,
        Err(Failure::Rejected(Error::CircuitOpen { .. }))
    ));
    assert_eq!(attempts.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_retries_a_timeout() {
    let (retry, timeout) = (
        retry("p::retry_t", 3),
        Timeout::new("p::t", TimeoutConfig::DEFAULT.duration(MS * 100)).unwrap(),
    );
    let attempts = AtomicU32::new(0);
    let start = Instant::now();
    let outcome = retry
        .layer(
            (),
            |_: &AppError| true,
            |_| None,
            display,
            |()| async {
                let n = attempts.fetch_add(1, SeqCst);
                let attempt = timeout.layer(|| {
                    body(async move {
                        if n == 0 {
                            sleep(Duration::from_secs(1)).await;
                        }
                        Ok::<u32, AppError>(n)
                    })
                });
                ((), attempt.await)
            },
        )
        .await;
    assert_eq!(outcome, Ok(1));
    assert_eq!(start.elapsed(), MS * 110);
}

#[tokio::test(start_paused = true)]
async fn retry_waits_at_least_the_retry_after_of_a_full_limiter() {
    let retry = retry("p::retry_rl", 2);
    let limiter = RateLimiter::new(
        "p::rl",
        RateLimiterConfig::DEFAULT
            .max_requests(1)
            .window(Duration::from_secs(3)),
    )
    .unwrap();
    limiter.try_acquire().unwrap();
    let start = Instant::now();
    let outcome = retry
        .layer(
            (),
            |_: &AppError| true,
            |_| None,
            display,
            |()| async {
                (
                    (),
                    limiter
                        .layer(|| body(async { Ok::<(), AppError>(()) }))
                        .await,
                )
            },
        )
        .await;
    assert_eq!(outcome, Ok(()));
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_breaker_counts_a_timeout_but_not_load_shedding() {
    let breaker = breaker("p::cb_kinds", 1);
    let bulkhead = Bulkhead::new(
        "p::bh",
        BulkheadConfig::DEFAULT
            .max_concurrent(1)
            .max_wait(Duration::ZERO),
    )
    .unwrap();
    let timeout = Timeout::new("p::t2", TimeoutConfig::DEFAULT.duration(MS)).unwrap();
    let hold = bulkhead.layer(|| {
        body(async {
            sleep(Duration::from_secs(1)).await;
            Ok::<(), AppError>(())
        })
    });
    let shed = async {
        tokio::task::yield_now().await;
        breaker
            .layer(
                |_| true,
                || bulkhead.layer(|| body(async { Ok::<(), AppError>(()) })),
            )
            .await
    };
    let (_, shed) = tokio::join!(hold, shed);
    assert!(matches!(
        shed,
        Err(Failure::Rejected(Error::BulkheadFull { .. }))
    ));
    assert!(
        breaker.is_closed(),
        "load shedding says nothing of the downstream"
    );
    let timed_out = breaker
        .layer(
            |_| true,
            || {
                timeout.layer(|| {
                    body(async {
                        sleep(Duration::from_secs(1)).await;
                        Ok::<(), AppError>(())
                    })
                })
            },
        )
        .await;
    assert!(matches!(
        timed_out,
        Err(Failure::Rejected(Error::Timeout { .. }))
    ));
    assert!(breaker.is_open(), "a timeout is the downstream's failure");
}

#[tokio::test(start_paused = true)]
async fn only_the_outermost_layer_converts_into_the_caller_s_error() {
    let (retry, breaker) = (retry("p::outer", 2), breaker("p::outer_cb", 1));
    breaker.record_failure();
    let outcome = retry
        .layer(
            (),
            |_: &AppError| true,
            |_| None,
            display,
            |()| async {
                (
                    (),
                    breaker
                        .layer(|_| true, || body(async { Err::<(), _>(AppError::Down) }))
                        .await,
                )
            },
        )
        .await;
    let Err(Failure::Rejected(rejection)) = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.name(), "p::outer_cb");
    let converted: Result<(), AppError> = finish(outcome);
    assert!(matches!(
        converted,
        Err(AppError::Rejected(Error::CircuitOpen { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_retry_lends_exclusive_references_to_each_attempt() {
    let retry = retry("p::lend", 3);
    let mut log = Vec::new();
    let outcome = retry
        .layer(
            &mut log,
            |_: &AppError| true,
            |_| None,
            display,
            |log: &mut Vec<u32>| async move {
                log.push(log.len() as u32);
                let result = if log.len() < 3 {
                    Err(Failure::Inner(AppError::Down))
                } else {
                    Ok(log.len())
                };
                (log, result)
            },
        )
        .await;
    assert_eq!(outcome, Ok(3));
    assert_eq!(log, [0, 1, 2]);
}
