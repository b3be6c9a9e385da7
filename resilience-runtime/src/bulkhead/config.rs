use std::time::Duration;

use crate::error::{invalid, InvalidConfig};
use crate::setters::setters;

/// How many calls a [`Bulkhead`](crate::Bulkhead) runs at once, and how long and how many of the rest may
/// wait.
///
/// ```
/// use std::time::Duration;
/// use resilience::BulkheadConfig;
///
/// let config = BulkheadConfig::DEFAULT.max_concurrent(4).max_wait(Duration::ZERO);
/// assert!(config.validate().is_ok());
/// assert!(config.max_concurrent(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkheadConfig {
    /// Calls running at once. Default 10.
    pub max_concurrent: usize,
    /// How long a call may queue for a slot; zero rejects at once. Default 5s.
    pub max_wait: Duration,
    /// How many calls may queue at once; a call that finds that many queued is rejected
    /// at once. `None`, the default, queues any number.
    pub max_queued: Option<usize>,
}

impl BulkheadConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        max_concurrent: 10,
        max_wait: Duration::from_secs(5),
        max_queued: None,
    };

    /// Checks that the values make sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for `max_concurrent` of 0 or above `usize::MAX >> 3`.
    ///
    /// ```
    /// # use resilience::BulkheadConfig;
    /// assert!(BulkheadConfig::default().validate().is_ok());
    /// assert!(BulkheadConfig::DEFAULT.max_concurrent(0).validate().is_err());
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_concurrent == 0 {
            return Err(invalid!("max_concurrent", "must be at least 1"));
        }
        if self.max_concurrent > usize::MAX >> 3 {
            return Err(invalid!(
                "max_concurrent",
                "must be at most `usize::MAX >> 3` (2305843009213693951 on 64-bit targets)"
            ));
        }
        Ok(())
    }
}

setters!(BulkheadConfig {
    /// Sets how many calls run at once.
    max_concurrent: usize = "4",
    /// Sets how long a call may queue for a slot; zero rejects at once.
    max_wait: Duration = "Duration::ZERO",
    /// Sets how many calls may queue at once.
    max_queued: (Some(usize)) = "100",
});

impl Default for BulkheadConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
