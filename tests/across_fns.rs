//! Rejections across guarded fns: a guarded fn that calls a guarded fn receives the callee's
//! rejection inside its own error type, and its own layers still read it as a rejection,
//! for every error type that implements `AsRejection`: `resilience::Error`, `anyhow::Error`,
//! boxed errors and a user enum. The caller receives its error unchanged.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilience::{AsRejection, Error};

#[derive(Debug)]
enum AppError {
    Down,
    Rejected(Error),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Rejected(error)
    }
}

resilience::as_rejection!(AppError::Rejected);

type Boxed = Box<dyn std::error::Error + Send + Sync>;

/// The rejection an error carries, by its kind: what the caller sees is its own error type
/// with the callee's rejection inside.
fn kind(error: &impl AsRejection) -> &'static str {
    match error.as_rejection() {
        Some(Error::CircuitOpen { .. }) => "circuit open",
        Some(Error::RateLimited { .. }) => "rate limited",
        Some(Error::Timeout { .. }) => "timeout",
        Some(_) => "other rejection",
        None => "not a rejection",
    }
}

/// The same four cases for each error type: `$down` is an error of the downstream.
macro_rules! across {
    ($module:ident, $error:ty, $down:expr) => {
        mod $module {
            use super::*;
            use resilience::{circuit_breaker, rate_limit, registry, retry, timeout};
            use tokio::time::{sleep, Instant};

            fn down() -> $error {
                $down
            }

            fn never(_: &$error) -> bool {
                false
            }

            #[tokio::test(start_paused = true)]
            async fn an_outer_breaker_ignores_an_inner_rate_limit() {
                #[rate_limit(max_requests = 1, window = "1h")]
                async fn callee_limited() -> Result<(), $error> {
                    Ok(())
                }
                #[circuit_breaker(failure_threshold = 1)]
                async fn caller_limited() -> Result<(), $error> {
                    callee_limited().await
                }
                assert!(caller_limited().await.is_ok());
                let limited = caller_limited().await.unwrap_err();
                assert_eq!(kind(&limited), "rate limited", "{limited:?}");
                let breaker = registry()
                    .circuit_breaker(concat!(module_path!(), "::caller_limited"))
                    .unwrap();
                assert!(
                    breaker.is_closed(),
                    "a callee's rate limit is not an outage"
                );
                let stats = breaker.stats();
                assert_eq!(
                    (stats.successes, stats.failures, stats.abandoned),
                    (1, 0, 1)
                );
            }

            #[tokio::test(start_paused = true)]
            async fn an_outer_breaker_counts_an_inner_timeout() {
                #[timeout("10ms")]
                async fn callee_timed_out() -> Result<(), $error> {
                    sleep(Duration::from_secs(1)).await;
                    Ok(())
                }
                // `failure_if` says no error of the body is a failure; a timeout still is.
                #[circuit_breaker(failure_threshold = 1, failure_if = never)]
                async fn caller_timed_out() -> Result<(), $error> {
                    callee_timed_out().await
                }
                let timed_out = caller_timed_out().await.unwrap_err();
                assert_eq!(kind(&timed_out), "timeout", "{timed_out:?}");
                let breaker = registry()
                    .circuit_breaker(concat!(module_path!(), "::caller_timed_out"))
                    .unwrap();
                assert!(breaker.is_open());
            }

            #[tokio::test(start_paused = true)]
            async fn an_outer_retry_does_not_retry_an_inner_open_breaker() {
                static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
                #[circuit_breaker(failure_threshold = 1, recovery_timeout = "1h")]
                async fn callee_open() -> Result<(), $error> {
                    Err(down())
                }
                #[retry(max_attempts = 5, base_delay = "10ms", jitter = false)]
                async fn caller_open() -> Result<(), $error> {
                    ATTEMPTS.fetch_add(1, SeqCst);
                    callee_open().await
                }
                let start = Instant::now();
                let open = caller_open().await.unwrap_err();
                assert_eq!(kind(&open), "circuit open", "{open:?}");
                assert_eq!(
                    ATTEMPTS.load(SeqCst),
                    2,
                    "the first failure opened the callee's breaker; its rejection ended the call"
                );
                assert_eq!(start.elapsed(), Duration::from_millis(10));
            }

            #[tokio::test(start_paused = true)]
            async fn an_outer_retry_waits_out_an_inner_rate_limit() {
                #[rate_limit(max_requests = 1, window = "1s")]
                async fn callee_waits() -> Result<(), $error> {
                    Ok(())
                }
                #[retry(max_attempts = 3, base_delay = "10ms", jitter = false)]
                async fn caller_waits() -> Result<(), $error> {
                    callee_waits().await
                }
                assert!(caller_waits().await.is_ok());
                let start = Instant::now();
                assert!(
                    caller_waits().await.is_ok(),
                    "the retry waited for a permit"
                );
                assert_eq!(start.elapsed(), Duration::from_secs(1));
            }
        }
    };
}

// A `resilience::Error` is always a rejection: the downstream's failure is a timeout.
across!(
    resilience_error,
    Error,
    Error::Timeout {
        name: "downstream".into(),
        after: Duration::from_secs(1)
    }
);
across!(anyhow_error, anyhow::Error, anyhow::anyhow!("down"));
across!(boxed_error, Boxed, "down".into());
across!(user_enum, AppError, AppError::Down);

#[tokio::test(start_paused = true)]
async fn context_added_on_the_way_keeps_the_rejection_found() {
    use anyhow::Context as _;
    use resilience::{circuit_breaker, rate_limit, registry};

    #[rate_limit(max_requests = 1, window = "1h")]
    async fn callee_context() -> anyhow::Result<()> {
        Ok(())
    }
    #[circuit_breaker(failure_threshold = 1)]
    async fn caller_context() -> anyhow::Result<()> {
        callee_context().await.context("loading the cart")
    }
    caller_context().await.unwrap();
    let error = caller_context().await.unwrap_err();
    assert_eq!(error.to_string(), "loading the cart");
    assert_eq!(kind(&error), "rate limited");
    assert!(registry()
        .circuit_breaker(concat!(module_path!(), "::caller_context"))
        .unwrap()
        .is_closed());
}

#[tokio::test(start_paused = true)]
async fn an_error_type_without_the_trait_compiles_and_counts_as_the_body_s() {
    use resilience::{circuit_breaker, rate_limit, registry};

    #[derive(Debug)]
    struct Opaque;
    impl From<Error> for Opaque {
        fn from(_: Error) -> Self {
            Opaque
        }
    }
    #[rate_limit(max_requests = 1, window = "1h")]
    async fn callee_opaque() -> Result<(), Opaque> {
        Ok(())
    }
    #[circuit_breaker(failure_threshold = 1)]
    async fn caller_opaque() -> Result<(), Opaque> {
        callee_opaque().await
    }
    caller_opaque().await.unwrap();
    assert!(caller_opaque().await.is_err());
    assert!(registry()
        .circuit_breaker(concat!(module_path!(), "::caller_opaque"))
        .unwrap()
        .is_open());
}

#[tokio::test(start_paused = true)]
async fn a_carried_rejection_is_retried_only_when_retry_if_says_so() {
    use resilience::{rate_limit, retry};
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

    static BODIES: AtomicU32 = AtomicU32::new(0);
    fn never(_: &Error) -> bool {
        false
    }
    #[rate_limit(max_requests = 1, window = "1s")]
    async fn callee_refused() -> Result<(), Error> {
        Ok(())
    }
    // A POST that must not run twice: the caller's body ran before its callee refused.
    #[retry(max_attempts = 3, base_delay = "10ms", retry_if = never)]
    async fn post_once() -> Result<(), Error> {
        BODIES.fetch_add(1, SeqCst);
        callee_refused().await
    }
    post_once().await.unwrap();
    let result = post_once().await;
    assert!(
        matches!(result, Err(Error::RateLimited { .. })),
        "{result:?}"
    );
    assert_eq!(BODIES.load(SeqCst), 2, "the second call's body ran once");
}
