//! What a [`Backend`](crate::Backend) is configured with.

use std::time::Duration;

/// What a shared name does while Redis is unreachable or too slow (no answer within
/// [`Settings::timeout`]).
///
/// ```
/// use resilience::redis::WhenUnavailable;
/// assert_eq!(WhenUnavailable::default(), WhenUnavailable::Local);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenUnavailable {
    /// Each process carries on with its own local state, with the same config: a breaker
    /// counts its own failures, a limiter gives its own quota (so the fleet may admit up
    /// to one quota per process meanwhile). Back to the shared state when Redis answers.
    #[default]
    Local,
    /// Every call is rejected (a breaker's with `CircuitOpen`, a limiter's with
    /// `RateLimited`, both with `retry_after` set to [`Settings::refresh`]) until Redis
    /// answers again: for a quota that must never be exceeded.
    Reject,
}

/// How a [`Backend`](crate::Backend) talks to Redis and names its keys.
///
/// ```
/// use std::time::Duration;
/// use resilience::redis::{Settings, WhenUnavailable};
/// let settings = Settings::DEFAULT
///     .key_prefix("checkout:")
///     .timeout(Duration::from_millis(20))
///     .when_unavailable(WhenUnavailable::Reject);
/// assert_eq!(settings.key_prefix, "checkout:");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Put before every key and the pub/sub channel, so that two services on one Redis
    /// never share state by accident. No `{` or `}`: the keys' hash tags are ours.
    /// Empty, the default, stands for `"resilience:"`.
    pub key_prefix: String,
    /// The longest a call waits on Redis (a limiter's admission) and the longest any
    /// command may take before the name falls back to [`WhenUnavailable`]. Default 50ms.
    pub timeout: Duration,
    /// How long a breaker's keys live after their last write: state nobody uses expires.
    /// Default 1 hour. A quota's key (a limiter's, or one user key's of a keyed limiter)
    /// expires once its quota is full again instead, whatever this says.
    pub ttl: Duration,
    /// How often each process reads every shared breaker's state, the backstop of the
    /// pub/sub push, and how often an unreachable Redis is tried again. Default 1s.
    pub refresh: Duration,
    /// How long a half-open probe holds its slot in the fleet without reporting: a prober
    /// that crashed or hung frees it after this long. Longer than `timeout`. Default 10s.
    pub probe_lease: Duration,
    /// What every shared name does while Redis is unreachable, unless shared with a mode
    /// of its own. Default [`WhenUnavailable::Local`].
    pub when_unavailable: WhenUnavailable,
    /// The CA and client certificate of a `rediss://` connection. Default: the public
    /// roots, no client certificate. Needs the feature `tls`.
    #[cfg(feature = "tls")]
    pub tls: crate::Tls,
}

impl Settings {
    /// The defaults, usable in `const` items.
    pub const DEFAULT: Self = Self {
        key_prefix: String::new(),
        timeout: Duration::from_millis(50),
        ttl: Duration::from_secs(3600),
        refresh: Duration::from_secs(1),
        probe_lease: Duration::from_secs(10),
        when_unavailable: WhenUnavailable::Local,
        #[cfg(feature = "tls")]
        tls: crate::Tls::DEFAULT,
    };

    /// Sets [`key_prefix`](Self::key_prefix).
    ///
    /// ```
    /// # use resilience::redis::Settings;
    /// assert_eq!(Settings::DEFAULT.key_prefix("a:").key_prefix, "a:");
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets [`timeout`](Self::timeout).
    ///
    /// ```
    /// # use resilience::redis::Settings;
    /// # use std::time::Duration;
    /// assert_eq!(Settings::DEFAULT.timeout(Duration::from_millis(5)).timeout, Duration::from_millis(5));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`ttl`](Self::ttl).
    ///
    /// ```
    /// # use resilience::redis::Settings;
    /// # use std::time::Duration;
    /// assert_eq!(Settings::DEFAULT.ttl(Duration::from_secs(60)).ttl, Duration::from_secs(60));
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets [`refresh`](Self::refresh).
    ///
    /// ```
    /// # use resilience::redis::Settings;
    /// # use std::time::Duration;
    /// assert_eq!(Settings::DEFAULT.refresh(Duration::from_millis(200)).refresh, Duration::from_millis(200));
    /// ```
    pub fn refresh(mut self, refresh: Duration) -> Self {
        self.refresh = refresh;
        self
    }

    /// Sets [`probe_lease`](Self::probe_lease).
    ///
    /// ```
    /// # use resilience::redis::Settings;
    /// # use std::time::Duration;
    /// assert_eq!(Settings::DEFAULT.probe_lease(Duration::from_secs(2)).probe_lease, Duration::from_secs(2));
    /// ```
    pub fn probe_lease(mut self, lease: Duration) -> Self {
        self.probe_lease = lease;
        self
    }

    /// Sets [`when_unavailable`](Self::when_unavailable).
    ///
    /// ```
    /// # use resilience::redis::{Settings, WhenUnavailable};
    /// assert_eq!(Settings::DEFAULT.when_unavailable(WhenUnavailable::Reject).when_unavailable, WhenUnavailable::Reject);
    /// ```
    pub fn when_unavailable(mut self, mode: WhenUnavailable) -> Self {
        self.when_unavailable = mode;
        self
    }

    /// Sets [`tls`](Self::tls). Needs the feature `tls`.
    ///
    /// ```
    /// # use resilience::redis::{Settings, Tls};
    /// let tls = Tls::new().ca_certificates("-----BEGIN CERTIFICATE-----\n...");
    /// assert_eq!(Settings::DEFAULT.tls(tls.clone()).tls, tls);
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, tls: crate::Tls) -> Self {
        self.tls = tls;
        self
    }

    /// The prefix in effect: [`key_prefix`](Self::key_prefix), or `"resilience:"` when empty.
    pub(crate) fn prefix(&self) -> &str {
        if self.key_prefix.is_empty() {
            "resilience:"
        } else {
            &self.key_prefix
        }
    }

    /// Checks the settings before anything connects.
    pub(crate) fn validate(&self) -> Result<(), &'static str> {
        let ms = Duration::from_millis(1);
        if self.prefix().contains(['{', '}']) {
            return Err("`key_prefix` must not contain `{` or `}`: the keys' hash tags are made from the names");
        }
        if self.timeout < ms
            || self.refresh < ms
            || self.probe_lease < ms
            || self.ttl < Duration::from_secs(1)
        {
            return Err(
                "`timeout`, `refresh` and `probe_lease` must be at least 1ms, `ttl` at least 1s",
            );
        }
        if self.probe_lease <= self.timeout {
            return Err("`probe_lease` must be longer than `timeout`: a probe's report must reach Redis while its lease holds");
        }
        Ok(())
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_in_the_prefix_and_a_lease_within_the_timeout_are_refused() {
        assert_eq!(Settings::DEFAULT.validate(), Ok(()));
        assert_eq!(Settings::DEFAULT.prefix(), "resilience:");
        assert!(Settings::DEFAULT.key_prefix("a{b}:").validate().is_err());
        assert!(Settings::DEFAULT
            .probe_lease(Duration::from_millis(50))
            .validate()
            .is_err());
        assert!(Settings::DEFAULT
            .timeout(Duration::ZERO)
            .validate()
            .is_err());
        assert!(Settings::DEFAULT
            .ttl(Duration::from_millis(10))
            .validate()
            .is_err());
    }
}
