//! What a limiter reports: its counters.

/// What a rate limiter has seen since it was created.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # use std::time::Duration;
/// # use resilience::{Error, RateLimiter, RateLimiterConfig};
/// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
/// limiter.try_acquire().unwrap();
/// limiter.try_acquire().unwrap();
/// assert!(limiter.try_acquire().is_err());
/// let stats = limiter.stats();
/// assert_eq!((stats.admitted, stats.rejections), (2, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimiterStats {
    /// Calls that got a permit (at once or after waiting).
    pub admitted: u64,
    /// Calls that waited for their permit.
    pub waited: u64,
    /// Calls rejected with [`Error::RateLimited`](crate::Error::RateLimited).
    pub rejections: u64,
    /// How the limiter stands with the fleet's quota, for a limiter shared by a store
    /// ([`RateLimiter::share`](crate::RateLimiter::share)); `None` for one that is not.
    pub shared: Option<crate::shared::SharedStats>,
}
