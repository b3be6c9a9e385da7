//! The fallback itself: its counters and the two ways in, by hand and as a layer.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use super::blocking::BlockingFallbackChain;
use super::chain::{self, FallbackChain, Step};
use super::config::FallbackConfig;
use super::stats::{FallbackStats, EXACT_STEPS};
use crate::counter::Counter;
use crate::events::{Emitter, Subscription};
use crate::pipeline::{self, Outcome};
use crate::{ConfigError, Error, Kind};

/// Answers a failed call from somewhere else: a chain of fallbacks tried in order, each
/// given the error of the step before it, until one succeeds. When all fail, the last
/// fallback's error is returned.
///
/// By hand, as seed 004's `FallbackChain.create(cache, db, api)`:
///
/// ```
/// use resilience::{Error, Fallback, FallbackConfig};
///
/// async fn from_cache() -> Result<String, Error> { Err(Error::BulkheadFull { name: "cache".into(), max_concurrent: 1 }) }
/// async fn from_db() -> Result<String, Error> { Err(Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }) }
/// async fn from_api() -> Result<String, Error> { Ok("ada".to_owned()) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
/// let user = fallback
///     .call(from_cache)
///     .or(|_db_error| from_db())
///     .or(|_api_error| from_api())
///     .run()
///     .await;
/// assert_eq!(user.unwrap(), "ada");
/// assert_eq!(fallback.stats().recovered_by(2), 1, "the second fallback answered");
/// # }
/// ```
pub struct Fallback {
    name: Arc<str>,
    config: FallbackConfig,
    pub(super) calls: Counter,
    pub(super) primary_succeeded: Counter,
    pub(super) recovered: AtomicU64,
    pub(super) declined: AtomicU64,
    pub(super) all_failed: AtomicU64,
    pub(super) fallbacks: AtomicU64,
    recovered_by: [AtomicU64; EXACT_STEPS],
    pub(super) events: Emitter,
}

impl Fallback {
    /// A fallback named `name`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`FallbackConfig::validate`] (none today).
    ///
    /// ```
    /// # use resilience::{Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// assert_eq!(fallback.name(), "users");
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: FallbackConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let name = name.into();
        Ok(Self {
            events: Emitter::new(&name, Kind::Fallback),
            name,
            config,
            calls: Counter::default(),
            primary_succeeded: Counter::default(),
            recovered: AtomicU64::new(0),
            declined: AtomicU64::new(0),
            all_failed: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            recovered_by: Default::default(),
        })
    }

    /// The fallback's name.
    ///
    /// ```
    /// # use resilience::{Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// assert_eq!(fallback.name(), "users");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fallback's configuration.
    ///
    /// ```
    /// # use resilience::{Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// assert_eq!(fallback.config(), &FallbackConfig::DEFAULT);
    /// ```
    pub fn config(&self) -> &FallbackConfig {
        &self.config
    }

    /// Starts a chain whose primary is `primary`: add fallbacks with
    /// [`or`](FallbackChain::or), then [`run`](FallbackChain::run) it. Every error falls
    /// back.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let quote: Result<u32, Error> = fallback.call(|| async { Ok(7) }).or(|_| async { Ok(0) }).run().await;
    /// assert_eq!(quote, Ok(7));
    /// # }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn call<T, E, F, Fut>(
        &self,
        primary: F,
    ) -> FallbackChain<
        '_,
        fn(&E) -> bool,
        impl Future<Output = Step<(), T, E>> + use<'_, T, E, F, Fut>,
    >
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let always: fn(&E) -> bool = |_| true;
        self.layer((), always, move |()| async move {
            ((), pipeline::body(primary()).await)
        })
    }

    /// The fallback as one layer of a stack: see [`pipeline`](crate::pipeline). Like a
    /// [`Retry`](crate::Retry), the primary and each fallback are lent `lent` (the
    /// references the body needs) and hand it back, so the fallbacks can borrow what the
    /// primary borrowed. `fallback_if` decides which errors fall back; it sees a rejection
    /// converted into `E`, so a fallback above a breaker answers `CircuitOpen` too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use resilience::pipeline::{body, Failure};
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let mut tries = 0;
    /// let outcome = fallback
    ///     .layer(&mut tries, |_: &Error| true, |tries: &mut u32| async move {
    ///         *tries += 1;
    ///         let outcome = body(async { Err::<u32, _>(Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }) }).await;
    ///         (tries, outcome)
    ///     })
    ///     .or_lent(|tries: &mut u32, _error| async move { *tries += 1; (tries, Ok(0)) })
    ///     .outcome()
    ///     .await;
    /// assert_eq!((outcome, tries), (Ok(0), 2));
    /// # }
    /// ```
    pub fn layer<C, T, E, P, F, Fut>(
        &self,
        lent: C,
        fallback_if: P,
        primary: F,
    ) -> FallbackChain<'_, P, impl Future<Output = Step<C, T, E>> + use<'_, C, T, E, P, F, Fut>>
    where
        P: Fn(&E) -> bool + Clone,
        F: FnOnce(C) -> Fut,
        Fut: Future<Output = (C, Outcome<T, E>)>,
    {
        FallbackChain::new(self, fallback_if, chain::primary(self, lent, primary))
    }

    /// Starts a chain for plain (non-async) code, running `primary` now: add fallbacks
    /// with [`or`](BlockingFallbackChain::or), each run at once if every step before it
    /// failed, then read the answer with [`run`](BlockingFallbackChain::run). Counted as
    /// [`call`](Self::call) is. Every error falls back.
    ///
    /// ```
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let quote: Result<u32, Error> = fallback.call_blocking(|| Ok(7)).or(|_| Ok(0)).run();
    /// assert_eq!(quote, Ok(7));
    /// ```
    pub fn call_blocking<T, E, F>(
        &self,
        primary: F,
    ) -> BlockingFallbackChain<'_, fn(&E) -> bool, (), T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Result<T, E>,
    {
        let always: fn(&E) -> bool = |_| true;
        self.layer_blocking((), always, move |()| ((), pipeline::body_blocking(primary)))
    }

    /// The fallback as one layer of a stack of plain (non-async) code: [`layer`](Self::layer)
    /// with closures that return their outcome, each step run as it is added (see
    /// [`call_blocking`](Self::call_blocking)).
    ///
    /// ```
    /// use resilience::pipeline::body_blocking;
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let mut tries = 0;
    /// let outcome = fallback
    ///     .layer_blocking(&mut tries, |_: &Error| true, |tries: &mut u32| {
    ///         *tries += 1;
    ///         (tries, body_blocking(|| Err::<u32, _>(Error::BulkheadFull { name: "db".into(), max_concurrent: 1 })))
    ///     })
    ///     .or_lent(|tries: &mut u32, _error| { *tries += 1; (tries, Ok(0)) })
    ///     .outcome();
    /// assert_eq!((outcome, tries), (Ok(0), 2));
    /// ```
    pub fn layer_blocking<C, T, E, P, F>(
        &self,
        lent: C,
        fallback_if: P,
        primary: F,
    ) -> BlockingFallbackChain<'_, P, C, T, E>
    where
        E: From<Error>,
        P: Fn(&E) -> bool,
        F: FnOnce(C) -> (C, Outcome<T, E>),
    {
        self.calls.increment();
        let primary = chain::after_primary(self, primary(lent));
        BlockingFallbackChain::new(self, fallback_if, primary)
    }

    /// Counters since creation.
    ///
    /// ```
    /// # use resilience::{Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// assert_eq!(fallback.stats().calls, 0);
    /// ```
    pub fn stats(&self) -> FallbackStats {
        FallbackStats {
            calls: self.calls.get(),
            primary_succeeded: self.primary_succeeded.get(),
            recovered: self.recovered.load(Relaxed),
            declined: self.declined.load(Relaxed),
            all_failed: self.all_failed.load(Relaxed),
            fallbacks: self.fallbacks.load(Relaxed),
            recovered_by: self.recovered_by.each_ref().map(|n| n.load(Relaxed)),
        }
    }

    /// Sets every counter back to zero. Calls running now are counted when they end.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// let _ = fallback.call(|| async { Ok::<_, Error>(1) }).or(|_| async { Ok(0) }).run().await;
    /// fallback.reset();
    /// assert_eq!(fallback.stats().calls, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.calls.reset();
        self.primary_succeeded.reset();
        for counter in [
            &self.recovered,
            &self.declined,
            &self.all_failed,
            &self.fallbacks,
        ]
        .into_iter()
        .chain(&self.recovered_by)
        {
            counter.store(0, Relaxed);
        }
    }

    /// This fallback's [events](crate::events): each step of its chain that runs, from
    /// now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use resilience::events::Detail;
    /// use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    /// let mut events = fallback.subscribe();
    /// let answer = fallback
    ///     .call(|| async { Err::<u8, Error>(Error::Timeout { name: "db".into(), after: std::time::Duration::from_secs(1) }) })
    ///     .or(|_| async { Ok(7) })
    ///     .run()
    ///     .await;
    /// assert_eq!(answer.unwrap(), 7);
    /// assert_eq!(events.try_recv().unwrap().detail, Detail::FellBack { step: 1 });
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// Counts a success of the fallback at `step` (1 for the first).
    pub(super) fn count_recovered(&self, step: usize) {
        self.recovered.fetch_add(1, Relaxed);
        let bucket = step.clamp(1, EXACT_STEPS) - 1;
        self.recovered_by[bucket].fetch_add(1, Relaxed);
    }
}

impl fmt::Debug for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fallback")
            .field("name", &self.name)
            .finish()
    }
}
