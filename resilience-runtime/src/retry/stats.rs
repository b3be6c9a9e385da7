//! What a retry reports: its counters.

/// What a retry has seen since it was created.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # use std::time::Duration;
/// # use resilience::{Error, Retry, RetryConfig};
/// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
/// let mut attempts = 0;
/// let _ = retry.call(|| { attempts += 1; async move { if attempts < 2 { Err(Error::Timeout { name: "x".into(), after: Duration::ZERO }) } else { Ok(()) } } }).await;
/// let stats = retry.stats();
/// assert_eq!((stats.calls, stats.succeeded_after_retry, stats.retries), (1, 1, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryStats {
    /// Calls, each counted once however many attempts it took.
    pub calls: u64,
    /// Calls whose first attempt succeeded.
    pub succeeded_first_try: u64,
    /// Calls that succeeded after one or more retries.
    pub succeeded_after_retry: u64,
    /// Calls that failed with an error not worth retrying (or `CircuitOpen`), or gave up
    /// before a second attempt.
    pub failed_without_retry: u64,
    /// Calls whose last attempt failed after at least one retry.
    pub failed_after_retry: u64,
    /// Attempts after the first that started, over all calls (not those whose call was
    /// dropped during the wait before them).
    pub retries: u64,
}
