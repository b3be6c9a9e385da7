//! A keyed instance's configuration: the config every key's instance is built from, the
//! bound on keys, and what happens at the bound.

use crate::error::{invalid, InvalidConfig};

/// What a full keyed instance does with a new key when no key is idle (a key whose state is
/// back to initial is always dropped first: it carries no information).
///
/// ```
/// use resilience::{KeyedConfig, RateLimiterConfig, WhenFull};
/// let config = KeyedConfig::new(RateLimiterConfig::DEFAULT).when_full(WhenFull::RejectNewKey);
/// assert_eq!(KeyedConfig::new(RateLimiterConfig::DEFAULT).when_full, WhenFull::EvictLeastRecentlyUsed);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum WhenFull {
    /// Drop the key used least recently, unless it is in use (by a call running now, or by
    /// a handle a caller holds from [`Keyed::get`](crate::Keyed::get) or
    /// [`Keyed::entry`](crate::Keyed::entry)) or is a breaker that is open, half-open,
    /// forced open or disabled: those are never dropped.
    /// A limiter dropped so comes back with its full quota, so a flood of new keys costs
    /// the least recent keys their count rather than costing new keys their calls. When
    /// nothing can be dropped, the new key is rejected as with
    /// [`RejectNewKey`](Self::RejectNewKey).
    #[default]
    EvictLeastRecentlyUsed,
    /// Turn the call with the new key away with
    /// [`Error::KeysFull`](crate::Error::KeysFull): every key that holds state keeps it.
    /// A key that falls idle still gives up its place (it holds nothing), and comes back
    /// as a new key: during a flood of new keys it may find no room.
    RejectNewKey,
}

/// The configuration of a [`Keyed`](crate::Keyed) instance: the config of each key's
/// instance, and the bound on keys held at once.
///
/// ```
/// use std::time::Duration;
/// use resilience::{KeyedConfig, RateLimiterConfig, WhenFull};
///
/// let per_user = RateLimiterConfig::DEFAULT.max_requests(100).window(Duration::from_secs(60));
/// let config = KeyedConfig::new(per_user).max_keys(50_000).when_full(WhenFull::RejectNewKey);
/// assert!(config.validate().is_ok());
/// assert_eq!(KeyedConfig::new(RateLimiterConfig::DEFAULT).max_keys, 10_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyedConfig<C> {
    /// The config every key's instance is built from.
    pub config: C,
    /// The most keys held at once. Default 10 000.
    pub max_keys: usize,
    /// What a full instance does with a new key when no key is idle. Default
    /// [`WhenFull::EvictLeastRecentlyUsed`].
    pub when_full: WhenFull,
}

impl<C> KeyedConfig<C> {
    /// The default bound on keys.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, RateLimiterConfig};
    /// assert_eq!(KeyedConfig::<RateLimiterConfig>::DEFAULT_MAX_KEYS, 10_000);
    /// ```
    pub const DEFAULT_MAX_KEYS: usize = 10_000;

    /// Each key's instance built from `config`, with the default bound and policy; usable
    /// in `const` and `static` items.
    ///
    /// ```
    /// # use resilience::{CircuitBreakerConfig, KeyedConfig};
    /// const PER_HOST: KeyedConfig<CircuitBreakerConfig> = KeyedConfig::new(CircuitBreakerConfig::DEFAULT).max_keys(100);
    /// assert_eq!(PER_HOST.max_keys, 100);
    /// ```
    pub const fn new(config: C) -> Self {
        Self {
            config,
            max_keys: Self::DEFAULT_MAX_KEYS,
            when_full: WhenFull::EvictLeastRecentlyUsed,
        }
    }

    /// Sets the most keys held at once.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, RateLimiterConfig};
    /// assert_eq!(KeyedConfig::new(RateLimiterConfig::DEFAULT).max_keys(64).max_keys, 64);
    /// ```
    #[must_use]
    pub const fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Sets what a full instance does with a new key when no key is idle.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, RateLimiterConfig, WhenFull};
    /// let config = KeyedConfig::new(RateLimiterConfig::DEFAULT).when_full(WhenFull::RejectNewKey);
    /// assert_eq!(config.when_full, WhenFull::RejectNewKey);
    /// ```
    #[must_use]
    pub const fn when_full(mut self, when_full: WhenFull) -> Self {
        self.when_full = when_full;
        self
    }

    /// Checks the bound; the inner config is checked by its own `validate`.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for a `max_keys` of 0.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, RateLimiterConfig};
    /// let none = KeyedConfig::new(RateLimiterConfig::DEFAULT).max_keys(0);
    /// assert_eq!(none.validate().unwrap_err().to_string(), "`max_keys` must be at least 1");
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_keys == 0 {
            return Err(invalid!("max_keys", "must be at least 1"));
        }
        Ok(())
    }
}

impl<C: Default> Default for KeyedConfig<C> {
    fn default() -> Self {
        Self::new(C::default())
    }
}
