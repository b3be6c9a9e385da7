//! What a fallback reports: its counters.

/// What a fallback has seen since it was created.
///
/// Every finished call is counted once in [`primary_succeeded`](Self::primary_succeeded),
/// [`recovered`](Self::recovered), [`declined`](Self::declined) or
/// [`all_failed`](Self::all_failed); a call dropped while running is counted in
/// [`calls`](Self::calls) only.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use resilience::{Error, Fallback, FallbackConfig};
/// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
/// let down = || async { Err::<&str, _>(Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }) };
/// let user = fallback.call(down).or(|_| async { Ok("cached") }).run().await;
/// assert_eq!(user, Ok("cached"));
/// let stats = fallback.stats();
/// assert_eq!((stats.calls, stats.fallbacks, stats.recovered, stats.recovered_by(1)), (1, 1, 1, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FallbackStats {
    /// Calls started.
    pub calls: u64,
    /// Calls whose primary succeeded: no fallback ran.
    pub primary_succeeded: u64,
    /// Calls a fallback answered with a success.
    pub recovered: u64,
    /// Calls that ended with an error `fallback_if` kept from falling back (the
    /// primary's or a fallback's), returned as it was.
    pub declined: u64,
    /// Calls whose fallbacks all failed; the last one's error was returned.
    pub all_failed: u64,
    /// Fallbacks started, over all calls.
    pub fallbacks: u64,
    /// Recoveries by the position of the fallback that answered: index `n - 1` for the
    /// `n`-th fallback of the chain up to [`EXACT_STEPS`], the last index for later ones.
    pub(crate) recovered_by: [u64; EXACT_STEPS],
}

/// Recoveries by the first this many fallbacks of a chain are counted apart; later ones
/// together, which keeps the stats `Copy` whatever the chain's length.
pub(crate) const EXACT_STEPS: usize = 8;

impl FallbackStats {
    /// Calls the `n`-th fallback of the chain answered (`n` from 1); for `n` of 8 and more,
    /// those answered by the 8th fallback or a later one.
    ///
    /// ```
    /// # use resilience::{Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// assert_eq!(fallback.stats().recovered_by(1), 0);
    /// ```
    pub fn recovered_by(&self, n: usize) -> u64 {
        match n {
            0 => 0,
            n => self.recovered_by[n.min(EXACT_STEPS) - 1],
        }
    }
}
