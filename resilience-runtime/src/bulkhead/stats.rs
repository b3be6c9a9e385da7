//! What a bulkhead reports: its load and its counters.

/// What a bulkhead has seen since it was created, and its load now.
///
/// ```
/// # use resilience::{Bulkhead, BulkheadConfig};
/// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
/// let stats = bulkhead.stats();
/// assert_eq!((stats.active, stats.queued, stats.admitted, stats.rejections), (0, 0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkheadStats {
    /// Calls running now.
    pub active: usize,
    /// The most calls that run at once: the config's `max_concurrent`.
    pub max_concurrent: usize,
    /// Calls queued for a slot now.
    pub queued: usize,
    /// Calls that got a slot.
    pub admitted: u64,
    /// Calls rejected with [`Error::BulkheadFull`](crate::Error::BulkheadFull).
    pub rejections: u64,
}
