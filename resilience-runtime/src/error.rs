//! `resilience::Error`, the rejections, and `ConfigError`, the refusals of a bad config.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{CircuitState, Kind};

/// A call that a policy turned away, or cut short, instead of letting the body finish.
///
/// A guarded function returns `Result<T, E>` with `E: From<Error>`, so a rejection arrives
/// as the caller's own error type, the way `?` converts errors.
///
/// ```
/// use std::time::Duration;
/// use resilience::Error;
///
/// let error = Error::RateLimited { name: "search".into(), retry_after: Duration::from_millis(250) };
/// assert_eq!(error.name(), "search");
/// assert_eq!(error.retry_after(), Some(Duration::from_millis(250)));
/// assert_eq!(error.to_string(), "rate limiter `search` is out of permits, retry after 250ms");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The circuit breaker `name` is open, forced open, or half-open with every probe slot
    /// taken.
    #[error("circuit breaker `{name}` is {}, retry after {}", rejecting(*.state), Human(*.retry_after))]
    CircuitOpen {
        /// The breaker that rejected the call.
        name: Arc<str>,
        /// Why it rejected: [`CircuitState::Open`], [`CircuitState::HalfOpen`] (every probe
        /// slot taken) or [`CircuitState::ForcedOpen`].
        state: CircuitState,
        /// Time left until the breaker lets a probe through when open. When no time is
        /// known (half-open with every slot taken: a slot frees whenever a probe ends;
        /// forced open: until reset by hand) the breaker's recovery timeout, its own measure
        /// of how long to leave the downstream alone. Never zero.
        retry_after: Duration,
    },
    /// The call did not finish within the timeout `name`; its future was dropped.
    #[error("`{name}` timed out after {}", Human(*.after))]
    Timeout {
        /// The timeout that fired.
        name: Arc<str>,
        /// The limit that was exceeded.
        after: Duration,
    },
    /// Every slot of the bulkhead `name` stayed taken for as long as the call could wait.
    #[error("bulkhead `{name}` is full (max_concurrent = {max_concurrent})")]
    BulkheadFull {
        /// The bulkhead that rejected the call.
        name: Arc<str>,
        /// Its number of slots.
        max_concurrent: usize,
    },
    /// The rate limiter `name` had no permit for the call within its `max_wait`.
    #[error("rate limiter `{name}` is out of permits, retry after {}", Human(*.retry_after))]
    RateLimited {
        /// The rate limiter that rejected the call.
        name: Arc<str>,
        /// Time until a permit is free.
        retry_after: Duration,
    },
    /// The keyed instance `name` had no room for a call's new key: the shard the key falls
    /// in held its share of `max_keys`, and none of its keys could be dropped (under
    /// `reject_new_key`, each held some state; under `evict_least_recently_used`, each was
    /// in use by a running call, or a breaker not closed). See [`Keyed`](crate::Keyed).
    #[error(
        "keyed instance `{name}` has no room for a new key (max_keys = {max_keys}, kept shard by shard) and can drop none of the keys it holds; the new key is turned away"
    )]
    KeysFull {
        /// The keyed instance that rejected the call.
        name: Arc<str>,
        /// Its bound on keys.
        max_keys: usize,
    },
}

impl Error {
    /// The name of the policy instance that rejected the call.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let error = resilience::Error::Timeout { name: "db".into(), after: Duration::from_secs(2) };
    /// assert_eq!(error.name(), "db");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Error::CircuitOpen { name, .. }
            | Error::Timeout { name, .. }
            | Error::BulkheadFull { name, .. }
            | Error::RateLimited { name, .. }
            | Error::KeysFull { name, .. } => name,
        }
    }

    /// How long to wait before a new call can be admitted, when the policy knows.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let open = resilience::Error::CircuitOpen { name: "db".into(), state: resilience::CircuitState::Open, retry_after: Duration::from_secs(9) };
    /// assert_eq!(open.retry_after(), Some(Duration::from_secs(9)));
    /// let full = resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 4 };
    /// assert_eq!(full.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::CircuitOpen { retry_after, .. } | Error::RateLimited { retry_after, .. } => {
                Some(*retry_after)
            }
            Error::Timeout { .. } | Error::BulkheadFull { .. } | Error::KeysFull { .. } => None,
        }
    }
}

/// An error that may carry a [`resilience::Error`](Error) from a guarded fn it called.
///
/// A guarded fn that calls another guarded fn receives the callee's rejection inside its own
/// error type. Its own policies ask the error through this trait, and treat one that carries
/// a rejection as that rejection: an outer breaker does not count a callee's `RateLimited`,
/// an outer retry does not retry a callee's `CircuitOpen`. The caller still receives its
/// error as the body returned it.
///
/// Implemented for [`Error`] itself and for every type that dereferences to a
/// `dyn std::error::Error` (`anyhow::Error`, `eyre::Report`, `Box<dyn Error + Send + Sync>`,
/// `Box<dyn Error>`, `Arc<dyn Error>`, ...), which finds the rejection by downcasting the
/// error and then each of its sources in turn, so context added on the way keeps it found.
/// An error enum implements it in one line, `resilience::as_rejection!(ApiError::Rejected);`,
/// or by hand as below. Where the error type does not implement it,
/// guarded fns still compile and read its errors as the body's own.
///
/// ```
/// use resilience::AsRejection;
///
/// #[derive(Debug)]
/// enum ApiError { NotFound, Rejected(resilience::Error) }
///
/// impl AsRejection for ApiError {
///     fn as_rejection(&self) -> Option<&resilience::Error> {
///         if let ApiError::Rejected(rejection) = self { Some(rejection) } else { None }
///     }
/// }
///
/// let open = resilience::Error::CircuitOpen { name: "db".into(), state: resilience::CircuitState::Open, retry_after: std::time::Duration::from_secs(1) };
/// assert!(ApiError::Rejected(open.clone()).as_rejection().is_some());
/// assert!(ApiError::NotFound.as_rejection().is_none());
/// let wrapped = anyhow::Error::from(open).context("loading the cart");
/// assert_eq!(wrapped.as_rejection().map(resilience::Error::name), Some("db"));
/// ```
pub trait AsRejection {
    /// The rejection this error carries, if any.
    fn as_rejection(&self) -> Option<&Error>;
}

impl AsRejection for Error {
    fn as_rejection(&self) -> Option<&Error> {
        Some(self)
    }
}

impl<T> AsRejection for T
where
    T: std::ops::Deref,
    T::Target: DynError,
{
    fn as_rejection(&self) -> Option<&Error> {
        let mut next = Some(self.deref().as_dyn_error());
        while let Some(error) = next {
            if let Some(rejection) = error.downcast_ref::<Error>() {
                return Some(rejection);
            }
            next = error.source();
        }
        None
    }
}

/// The `dyn std::error::Error` types, with or without `Send` and `Sync`: what the blanket
/// [`AsRejection`] impl downcasts. Sealed.
pub trait DynError: sealed::Sealed {
    /// The error as the one `dyn Error` type that `downcast_ref` is defined on.
    fn as_dyn_error(&self) -> &(dyn std::error::Error + 'static);
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! dyn_error {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl DynError for $ty {
            fn as_dyn_error(&self) -> &(dyn std::error::Error + 'static) {
                self
            }
        }
    )*};
}

dyn_error!(
    dyn std::error::Error,
    dyn std::error::Error + Send,
    dyn std::error::Error + Sync,
    dyn std::error::Error + Send + Sync
);

/// How a rejecting breaker's state reads in [`Error::CircuitOpen`]'s message.
fn rejecting(state: CircuitState) -> &'static str {
    match state {
        CircuitState::HalfOpen => "half-open with every probe slot taken",
        CircuitState::ForcedOpen => "forced open",
        _ => "open",
    }
}

/// A config value that makes no sense, or a configuration by name that cannot apply.
///
/// ```
/// use resilience::{registry, CircuitBreakerConfig, ConfigError};
///
/// let error = registry().configure("nothing::declares::this", CircuitBreakerConfig::DEFAULT).unwrap_err();
/// assert!(matches!(error, ConfigError::Undeclared { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field holds a value the policy cannot work with.
    #[error(transparent)]
    Invalid(#[from] InvalidConfig),
    /// The instance already exists; its configuration is fixed at its creation.
    #[error("{kind} `{name}` already exists; configure it before its first use")]
    AlreadyCreated {
        /// The kind of policy.
        kind: Kind,
        /// The instance's name.
        name: Arc<str>,
    },
    /// The instance is declared keyed (`key = ..`) and the config is a plain one, or it is
    /// declared without a key and the config is a [`KeyedConfig`](crate::KeyedConfig).
    #[error("{kind} `{name}` is declared {}", OtherShape(*.keyed))]
    OtherShape {
        /// The kind of policy.
        kind: Kind,
        /// The instance's name.
        name: Arc<str>,
        /// Whether it is declared keyed.
        keyed: bool,
    },
    /// No attribute declares an instance of this kind and name, so configuring it would
    /// change nothing (and a tower layer built by that name would share it with nobody).
    #[error("no {kind} named `{name}` is declared{}", DidYouMean(.did_you_mean.as_deref()))]
    Undeclared {
        /// The kind of policy.
        kind: Kind,
        /// The name that was asked for.
        name: Arc<str>,
        /// The declared name closest to it, when one is close enough to be a typo.
        did_you_mean: Option<Arc<str>>,
    },
}

struct OtherShape(bool);

impl fmt::Display for OtherShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            true => "keyed (`key = ..`): configure it with `KeyedConfig::new(config)`",
            false => "without a key: configure it with its config itself, not a `KeyedConfig`",
        })
    }
}

struct DidYouMean<'a>(Option<&'a str>);

impl fmt::Display for DidYouMean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(near) => write!(f, "; did you mean `{near}`?"),
            None => Ok(()),
        }
    }
}

/// The first field of a config that holds a value the policy cannot work with.
///
/// `Copy` and made of `&'static str`s, so a config's `const fn validate` can return it in a
/// `const` item: that is how the attributes turn a bad argument into a compile error in
/// these words.
///
/// ```
/// use resilience::CircuitBreakerConfig;
///
/// let error = CircuitBreakerConfig::DEFAULT.failure_threshold(0).validate().unwrap_err();
/// assert_eq!(error.field(), "failure_threshold");
/// assert_eq!(error.to_string(), "`failure_threshold` must be at least 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidConfig {
    field: &'static str,
    message: &'static str,
}

impl InvalidConfig {
    /// `field` and the whole sentence about it; see the `invalid!` macro.
    pub(crate) const fn new(field: &'static str, message: &'static str) -> Self {
        Self { field, message }
    }

    /// The config field (and attribute argument) whose value is refused.
    ///
    /// ```
    /// # use resilience::TimeoutConfig;
    /// # use std::time::Duration;
    /// let error = TimeoutConfig::DEFAULT.duration(Duration::ZERO).validate().unwrap_err();
    /// assert_eq!(error.field(), "duration");
    /// ```
    pub const fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong and what is accepted, naming the field.
    ///
    /// ```
    /// # use resilience::TimeoutConfig;
    /// # use std::time::Duration;
    /// let error = TimeoutConfig::DEFAULT.duration(Duration::ZERO).validate().unwrap_err();
    /// assert_eq!(error.message(), "`duration` must be longer than zero");
    /// ```
    pub const fn message(&self) -> &'static str {
        self.message
    }

    /// Whether this refusal is about `field`; usable in `const` items.
    ///
    /// ```
    /// # use resilience::RetryConfig;
    /// let error = RetryConfig::DEFAULT.max_attempts(0).validate().unwrap_err();
    /// assert!(error.is_about("max_attempts") && !error.is_about("max_delay"));
    /// ```
    pub const fn is_about(&self, field: &str) -> bool {
        let (a, b) = (self.field.as_bytes(), field.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}

/// `invalid!("field", "must be at least 1")`: an [`InvalidConfig`] whose message names the
/// field, built in `const` context.
macro_rules! invalid {
    ($field:literal, $problem:literal) => {
        $crate::error::InvalidConfig::new($field, concat!("`", $field, "` ", $problem))
    };
}
pub(crate) use invalid;

/// Formats a duration the way people write it in config: `250ms`, `1.5s`, `2m`, `1h30m`;
/// rounded to the millisecond from one millisecond up.
pub(crate) struct Human(pub(crate) Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        if nanos < 1_000_000 {
            return if nanos % 1_000 == 0 {
                write!(f, "{}µs", nanos / 1_000)
            } else {
                write!(f, "{nanos}ns")
            };
        }
        let millis = (nanos + 500_000) / 1_000_000;
        let (secs, millis) = (millis / 1000, millis % 1000);
        if secs == 0 {
            write!(f, "{millis}ms")
        } else if millis != 0 {
            let fraction = format!("{millis:03}");
            write!(f, "{secs}.{}s", fraction.trim_end_matches('0'))
        } else if secs < 60 {
            write!(f, "{secs}s")
        } else {
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
                if value > 0 {
                    write!(f, "{value}{unit}")?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(349_508_997), "350ms"),
            (Duration::from_nanos(1_999_600_000), "2s"),
            (Duration::from_millis(61_500), "61.5s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(1050), "1.05s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(3601), "1h1s"),
            (Duration::from_micros(1500), "2ms"),
            (Duration::from_micros(999), "999µs"),
            (Duration::from_nanos(7), "7ns"),
        ];
        for (duration, text) in cases {
            assert_eq!(Human(duration).to_string(), text, "{duration:?}");
        }
    }

    #[test]
    fn display_names_the_instance_and_when_to_come_back() {
        let open = Error::CircuitOpen {
            name: "payments".into(),
            state: CircuitState::Open,
            retry_after: Duration::from_secs(12),
        };
        assert_eq!(
            open.to_string(),
            "circuit breaker `payments` is open, retry after 12s"
        );
        let full = Error::CircuitOpen {
            name: "payments".into(),
            state: CircuitState::HalfOpen,
            retry_after: Duration::from_secs(30),
        };
        assert_eq!(
            full.to_string(),
            "circuit breaker `payments` is half-open with every probe slot taken, retry after 30s"
        );
        let timeout = Error::Timeout {
            name: "db".into(),
            after: Duration::from_millis(1500),
        };
        assert_eq!(timeout.to_string(), "`db` timed out after 1.5s");
        let full = Error::BulkheadFull {
            name: "pool".into(),
            max_concurrent: 3,
        };
        assert_eq!(
            full.to_string(),
            "bulkhead `pool` is full (max_concurrent = 3)"
        );
    }
}
