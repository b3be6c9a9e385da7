use std::time::Duration;

use crate::error::{invalid, InvalidConfig};
use crate::setters::setters;

use super::{Backoff, Jitter};

/// How a [`Retry`](super::Retry) spaces its attempts.
///
/// The wait after the `n`-th failure (0-based) is `base_delay · exponential_base^n`
/// (exponential), `base_delay · (n + 1)` (linear) or `base_delay` (constant), capped at
/// `max_delay`, then jittered.
///
/// ```
/// use std::time::Duration;
/// use resilience::{Backoff, Jitter, RetryConfig};
///
/// let config = RetryConfig::DEFAULT.max_attempts(4).base_delay(Duration::from_millis(100)).backoff(Backoff::Linear).jitter(Jitter::None);
/// assert!(config.validate().is_ok());
/// assert_eq!(config.delay(2), Duration::from_millis(300));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts in all, counting the first call. Default 3.
    pub max_attempts: u32,
    /// The first delay. Default 1s.
    pub base_delay: Duration,
    /// No delay grows past this (before jitter). Default 60s.
    pub max_delay: Duration,
    /// Growth factor of exponential backoff. Default 2.0.
    pub exponential_base: f64,
    /// How delays grow. Default exponential.
    pub backoff: Backoff,
    /// How delays are randomised. Default full jitter.
    pub jitter: Jitter,
    /// No attempt starts later than this after the call started; a retry that would gives
    /// up at once with the last error. Default none: only `max_attempts` bounds the call.
    pub max_elapsed: Option<Duration>,
}

impl RetryConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        max_attempts: 3,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(60),
        exponential_base: 2.0,
        backoff: Backoff::Exponential,
        jitter: Jitter::Full,
        max_elapsed: None,
    };

    /// Checks that every value makes sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for `max_attempts` of 0, `max_delay < base_delay`, an
    /// `exponential_base` below 1 or not finite, or a `max_elapsed` of zero.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::RetryConfig;
    /// let config = RetryConfig::DEFAULT.base_delay(Duration::from_secs(5)).max_delay(Duration::from_secs(1));
    /// assert_eq!(config.validate().unwrap_err().to_string(), "`max_delay` must not be shorter than `base_delay` (`max_delay` is 60s unless set)");
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_attempts == 0 {
            return Err(invalid!("max_attempts", "must be at least 1"));
        }
        if self.max_delay.as_nanos() < self.base_delay.as_nanos() {
            return Err(invalid!(
                "max_delay",
                "must not be shorter than `base_delay` (`max_delay` is 60s unless set)"
            ));
        }
        if !(self.exponential_base.is_finite() && self.exponential_base >= 1.0) {
            return Err(invalid!(
                "exponential_base",
                "must be a finite number of at least 1.0"
            ));
        }
        match self.max_elapsed {
            Some(max_elapsed) if max_elapsed.is_zero() => {
                Err(invalid!("max_elapsed", "must be longer than zero"))
            }
            _ => Ok(()),
        }
    }

    /// The wait after the `n`-th failure (0-based), before jitter.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::RetryConfig;
    /// let config = RetryConfig::DEFAULT.base_delay(Duration::from_millis(100)).max_delay(Duration::from_millis(300));
    /// assert_eq!([config.delay(0), config.delay(1), config.delay(2)], [100, 200, 300].map(Duration::from_millis));
    /// ```
    pub fn delay(&self, n: u32) -> Duration {
        super::backoff::delay(
            self.backoff,
            self.base_delay,
            self.exponential_base,
            self.max_delay,
            n,
        )
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

setters!(RetryConfig {
    /// Sets the attempts in all, counting the first call.
    max_attempts: u32 = "5",
    /// Sets the first delay.
    base_delay: Duration = "Duration::from_millis(100)",
    /// Sets the longest delay (before jitter).
    max_delay: Duration = "Duration::from_secs(2)",
    /// Sets the growth factor of exponential backoff.
    exponential_base: f64 = "1.5",
    /// Sets how delays grow.
    backoff: Backoff = "Backoff::Linear",
    /// Sets how delays are randomised.
    jitter: Jitter = "Jitter::None",
    /// Sets the time after the call's start past which no attempt starts.
    max_elapsed: (Some(Duration)) = "Duration::from_secs(10)",
});
