//! The retry itself: attempts, waits between them, and its pipeline layer.

use super::backoff::Random;
use super::config::RetryConfig;
use super::stats::{RetryStats, EXACT_ATTEMPTS};
use crate::blocking;
use crate::counter::Counter;
use crate::events::{Emitter, Subscription};
use crate::live::Live;
use crate::pipeline::{self, Failure, Outcome};
use crate::time::{self, Tick};
use crate::{ConfigError, Error, Kind};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// Runs a call up to `max_attempts` times, sleeping between attempts as the
/// [`RetryConfig`] says, and gives back the last error when attempts run out.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use resilience::{Retry, RetryConfig};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
/// let calls = AtomicU32::new(0);
/// let answer: Result<u32, anyhow::Error> = retry
///     .call(|| async {
///         match calls.fetch_add(1, Ordering::SeqCst) {
///             0 => Err(anyhow::anyhow!("flaky")),
///             _ => Ok(42),
///         }
///     })
///     .await;
/// assert_eq!(answer.unwrap(), 42);
/// assert_eq!(calls.into_inner(), 2);
/// # }
/// ```
pub struct Retry {
    name: Arc<str>,
    config: Live<RetryConfig>,
    random: Random,
    succeeded_first_try: Counter,
    succeeded_after_retry: AtomicU64,
    failed_without_retry: AtomicU64,
    failed_after_retry: AtomicU64,
    retries: AtomicU64,
    /// Calls that retried, by attempts: index `n - 2` for `n` up to `EXACT_ATTEMPTS`, the
    /// last index for more. Those that took one attempt are the first-try counters'.
    retried_by_attempts: [AtomicU64; EXACT_ATTEMPTS as usize],
    /// Attempts made by the calls that retried, all told.
    retried_attempts: AtomicU64,
    events: Emitter,
}

impl Retry {
    /// A retry named `name`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`RetryConfig::validate`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
    /// assert!(Retry::new("bad", RetryConfig::DEFAULT.max_attempts(0)).is_err());
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: RetryConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let name = name.into();
        Ok(Self {
            events: Emitter::new(&name, Kind::Retry),
            name,
            config: Live::new(config),
            random: Random::new(Random::entropy()),
            succeeded_first_try: Counter::default(),
            succeeded_after_retry: AtomicU64::new(0),
            failed_without_retry: AtomicU64::new(0),
            failed_after_retry: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            retried_by_attempts: Default::default(),
            retried_attempts: AtomicU64::new(0),
        })
    }

    /// The retry's name.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
    /// assert_eq!(retry.name(), "fetch");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The retry's configuration.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
    /// assert_eq!(retry.config().max_attempts, 3);
    /// ```
    pub fn config(&self) -> &RetryConfig {
        self.config.get()
    }

    /// Sets a new configuration for calls that start from now on; a call already running
    /// finishes with the one it started with (its attempts, delays and `max_elapsed`), so
    /// no call mixes two. Emits [`Detail::Reconfigured`](crate::events::Detail::Reconfigured)
    /// when the config changes.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`RetryConfig::validate`]; the retry is unchanged.
    ///
    /// ```
    /// # use resilience::{Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT).unwrap();
    /// retry.reconfigure(RetryConfig::DEFAULT.max_attempts(5)).unwrap();
    /// assert_eq!(retry.config().max_attempts, 5);
    /// assert!(retry.reconfigure(RetryConfig::DEFAULT.max_attempts(0)).is_err());
    /// assert_eq!(retry.config().max_attempts, 5);
    /// ```
    pub fn reconfigure(&self, config: RetryConfig) -> Result<(), ConfigError> {
        config.validate()?;
        if let Some((previous, next)) = self.config.reload(config, |_, _| {}) {
            self.events.reconfigured(previous.changes(next));
        }
        Ok(())
    }

    /// Makes the jitter deterministic from now on: the same seed gives the same delays.
    ///
    /// ```
    /// # use resilience::{Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::default()).unwrap();
    /// retry.reseed(42);
    /// ```
    pub fn reseed(&self, seed: u64) {
        self.random.reseed(seed);
    }

    /// Calls `f` until it succeeds or `max_attempts` are used; every `Err` is retried.
    /// The error's `Display` is the `error` of the [retry events](crate::events).
    ///
    /// # Errors
    ///
    /// The last attempt's error. A rejection by a policy that `f` itself calls through
    /// arrives as `E`, so this retries it like any other error; stack policies with the
    /// attributes (or [`layer`](Self::layer)) to have rejections read for what they are.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
    /// let always: Result<(), Error> = retry.call(|| async { Err(Error::Timeout { name: "x".into(), after: Duration::ZERO }) }).await;
    /// assert!(always.is_err()); // the last error, after three attempts
    /// # }
    /// ```
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        E: From<Error> + fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_with(|_| true, f).await
    }

    /// Calls `f` until it succeeds, returns an error for which `retry_if` is `false`, or
    /// `max_attempts` are used.
    ///
    /// # Errors
    ///
    /// The last attempt's error.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Retry, RetryConfig};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// #[derive(Debug, PartialEq)]
    /// enum DbError { Deadlock, Constraint, Rejected }
    /// impl From<resilience::Error> for DbError { fn from(_: resilience::Error) -> Self { Self::Rejected } }
    /// impl std::fmt::Display for DbError {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { std::fmt::Debug::fmt(self, f) }
    /// }
    ///
    /// let retry = Retry::new("insert", RetryConfig::default()).unwrap();
    /// let mut attempts = 0;
    /// let result: Result<(), DbError> = retry
    ///     .call_with(|e| *e == DbError::Deadlock, || { attempts += 1; async { Err(DbError::Constraint) } })
    ///     .await;
    /// assert_eq!(result, Err(DbError::Constraint));
    /// assert_eq!(attempts, 1);
    /// # }
    /// ```
    pub async fn call_with<T, E, F, Fut>(
        &self,
        retry_if: impl Fn(&E) -> bool,
        mut f: F,
    ) -> Result<T, E>
    where
        E: From<Error> + fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let attempt = |()| {
            let body = pipeline::body(f());
            async { ((), body.await) }
        };
        let outcome = self.layer((), retry_if, |_| None, pipeline::display, attempt);
        pipeline::finish(outcome.await)
    }

    /// The retry as one layer of a stack: see [`pipeline`](crate::pipeline).
    ///
    /// A rejection, from an inner layer or carried by the body's error
    /// ([`Failure::rejection`]), is read for what it is: `CircuitOpen` ends the call at once;
    /// `RateLimited` and `BulkheadFull` are retried after at least their `retry_after`, and
    /// end the call at once when that is longer than `max_delay` or than what is left of
    /// `max_elapsed`; a `Timeout` is retried when `retry_if` says so of it converted into
    /// `E` (pass `|_| true` to always retry timeouts). The body's other errors are retried
    /// when `retry_if` says so.
    ///
    /// `retry_after` reads a hint from the body's error (a server's `Retry-After`, see
    /// [`parse_retry_after`](crate::parse_retry_after)): when it gives one, that is the next
    /// wait, capped at `max_delay`, instead of the backoff's.
    ///
    /// `describe` writes the body's error for the `error` of the [retry
    /// events](crate::events), and runs only when something listens to them: pass
    /// [`pipeline::display`](crate::pipeline::display) for an error type with `Display`.
    ///
    /// `lent` is moved into each attempt, which hands it back with its outcome; pass `()`
    /// when the attempts borrow nothing exclusively.
    ///
    /// Every retry yields to the scheduler first, so a retry without delay never keeps the
    /// other tasks of its thread waiting.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
    /// use resilience::pipeline::body;
    /// let mut log = Vec::new();
    /// // `&mut log` is lent to each attempt and handed back with its outcome.
    /// let outcome = retry.layer(&mut log, |_: &Error| true, |_| None, resilience::pipeline::display, |log: &mut Vec<u8>| async move {
    ///     log.push(1);
    ///     let outcome = body(async { Ok::<_, Error>(()) }).await;
    ///     (log, outcome)
    /// }).await;
    /// assert!(outcome.is_ok());
    /// assert_eq!(log, [1]);
    /// # }
    /// ```
    pub async fn layer<C, T, E, F, Fut>(
        &self,
        mut lent: C,
        retry_if: impl Fn(&E) -> bool,
        retry_after: impl Fn(&E) -> Option<Duration>,
        describe: impl Fn(&E, &mut fmt::Formatter<'_>) -> fmt::Result,
        mut next: F,
    ) -> Outcome<T, E>
    where
        E: From<Error>,
        F: FnMut(C) -> Fut,
        Fut: Future<Output = (C, Outcome<T, E>)>,
    {
        // Read once: the whole call runs with the config it started with.
        let config = self.config();
        let budget = Budget {
            config,
            start: self.start(config),
        };
        let mut failures = 0;
        loop {
            let (returned, outcome) = next(lent).await;
            let failure = match outcome {
                Ok(value) => {
                    self.count_success(failures);
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            failures += 1;
            let wait = self.after_failure(
                budget,
                &failure,
                failures,
                &retry_if,
                &retry_after,
                &describe,
            );
            let Some(wait) = wait else {
                return Err(failure);
            };
            // Only the last error is given back; this one goes before the next attempt
            // borrows what it may have borrowed.
            drop(failure);
            if wait.is_zero() {
                tokio::task::yield_now().await;
            } else {
                time::sleep(wait).await;
            }
            self.retried();
            lent = returned;
        }
    }

    /// Where a call's `max_elapsed` counts from. The clock is read for `max_elapsed`
    /// only, so a call without it reads none.
    #[inline]
    pub(crate) fn start(&self, config: &RetryConfig) -> Option<Tick> {
        config.max_elapsed.map(|_| time::now())
    }

    /// After a call's `failures`th failed attempt: the wait before the next one, announced;
    /// or `None` when the call ends with this failure, counted so.
    pub(crate) fn after_failure<E: From<Error>>(
        &self,
        budget: Budget<'_>,
        failure: &Failure<E>,
        failures: u32,
        retry_if: impl Fn(&E) -> bool,
        retry_after: impl Fn(&E) -> Option<Duration>,
        describe: impl Fn(&E, &mut fmt::Formatter<'_>) -> fmt::Result,
    ) -> Option<Duration> {
        let Some(wait) = self.wait(budget, failure, failures, retry_if, retry_after) else {
            self.count_failure(failures);
            return None;
        };
        self.events
            .retrying(failures, wait, &Described(failure, &describe));
        Some(wait)
    }

    /// Counts a retry, as its wait ends and its attempt starts.
    #[inline]
    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Relaxed);
    }

    /// Calls `f` on this thread until it succeeds or `max_attempts` are used, sleeping the
    /// thread between attempts: the counterpart of [`call`](Self::call) for plain
    /// (non-async) code, counted in the same stats. The waits, and `max_elapsed`, are
    /// measured on the real clock, even inside a runtime whose clock is paused; from async
    /// code, call it through `tokio::task::spawn_blocking`, since it blocks the runtime's
    /// thread while it sleeps.
    ///
    /// # Errors
    ///
    /// The last attempt's error.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Retry, RetryConfig};
    /// let retry = Retry::new("read", RetryConfig::DEFAULT.base_delay(Duration::from_millis(5))).unwrap();
    /// let mut attempts = 0;
    /// let read: Result<u32, anyhow::Error> = retry.call_blocking(|| {
    ///     attempts += 1;
    ///     if attempts < 2 { anyhow::bail!("busy") } else { Ok(7) }
    /// });
    /// assert_eq!((read.unwrap(), attempts), (7, 2));
    /// ```
    pub fn call_blocking<T, E, F>(&self, mut f: F) -> Result<T, E>
    where
        E: From<Error> + fmt::Display,
        F: FnMut() -> Result<T, E>,
    {
        let attempt = |()| ((), pipeline::body_blocking(&mut f));
        pipeline::finish(self.layer_blocking((), |_| true, |_| None, pipeline::display, attempt))
    }

    /// The retry as one layer of a stack of plain (non-async) code: [`layer`](Self::layer),
    /// with each attempt a closure that returns its outcome, and the thread asleep between
    /// attempts (see [`call_blocking`](Self::call_blocking)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// use resilience::pipeline::body_blocking;
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(1))).unwrap();
    /// let mut log = Vec::new();
    /// let outcome = retry.layer_blocking(&mut log, |_: &Error| true, |_| None, resilience::pipeline::display, |log: &mut Vec<u8>| {
    ///     log.push(1);
    ///     let outcome = body_blocking(|| if log.len() < 2 { Err(Error::Timeout { name: "x".into(), after: Duration::ZERO }) } else { Ok(()) });
    ///     (log, outcome)
    /// });
    /// assert!(outcome.is_ok());
    /// assert_eq!(log, [1, 1]);
    /// ```
    pub fn layer_blocking<C, T, E, F>(
        &self,
        mut lent: C,
        retry_if: impl Fn(&E) -> bool,
        retry_after: impl Fn(&E) -> Option<Duration>,
        describe: impl Fn(&E, &mut fmt::Formatter<'_>) -> fmt::Result,
        mut next: F,
    ) -> Outcome<T, E>
    where
        E: From<Error>,
        F: FnMut(C) -> (C, Outcome<T, E>),
    {
        // `max_elapsed` is measured on the real clock, as the sleeps are.
        let config = self.config();
        let budget = Budget {
            config,
            start: config.max_elapsed.map(|_| time::on_real_clock(time::now)),
        };
        let mut failures = 0;
        loop {
            let (returned, outcome) = next(lent);
            let failure = match outcome {
                Ok(value) => {
                    self.count_success(failures);
                    return Ok(value);
                }
                Err(failure) => failure,
            };
            failures += 1;
            let wait = time::on_real_clock(|| {
                self.after_failure(
                    budget,
                    &failure,
                    failures,
                    &retry_if,
                    &retry_after,
                    &describe,
                )
            });
            let Some(wait) = wait else {
                return Err(failure);
            };
            drop(failure);
            blocking::sleep(wait);
            self.retried();
            lent = returned;
        }
    }

    /// How long to wait before the next attempt after `failure`, the `failures`-th; `None`
    /// to give up now.
    fn wait<E: From<Error>>(
        &self,
        budget: Budget<'_>,
        failure: &Failure<E>,
        failures: u32,
        retry_if: impl Fn(&E) -> bool,
        retry_after: impl Fn(&E) -> Option<Duration>,
    ) -> Option<Duration> {
        let Budget { config, start } = budget;
        if failures >= config.max_attempts {
            return None;
        }
        // The least wait a rejection asks for, after the rejections that end the call. A
        // keyed instance with no room for the call's key looked it up once, as the call
        // started: every further attempt would meet the same refusal.
        let floor = match failure {
            Failure::Rejected(Error::CircuitOpen { .. } | Error::KeysFull { .. })
            | Failure::Carried {
                rejection: Error::CircuitOpen { .. },
                ..
            } => return None,
            Failure::Rejected(timeout @ Error::Timeout { .. }) => {
                retry_if(&E::from(timeout.clone())).then_some(Duration::ZERO)?
            }
            Failure::Carried {
                error,
                rejection: Error::Timeout { .. },
            }
            | Failure::Inner(error) => retry_if(error).then_some(Duration::ZERO)?,
            Failure::Rejected(rejection) => rejection.retry_after().unwrap_or_default(),
            // A callee's rejection came back through a body that ran: whether running it
            // again is safe is `retry_if`'s to say, as for any error of the body.
            Failure::Carried { error, rejection } => {
                retry_if(error).then(|| rejection.retry_after().unwrap_or_default())?
            }
        };
        let max_delay = config.max_delay;
        if floor > max_delay {
            return None;
        }
        let hint = match failure {
            Failure::Inner(error) | Failure::Carried { error, .. } => retry_after(error),
            Failure::Rejected(_) => None,
        };
        let wait = match hint {
            Some(hint) => hint.min(max_delay),
            None => super::backoff::jitter(config.jitter, config.delay(failures - 1), &self.random),
        };
        let wait = wait.max(floor);
        if let (Some(start), Some(max_elapsed)) = (start, config.max_elapsed) {
            let elapsed = Duration::from_nanos(time::now().saturating_sub(start));
            if elapsed.saturating_add(wait) > max_elapsed {
                return None;
            }
        }
        Some(wait)
    }

    /// This retry's [events](crate::events): one per failed attempt that is retried, with
    /// the wait before the next one, from now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use resilience::events::Detail;
    /// use resilience::{Jitter, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10)).jitter(Jitter::None)).unwrap();
    /// let mut events = retry.subscribe();
    /// let mut attempts = 0;
    /// let _: Result<(), anyhow::Error> = retry
    ///     .call(|| { attempts += 1; async move { if attempts == 1 { anyhow::bail!("flaky") } Ok(()) } })
    ///     .await;
    /// let delay = Duration::from_millis(10);
    /// assert_eq!(events.try_recv().unwrap().detail, Detail::Retrying { attempt: 1, delay, error: "flaky".into() });
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// Back to its initial state: every counter at zero. The jitter's random sequence goes
    /// on (use [`reseed`](Self::reseed) to repeat it); calls running go on and are counted
    /// when they end.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::default()).unwrap();
    /// let _ = retry.call(|| async { Ok::<_, Error>(()) }).await;
    /// retry.reset();
    /// assert_eq!(retry.stats().calls, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.succeeded_first_try.reset();
        for counter in [
            &self.succeeded_after_retry,
            &self.failed_without_retry,
            &self.failed_after_retry,
            &self.retries,
            &self.retried_attempts,
        ]
        .into_iter()
        .chain(&self.retried_by_attempts)
        {
            counter.store(0, Relaxed);
        }
    }

    /// Counters since creation (or the last [`reset`](Self::reset)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, Retry, RetryConfig};
    /// let retry = Retry::new("fetch", RetryConfig::DEFAULT.base_delay(Duration::from_millis(10))).unwrap();
    /// assert_eq!(retry.stats().calls, 0);
    /// ```
    pub fn stats(&self) -> RetryStats {
        let succeeded_first_try = self.succeeded_first_try.get();
        let succeeded_after_retry = self.succeeded_after_retry.load(Relaxed);
        let failed_without_retry = self.failed_without_retry.load(Relaxed);
        let failed_after_retry = self.failed_after_retry.load(Relaxed);
        let mut by_attempts = [0; EXACT_ATTEMPTS as usize + 1];
        by_attempts[0] = succeeded_first_try + failed_without_retry;
        for (calls, count) in by_attempts[1..].iter_mut().zip(&self.retried_by_attempts) {
            *calls = count.load(Relaxed);
        }
        RetryStats {
            calls: succeeded_first_try
                + succeeded_after_retry
                + failed_without_retry
                + failed_after_retry,
            succeeded_first_try,
            succeeded_after_retry,
            failed_without_retry,
            failed_after_retry,
            retries: self.retries.load(Relaxed),
            attempts: by_attempts[0] + self.retried_attempts.load(Relaxed),
            by_attempts,
            // Every config it ran with, not the current one alone: the histogram's buckets
            // stay put when a reload lowers `max_attempts`.
            max_attempts: self.config.max_of(|config| config.max_attempts),
        }
    }

    /// Counts a call that succeeded after `failures` failed attempts.
    #[inline]
    pub(crate) fn count_success(&self, failures: u32) {
        if failures == 0 {
            self.succeeded_first_try.increment();
        } else {
            self.succeeded_after_retry.fetch_add(1, Relaxed);
            self.count_retried(failures + 1);
        }
    }

    fn count_failure(&self, failures: u32) {
        if failures == 1 {
            self.failed_without_retry.fetch_add(1, Relaxed);
        } else {
            self.failed_after_retry.fetch_add(1, Relaxed);
            self.count_retried(failures);
        }
    }

    /// Counts a finished call of `attempts` (two or more) attempts, for the histogram of
    /// attempts per call; a call that succeeds first time pays nothing for it.
    fn count_retried(&self, attempts: u32) {
        let bucket = attempts.min(EXACT_ATTEMPTS + 1) as usize - 2;
        self.retried_by_attempts[bucket].fetch_add(1, Relaxed);
        self.retried_attempts
            .fetch_add(u64::from(attempts), Relaxed);
    }
}

/// What a running call's failures are weighed by: the config it read once, and where its
/// `max_elapsed` counts from.
#[derive(Clone, Copy)]
pub(crate) struct Budget<'a> {
    pub(crate) config: &'a RetryConfig,
    pub(crate) start: Option<Tick>,
}

/// A failed attempt's error as the retry events show it: a rejection by its own
/// `Display`, the body's error by the layer's `describe`.
struct Described<'a, E, D>(&'a Failure<E>, &'a D);

impl<E, D> fmt::Display for Described<'_, E, D>
where
    D: Fn(&E, &mut fmt::Formatter<'_>) -> fmt::Result,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Failure::Rejected(rejection) => fmt::Display::fmt(rejection, f),
            Failure::Inner(error) | Failure::Carried { error, .. } => (self.1)(error, f),
        }
    }
}

impl fmt::Debug for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("name", &self.name)
            .field("config", self.config())
            .finish_non_exhaustive()
    }
}
