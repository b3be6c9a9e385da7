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
    /// Attempts made by the calls counted in [`calls`](Self::calls), all told.
    pub attempts: u64,
    /// Finished calls by the attempts they took: index `n - 1` for `n` up to
    /// [`EXACT_ATTEMPTS`], the last index for more.
    pub(crate) by_attempts: [u64; EXACT_ATTEMPTS as usize + 1],
    /// The highest `max_attempts` the retry has run with, which bounds the buckets worth
    /// showing.
    pub(crate) max_attempts: u32,
}

/// Calls that take up to this many attempts are counted by their exact number of attempts;
/// longer ones together. Keeps the stats `Copy` whatever `max_attempts` is.
pub(crate) const EXACT_ATTEMPTS: u32 = 16;

impl RetryStats {
    /// Finished calls by attempts, cumulative like a Prometheus histogram's buckets:
    /// `(n, calls that took at most n attempts)` for each `n` from 1 to the highest
    /// `max_attempts` the retry has run with (to 16 when that is higher), so a reload that
    /// lowers it removes no bucket a scrape has seen. Every call took at most that many,
    /// so past the last bucket lies [`calls`](Self::calls) in all.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.max_attempts(3).base_delay(Duration::from_millis(10))).unwrap();
    /// retry.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    /// let down = || async { Err::<(), _>(Error::Timeout { name: "x".into(), after: Duration::ZERO }) };
    /// assert!(retry.call(down).await.is_err());
    /// let stats = retry.stats();
    /// assert_eq!(stats.attempt_buckets().collect::<Vec<_>>(), [(1, 1), (2, 1), (3, 2)]);
    /// assert_eq!(stats.attempts, 4);
    /// # }
    /// ```
    pub fn attempt_buckets(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        let last = self.max_attempts.min(EXACT_ATTEMPTS);
        (1..=last).scan(0, |below, n| {
            *below += self.by_attempts[n as usize - 1];
            Some((n, *below))
        })
    }
}
