//! What a keyed instance reports: its keys and what became of new keys at the bound.

use crate::shared::SharedStats;

/// What a [`Keyed`](crate::Keyed) instance holds and has done since it was created (or
/// last reset). Each key's own counters are its instance's: look one up with
/// [`Keyed::get`](crate::Keyed::get).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig, WhenFull};
///
/// let config = KeyedConfig::new(RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(60)))
///     .max_keys(1)
///     .when_full(WhenFull::RejectNewKey);
/// let limiter = KeyedRateLimiter::new("api", config).unwrap();
/// limiter.try_acquire("ada").unwrap();
/// assert!(limiter.try_acquire("bob").is_err()); // "ada" is not idle: no room for "bob"
/// let stats = limiter.stats();
/// assert_eq!((stats.keys, stats.evictions, stats.rejected_keys), (1, 0, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyedStats {
    /// Keys held now.
    pub keys: usize,
    /// The bound on keys.
    pub max_keys: usize,
    /// Keys whose breaker is open, half-open or forced open (always 0 for limiters).
    pub open_keys: usize,
    /// Keys dropped to make room for new ones: idle keys, or least recently used ones.
    pub evictions: u64,
    /// Calls turned away with [`Error::KeysFull`](crate::Error::KeysFull) because their key
    /// was new and no key could be dropped for it.
    pub rejected_keys: u64,
    /// For a keyed limiter shared through a store (`resilience-redis`): whether the fleet's
    /// quotas are reachable now, and how often they were lost, for the whole name; `None`
    /// if it is not shared. (A key's own `stats().shared` tells only what was reported
    /// through that key's limiter: the key whose call found Redis gone, or back.)
    pub shared: Option<SharedStats>,
}
