//! A limiter's quota and counting algorithm.

use crate::error::{invalid, InvalidConfig};
use crate::setters::setters;
use std::time::Duration;

/// How a [`RateLimiter`](super::RateLimiter) counts.
///
/// ```
/// use resilience::{Algorithm, RateLimiterConfig};
/// let exact = RateLimiterConfig::DEFAULT.algorithm(Algorithm::SlidingWindow);
/// assert_eq!(RateLimiterConfig::default().algorithm, Algorithm::TokenBucket);
/// assert!(exact.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// A bucket of `burst` tokens refilled evenly, `max_requests` per `window`. Admits
    /// bursts up to `burst`, then a steady rate. Lock-free.
    #[default]
    TokenBucket,
    /// Never more than `max_requests` calls in any span of `window`. Exact; keeps the
    /// times of the last `max_requests` calls behind a lock.
    SlidingWindow,
    /// At most `max_requests` calls per consecutive window, counted from the limiter's
    /// creation. Lock-free; admits up to twice the quota across a window boundary.
    FixedWindow,
}

/// The quota of a [`RateLimiter`](super::RateLimiter).
///
/// ```
/// use std::time::Duration;
/// use resilience::{Algorithm, RateLimiterConfig};
///
/// let config = RateLimiterConfig::DEFAULT.max_requests(100).window(Duration::from_secs(60)).algorithm(Algorithm::SlidingWindow);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimiterConfig {
    /// Calls allowed per `window`. Default 10 (the attribute requires it).
    pub max_requests: u32,
    /// The span the quota is counted over. Default 1s (the attribute requires it).
    pub window: Duration,
    /// How calls are counted. Default token bucket.
    pub algorithm: Algorithm,
    /// Token bucket capacity; `None` means `max_requests`. Other algorithms ignore it.
    pub burst: Option<u32>,
    /// How long a call may wait for a permit before it is rejected. Default zero: reject
    /// at once.
    pub max_wait: Duration,
}

impl RateLimiterConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        max_requests: 10,
        window: Duration::from_secs(1),
        algorithm: Algorithm::TokenBucket,
        burst: None,
        max_wait: Duration::ZERO,
    };

    /// Checks that the quota makes sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for `max_requests` or `burst` of 0, a zero `window`, or a
    /// `burst` with a window algorithm.
    ///
    /// ```
    /// # use resilience::RateLimiterConfig;
    /// assert!(RateLimiterConfig::DEFAULT.max_requests(0).validate().is_err());
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_requests == 0 {
            return Err(invalid!("max_requests", "must be at least 1"));
        }
        if self.window.is_zero() {
            return Err(invalid!("window", "must be longer than zero"));
        }
        match (self.burst, self.algorithm) {
            (Some(0), _) => Err(invalid!("burst", "must be at least 1")),
            (Some(_), Algorithm::SlidingWindow | Algorithm::FixedWindow) => Err(invalid!(
                "burst",
                "sets the capacity of `Algorithm::TokenBucket`; the window algorithms have none"
            )),
            _ => Ok(()),
        }
    }
}

setters!(RateLimiterConfig {
    /// Sets the calls allowed per `window`.
    max_requests: u32 = "100",
    /// Sets the span the quota is counted over.
    window: Duration = "Duration::from_secs(60)",
    /// Sets how calls are counted.
    algorithm: Algorithm = "Algorithm::SlidingWindow",
    /// Sets the token bucket's capacity.
    burst: (Some(u32)) = "20",
    /// Sets how long a call may wait for a permit before it is rejected.
    max_wait: Duration = "Duration::from_millis(250)",
});

impl Default for RateLimiterConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
