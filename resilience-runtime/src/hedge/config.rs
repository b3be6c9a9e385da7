use std::time::Duration;

use crate::error::{invalid, InvalidConfig};
use crate::setters::setters;

/// When a [`Hedge`](crate::Hedge) starts another attempt, and how many it starts at most.
///
/// ```
/// use std::time::Duration;
/// use resilience::HedgeConfig;
///
/// let config = HedgeConfig::DEFAULT.delay(Duration::from_millis(50)).max_attempts(3);
/// assert!(config.validate().is_ok());
/// assert!(config.max_attempts(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HedgeConfig {
    /// How long to wait for an answer before starting the next attempt; zero starts every
    /// attempt at once. Default 100ms.
    pub delay: Duration,
    /// Attempts in all, counting the first. Default 2.
    pub max_attempts: u32,
}

impl HedgeConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        delay: Duration::from_millis(100),
        max_attempts: 2,
    };

    /// Checks that the values make sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for `max_attempts` of 0.
    ///
    /// ```
    /// # use resilience::HedgeConfig;
    /// assert!(HedgeConfig::default().validate().is_ok());
    /// assert!(HedgeConfig::DEFAULT.max_attempts(0).validate().is_err());
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_attempts == 0 {
            return Err(invalid!("max_attempts", "must be at least 1"));
        }
        Ok(())
    }
}

setters!(HedgeConfig {
    /// Sets how long to wait for an answer before starting the next attempt.
    delay: Duration = "Duration::from_millis(50)",
    /// Sets how many attempts run at most, counting the first.
    max_attempts: u32 = "3",
});

impl Default for HedgeConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
