//! Timeout: give up on a call that takes too long, and cancel it.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use crate::counter::Counter;
use crate::error::{invalid, InvalidConfig};
use crate::events::{Emitter, Subscription};
use crate::live::Live;
use crate::pipeline::{self, Failure, Outcome};
use crate::setters::setters;
use crate::{time, ConfigError, Error, Kind};

/// How long a [`Timeout`] lets a call run.
///
/// ```
/// use std::time::Duration;
/// use resilience::TimeoutConfig;
///
/// assert!(TimeoutConfig::DEFAULT.duration(Duration::ZERO).validate().is_err());
/// assert!(TimeoutConfig::DEFAULT.duration(Duration::from_secs(5)).validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeoutConfig {
    /// The limit. Default 10s.
    pub duration: Duration,
}

impl TimeoutConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        duration: Duration::from_secs(10),
    };

    /// Checks that the limit makes sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for a zero `duration`.
    ///
    /// ```
    /// # use resilience::TimeoutConfig;
    /// assert!(TimeoutConfig::default().validate().is_ok());
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.duration.is_zero() {
            return Err(invalid!("duration", "must be longer than zero"));
        }
        Ok(())
    }
}

setters!(TimeoutConfig {
    /// Sets the limit.
    duration: Duration = "Duration::from_secs(2)",
});

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a timeout has seen since it was created.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # use std::time::Duration;
/// # use resilience::{Error, Timeout, TimeoutConfig};
/// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
/// let late = timeout.call(|| async { tokio::time::sleep(Duration::from_secs(3)).await; Ok::<_, Error>(()) });
/// assert!(late.await.is_err());
/// let stats = timeout.stats();
/// assert_eq!((stats.calls, stats.timeouts), (1, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeoutStats {
    /// Calls started.
    pub calls: u64,
    /// Calls that finished within the limit, whatever their outcome.
    pub completed: u64,
    /// Calls cut short.
    pub timeouts: u64,
}

/// Rejects a call with [`Error::Timeout`] when it runs longer than its limit, dropping the
/// call's future (which cancels whatever it was waiting on).
///
/// ```
/// use std::time::Duration;
/// use resilience::{Error, Timeout, TimeoutConfig};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let timeout = Timeout::new("report", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
/// let slow = timeout.call(|| async {
///     tokio::time::sleep(Duration::from_secs(5)).await;
///     Ok::<_, Error>("done")
/// });
/// assert_eq!(slow.await, Err(Error::Timeout { name: "report".into(), after: Duration::from_secs(2) }));
/// # }
/// ```
pub struct Timeout {
    name: Arc<str>,
    config: Live<TimeoutConfig>,
    calls: Counter,
    completed: Counter,
    timeouts: AtomicU64,
    events: Emitter,
}

impl Timeout {
    /// A timeout named `name`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`TimeoutConfig::validate`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// assert!(Timeout::new("bad", TimeoutConfig::DEFAULT.duration(Duration::ZERO)).is_err());
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: TimeoutConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let name = name.into();
        Ok(Self {
            events: Emitter::new(&name, Kind::Timeout),
            name,
            config: Live::new(config),
            calls: Counter::default(),
            completed: Counter::default(),
            timeouts: AtomicU64::new(0),
        })
    }

    /// The timeout's name.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// assert_eq!(timeout.name(), "db");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The limit.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// assert_eq!(timeout.duration(), Duration::from_secs(2));
    /// ```
    pub fn duration(&self) -> Duration {
        self.config.get().duration
    }

    /// The timeout's configuration.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// assert_eq!(timeout.config().duration, Duration::from_secs(2));
    /// ```
    pub fn config(&self) -> &TimeoutConfig {
        self.config.get()
    }

    /// Sets a new limit for calls that start from now on; calls running keep the limit
    /// they started with. Emits [`Detail::Reconfigured`](crate::events::Detail::Reconfigured)
    /// when the config changes.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`TimeoutConfig::validate`]; the timeout is unchanged.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// timeout.reconfigure(TimeoutConfig::DEFAULT.duration(Duration::from_secs(5))).unwrap();
    /// assert_eq!(timeout.duration(), Duration::from_secs(5));
    /// assert!(timeout.reconfigure(TimeoutConfig::DEFAULT.duration(Duration::ZERO)).is_err());
    /// ```
    pub fn reconfigure(&self, config: TimeoutConfig) -> Result<(), ConfigError> {
        config.validate()?;
        if let Some((previous, next)) = self.config.reload(config, |_, _| {}) {
            self.events.reconfigured(previous.changes(next));
        }
        Ok(())
    }

    /// Runs `f`, giving up when it takes longer than the limit.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], converted into `E`, when time runs out; otherwise what `f` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// let quick: Result<u8, Error> = timeout.call(|| async { Ok(1) }).await;
    /// assert_eq!(quick, Ok(1));
    /// # }
    /// ```
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        pipeline::finish(self.layer(|| pipeline::body(f())).await)
    }

    /// The timeout as one layer of a stack: see [`pipeline`](crate::pipeline).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// use resilience::pipeline::{body, Failure};
    /// let outcome = timeout.layer(|| body(async { tokio::time::sleep(Duration::from_secs(5)).await; Ok::<_, Error>(()) })).await;
    /// assert!(matches!(outcome, Err(Failure::Rejected(Error::Timeout { .. }))));
    /// # }
    /// ```
    pub async fn layer<T, E, F, Fut>(&self, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        self.started();
        let limit = self.duration();
        match time::timeout(limit, next()).await {
            Some(outcome) => {
                self.completed();
                outcome
            }
            None => Err(Failure::Rejected(self.timed_out(limit))),
        }
    }

    /// Counts a call started: at its first poll, when its clock starts.
    #[inline]
    pub(crate) fn started(&self) {
        self.calls.increment();
    }

    /// Counts a call that finished within the limit, whatever its outcome.
    #[inline]
    pub(crate) fn completed(&self) {
        self.completed.increment();
    }

    /// Counts and announces a call cut short after `after`, the limit it started with;
    /// its rejection.
    pub(crate) fn timed_out(&self, after: Duration) -> Error {
        self.timeouts.fetch_add(1, Relaxed);
        self.events.timed_out(after);
        Error::Timeout {
            name: Arc::clone(&self.name),
            after,
        }
    }

    /// This timeout's [events](crate::events): the calls it cut short, from now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use resilience::events::Detail;
    /// use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("slow", TimeoutConfig::DEFAULT.duration(Duration::from_secs(1))).unwrap();
    /// let mut events = timeout.subscribe();
    /// let _ = timeout.call(|| async { tokio::time::sleep(Duration::from_secs(5)).await; Ok::<_, Error>(()) }).await;
    /// assert_eq!(events.try_recv().unwrap().detail, Detail::TimedOut { after: Duration::from_secs(1) });
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// Counters since creation.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// assert_eq!(timeout.stats().calls, 0);
    /// ```
    pub fn stats(&self) -> TimeoutStats {
        TimeoutStats {
            calls: self.calls.get(),
            completed: self.completed.get(),
            timeouts: self.timeouts.load(Relaxed),
        }
    }

    /// Sets every counter back to zero. Calls running now keep their deadlines.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, Timeout, TimeoutConfig};
    /// let timeout = Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
    /// timeout.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    /// timeout.reset();
    /// assert_eq!(timeout.stats().calls, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.calls.reset();
        self.completed.reset();
        self.timeouts.store(0, Relaxed);
    }
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("name", &self.name)
            .field("duration", &self.duration())
            .finish()
    }
}
