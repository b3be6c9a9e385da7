use std::time::Duration;

use crate::error::{invalid, InvalidConfig};
use crate::setters::setters;

use super::state::{MAX_PROBES, MAX_RECOVERY};

/// How a [`CircuitBreaker`](super::CircuitBreaker) decides to open and to close.
///
/// ```
/// use std::time::Duration;
/// use resilience::CircuitBreakerConfig;
///
/// let config = CircuitBreakerConfig::DEFAULT.failure_threshold(3).recovery_timeout(Duration::from_secs(10));
/// assert!(config.validate().is_ok());
/// assert_eq!(config.probes(), 2); // half_open_max_calls defaults to success_threshold
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitBreakerConfig {
    /// Consecutive failures that open a closed breaker. Default 5.
    pub failure_threshold: u32,
    /// Consecutive successful probes that close a half-open breaker. Default 2.
    pub success_threshold: u32,
    /// How long an open breaker rejects before it lets probes through. Default 60s.
    pub recovery_timeout: Duration,
    /// Probes let through at once while half-open; `None` means `success_threshold`.
    pub half_open_max_calls: Option<u32>,
}

impl CircuitBreakerConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        failure_threshold: 5,
        success_threshold: 2,
        recovery_timeout: Duration::from_secs(60),
        half_open_max_calls: None,
    };

    /// Checks that every value makes sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the first field that does not: a threshold or probe
    /// count of 0, a zero `recovery_timeout`, or a value too large to count.
    ///
    /// ```
    /// # use resilience::CircuitBreakerConfig;
    /// let config = CircuitBreakerConfig::DEFAULT.half_open_max_calls(0);
    /// assert_eq!(config.validate().unwrap_err().to_string(), "`half_open_max_calls` must be at least 1");
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.failure_threshold == 0 {
            return Err(invalid!("failure_threshold", "must be at least 1"));
        }
        if self.success_threshold == 0 {
            return Err(invalid!("success_threshold", "must be at least 1"));
        }
        if self.success_threshold > MAX_PROBES {
            return Err(invalid!("success_threshold", "must be at most 1023"));
        }
        match self.half_open_max_calls {
            Some(0) => return Err(invalid!("half_open_max_calls", "must be at least 1")),
            Some(n) if n > MAX_PROBES => {
                return Err(invalid!("half_open_max_calls", "must be at most 1023"))
            }
            _ => {}
        }
        if self.recovery_timeout.is_zero() {
            return Err(invalid!("recovery_timeout", "must be longer than zero"));
        }
        if self.recovery_timeout.as_nanos() > MAX_RECOVERY.as_nanos() {
            return Err(invalid!("recovery_timeout", "must be at most 100 years"));
        }
        Ok(())
    }

    /// The number of probes let through at once while half-open.
    ///
    /// ```
    /// # use resilience::CircuitBreakerConfig;
    /// let config = CircuitBreakerConfig::DEFAULT.success_threshold(3);
    /// assert_eq!(config.probes(), 3);
    /// assert_eq!(config.half_open_max_calls(1).probes(), 1);
    /// ```
    pub fn probes(&self) -> u32 {
        self.half_open_max_calls.unwrap_or(self.success_threshold)
    }
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

setters!(CircuitBreakerConfig {
    /// Sets the consecutive failures that open a closed breaker.
    failure_threshold: u32 = "3",
    /// Sets the consecutive successful probes that close a half-open breaker.
    success_threshold: u32 = "1",
    /// Sets how long an open breaker rejects before it lets probes through.
    recovery_timeout: Duration = "Duration::from_secs(30)",
    /// Sets how many probes a half-open breaker lets through at once.
    half_open_max_calls: (Some(u32)) = "4",
});
