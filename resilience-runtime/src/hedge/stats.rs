//! What a hedge reports: its counters.

/// What a hedge has seen since it was created.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use resilience::{Error, Hedge, HedgeConfig};
/// let hedge = Hedge::new("search", HedgeConfig::DEFAULT.delay(Duration::from_millis(10))).unwrap();
/// // The first attempt takes a second; the hedge started at 10ms answers at 15ms.
/// let found = hedge.race(|attempt| async move {
///     tokio::time::sleep(Duration::from_millis(if attempt == 0 { 1000 } else { 5 })).await;
///     Ok::<_, Error>(attempt)
/// });
/// assert_eq!(found.await, Ok(1));
/// let stats = hedge.stats();
/// assert_eq!((stats.calls, stats.hedges, stats.won_by_hedge, stats.cancelled), (1, 1, 1, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HedgeStats {
    /// Calls started.
    pub calls: u64,
    /// Calls that succeeded, whichever attempt answered.
    pub succeeded: u64,
    /// Calls whose every attempt failed; the last error was returned.
    pub failed: u64,
    /// Attempts started after the first, over all calls.
    pub hedges: u64,
    /// Calls answered by an attempt after the first: the hedges that paid off.
    pub won_by_hedge: u64,
    /// Attempts dropped unfinished because another attempt succeeded first.
    pub cancelled: u64,
}
