//! The limiter itself: admission by the chosen algorithm, waiting, and its pipeline layer.

use super::config::{Algorithm, RateLimiterConfig};
use super::stats::RateLimiterStats;
use super::token_bucket::TokenBucket;
use super::window::{FixedWindow, SlidingLog};
use crate::counter::Counter;
use crate::error::{invalid, InvalidConfig};
use crate::events::{Emitter, Subscription};
use crate::live::Live;
use crate::pipeline::{self, Failure, Outcome};
use crate::shared::{AlreadyShared, Link, QuotaDecision, SharedQuota};
use crate::sync::AtomicU64;
use crate::time::{self, Origin};
use crate::{blocking, ConfigError, Error, Kind};
use std::fmt;
use std::future::Future;
use std::sync::atomic::AtomicU64 as Count;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Admits at most `max_requests` calls per `window`, by the chosen [`Algorithm`]; a call
/// over the quota waits up to `max_wait` for a permit, then is rejected with
/// [`Error::RateLimited`] saying when one will be free. A call that gives up waiting (or is
/// dropped while waiting) takes no permit.
///
/// ```
/// use std::time::Duration;
/// use resilience::{Error, RateLimiter, RateLimiterConfig};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let limiter = RateLimiter::new("geocode", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
/// assert!(limiter.try_acquire().is_ok());
/// assert!(limiter.try_acquire().is_ok());
/// assert_eq!(
///     limiter.try_acquire(),
///     Err(Error::RateLimited { name: "geocode".into(), retry_after: Duration::from_millis(500) }),
/// );
/// # }
/// ```
pub struct RateLimiter {
    name: Arc<str>,
    config: Live<RateLimiterConfig>,
    origin: Origin,
    state: Algo,
    admitted: Counter,
    waited: Count,
    rejections: Count,
    events: Emitter,
    /// The fleet's quota, once [`share`](Self::share) installed it.
    shared: OnceLock<Arc<dyn SharedQuota>>,
    /// Whether the fleet's quota is reachable, as the store reports it: for the stats.
    link: Link,
}

/// The algorithm's state, and its parameters: those are derived from the config and
/// reloaded with it, each read with one load per decision.
enum Algo {
    TokenBucket {
        bucket: Live<TokenBucket>,
        tat: AtomicU64,
    },
    FixedWindow {
        fixed: Live<FixedWindow>,
        word: AtomicU64,
    },
    SlidingWindow {
        log: Mutex<SlidingLog>,
    },
}

impl RateLimiter {
    /// A rate limiter named `name` with its full quota available.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`RateLimiterConfig::validate`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// assert!(limiter.try_acquire().is_ok());
    /// # }
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: RateLimiterConfig) -> Result<Self, ConfigError> {
        Self::counting(name.into(), config, Counter::default())
    }

    /// One key's instance of a keyed one: see `PerKey::one_of_many`.
    pub(crate) fn one_of_many(
        name: Arc<str>,
        config: RateLimiterConfig,
    ) -> Result<Self, ConfigError> {
        Self::counting(name, config, Counter::single())
    }

    fn counting(
        name: Arc<str>,
        config: RateLimiterConfig,
        admitted: Counter,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let state = match config.algorithm {
            Algorithm::TokenBucket => Algo::TokenBucket {
                bucket: Live::new(token_bucket(&config)),
                tat: AtomicU64::new(0),
            },
            Algorithm::FixedWindow => Algo::FixedWindow {
                fixed: Live::new(fixed_window(&config)),
                word: AtomicU64::new(0),
            },
            Algorithm::SlidingWindow => Algo::SlidingWindow {
                log: Mutex::default(),
            },
        };
        Ok(Self {
            events: Emitter::new(&name, Kind::RateLimiter),
            name,
            config: Live::new(config),
            origin: Origin::new(time::now()),
            state,
            admitted,
            waited: Count::new(0),
            rejections: Count::new(0),
            shared: OnceLock::new(),
            link: Link::default(),
        })
    }

    /// Makes this limiter one view of a quota shared by many processes: from now on
    /// `shared` decides each admission, on every path: async calls
    /// ([`acquire`](Self::acquire), [`call`](Self::call), [`layer`](Self::layer), the
    /// attribute, the tower layer) through [`SharedQuota::admit`], plain ones
    /// ([`acquire_blocking`](Self::acquire_blocking) and what is built on it) through
    /// [`SharedQuota::admit_blocking`], and [`try_acquire`](Self::try_acquire) through
    /// [`SharedQuota::try_admit`]. `max_wait` keeps its meaning: a call waits for the
    /// fleet's next permit if it comes soon enough. An admission the store sends back
    /// ([`QuotaDecision::Local`], while it falls back to local state) draws on this
    /// limiter's own quota. Called by a store such as `resilience-redis`, once.
    ///
    /// # Errors
    ///
    /// [`AlreadyShared`] if a hook is installed already.
    ///
    /// The [`SharedQuota`] trait's example installs a hook.
    pub fn share(&self, shared: Arc<dyn SharedQuota>) -> Result<(), AlreadyShared> {
        self.shared.set(shared).map_err(|_| AlreadyShared {
            name: Arc::clone(&self.name),
        })
    }

    /// Reports that the shared quota became unreachable (`available == false`: the
    /// limiter follows its store's fallback mode) or reachable again: one event and one
    /// `tracing` warning each change (a report that changes nothing is ignored), and the
    /// [`SharedStats`](crate::shared::SharedStats) of [`stats`](Self::stats) and the
    /// metrics follow. Does nothing to an unshared limiter.
    ///
    /// ```
    /// # use resilience::RateLimiter;
    /// let limiter = RateLimiter::new("alone", Default::default()).unwrap();
    /// limiter.shared_availability(false); // not shared: nothing happens
    /// assert_eq!(limiter.stats().shared, None);
    /// ```
    pub fn shared_availability(&self, available: bool) {
        if self.shared.get().is_some() && self.link.report(available) {
            self.events.shared_availability(available);
        }
    }

    /// The limiter's name.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// assert_eq!(limiter.name(), "geo");
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The limiter's configuration.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// assert_eq!(limiter.config().max_requests, 2);
    /// # }
    /// ```
    pub fn config(&self) -> &RateLimiterConfig {
        self.config.get()
    }

    /// Sets a new quota from now on, keeping the quota used: the permits taken in the
    /// current window, or the admissions of the sliding log, count against the new quota,
    /// so a lower quota admits nothing more until it is under it, and a higher one admits
    /// the difference at once. A token bucket's missing tokens do the same, clamped to the
    /// new `burst`: a bucket shrunk below the tokens it has used forgets the excess, and
    /// grown back before it refills, admits that excess once more. Calls waiting for
    /// a permit try the new quota when they wake; `max_wait` applies to calls that
    /// arrive from now on. Emits [`Detail::Reconfigured`](crate::events::Detail::Reconfigured)
    /// when the config changes.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`RateLimiterConfig::validate`], and a new `algorithm`: the
    /// state of one algorithm means nothing to another. The limiter is unchanged then.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{RateLimiter, RateLimiterConfig};
    /// let config = RateLimiterConfig::DEFAULT.max_requests(4).window(Duration::from_secs(1));
    /// let limiter = RateLimiter::new("geo", config.clone()).unwrap();
    /// for _ in 0..3 {
    ///     limiter.try_acquire().unwrap();
    /// }
    /// // Three tokens used of a bucket of four; the new bucket holds two: empty.
    /// limiter.reconfigure(config.max_requests(2)).unwrap();
    /// assert!(limiter.try_acquire().is_err());
    /// # }
    /// ```
    pub fn reconfigure(&self, config: RateLimiterConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.check_reload(&config)?;
        let carry_over = |_: &RateLimiterConfig, next: &RateLimiterConfig| {
            let elapsed = self.origin.elapsed(time::now());
            match &self.state {
                Algo::TokenBucket { bucket, tat } => {
                    bucket.reload(token_bucket(next), |old, new| {
                        rescale(tat, |tat| old.rescale(tat, elapsed, *new));
                    });
                }
                Algo::FixedWindow { fixed, word } => {
                    fixed.reload(fixed_window(next), |old, new| {
                        rescale(word, |word| old.rescale(word, elapsed, *new));
                    });
                }
                // The log holds the admissions themselves, read against the new quota.
                Algo::SlidingWindow { .. } => {}
            }
        };
        if let Some((previous, next)) = self.config.reload(config, carry_over) {
            self.events.reconfigured(previous.changes(next));
        }
        Ok(())
    }

    /// Refuses what a running limiter cannot take: a new algorithm.
    pub(crate) fn check_reload(&self, next: &RateLimiterConfig) -> Result<(), InvalidConfig> {
        if next.algorithm == self.config().algorithm {
            return Ok(());
        }
        Err(invalid!(
            "algorithm",
            "cannot change while the limiter runs (its state is the old algorithm's); it applies from the next start"
        ))
    }

    /// Takes a permit now if one is free, without waiting, exactly as a call is admitted;
    /// counted in the stats' `admitted` or `rejections`. A [shared](Self::share) limiter
    /// asks its store's [`SharedQuota::try_admit`], which waits on nothing either (the
    /// Redis store answers from permits it took from the fleet ahead of time).
    ///
    /// Unlike [`CircuitBreaker::try_acquire`](crate::CircuitBreaker::try_acquire) and
    /// [`Bulkhead::try_acquire`](crate::Bulkhead::try_acquire) it returns no permit to hold:
    /// a rate-limit permit is spent the moment it is taken, and nothing is given back.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] with the time until a permit is free, counted as a rejection.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// assert!(limiter.try_acquire().is_ok() && limiter.try_acquire().is_ok());
    /// assert_eq!(limiter.try_acquire(), Err(Error::RateLimited { name: "geo".into(), retry_after: Duration::from_millis(500) }));
    /// # }
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<(), Error> {
        self.acquire_now().map_err(|wait| self.limited(wait))
    }

    /// [`try_acquire`](Self::try_acquire) up to its error: admits the call, asking the
    /// shared store first if there is one, and counts it, admitted or rejected; a rejection
    /// comes back as the wait until a permit could be free, which [`limited`](Self::limited)
    /// turns into the caller's error and announces. The result fits in two registers; an
    /// `Error` is returned through memory, and copying one on every call, admitted or not,
    /// stalled a keyed limiter's lookup on store-to-load forwarding. (The tower layer's
    /// `try_admit` is another decision: it leaves a shared limiter, and rejections, to the
    /// future that waits.)
    #[inline]
    pub(crate) fn acquire_now(&self) -> Result<(), Duration> {
        let admitted = match self.shared.get() {
            None => self.admit(),
            Some(shared) => match shared.try_admit() {
                QuotaDecision::Admitted => Ok(()),
                QuotaDecision::Local => self.admit(),
                QuotaDecision::Wait(wait) | QuotaDecision::Refused(wait) => Err(wait),
            },
        };
        match admitted {
            Ok(()) => self.admitted.increment(),
            Err(_) => _ = self.rejections.fetch_add(1, Relaxed),
        }
        admitted
    }

    /// Takes a permit, waiting up to `max_wait` for one, exactly as [`call`](Self::call)
    /// does. Cancel-safe: waiting holds nothing, so a future dropped while it waits has
    /// taken no permit.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] when no permit is free within `max_wait`; it is returned as
    /// soon as the wait is known to be longer, without sleeping first.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{RateLimiter, RateLimiterConfig};
    /// let config = RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(1)).max_wait(Duration::from_secs(2));
    /// let limiter = RateLimiter::new("geo", config).unwrap();
    /// limiter.acquire().await.unwrap();
    /// let start = tokio::time::Instant::now();
    /// limiter.acquire().await.unwrap(); // waited for the next permit
    /// assert_eq!(start.elapsed(), Duration::from_secs(1));
    /// # }
    /// ```
    pub async fn acquire(&self) -> Result<(), Error> {
        if let Some(shared) = self.shared.get() {
            return self.acquire_shared(&**shared).await;
        }
        match self.admit() {
            Ok(()) => {
                self.admitted.increment();
                Ok(())
            }
            Err(wait) => self.wait_for_permit(wait).await,
        }
    }

    /// Takes a permit now and counts it, or takes and counts nothing: the decision
    /// [`acquire`](Self::acquire) takes before it waits, for a caller that waits, when it
    /// must, in a future of its own (which calls `acquire`). A shared limiter takes
    /// nothing here: its permit is the fleet's, asked for in that future.
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn try_admit(&self) -> bool {
        if self.shared.get().is_some() {
            return false;
        }
        let admitted = self.admit().is_ok();
        if admitted {
            self.admitted.increment();
        }
        admitted
    }

    /// Takes a permit, blocking this thread for up to `max_wait` for one: the counterpart
    /// of [`acquire`](Self::acquire) for plain (non-async) code, drawing on the same quota
    /// as async callers. It waits and reads time on the real clock, even inside a runtime
    /// whose clock is paused; from async code, call it through
    /// `tokio::task::spawn_blocking`, since it blocks the runtime's thread while it waits.
    /// A [shared](Self::share) limiter asks its store's [`SharedQuota::admit_blocking`]
    /// for each permit, and sleeps this thread for the fleet's next one as `max_wait`
    /// allows.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] when no permit is free within `max_wait`; it is returned as
    /// soon as the wait is known to be longer, without sleeping first.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use resilience::{RateLimiter, RateLimiterConfig};
    /// let config = RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_millis(20)).max_wait(Duration::from_secs(1));
    /// let limiter = RateLimiter::new("geo", config).unwrap();
    /// limiter.acquire_blocking().unwrap();
    /// let start = Instant::now();
    /// limiter.acquire_blocking().unwrap(); // slept until the next permit
    /// assert!(start.elapsed() >= Duration::from_millis(15));
    /// assert_eq!(limiter.stats().waited, 1);
    /// ```
    pub fn acquire_blocking(&self) -> Result<(), Error> {
        if let Some(shared) = self.shared.get() {
            return self.acquire_shared_blocking(&**shared);
        }
        self.acquire_local_blocking()
    }

    /// [`acquire_blocking`](Self::acquire_blocking) from this limiter's own quota.
    fn acquire_local_blocking(&self) -> Result<(), Error> {
        let admit = || time::on_real_clock(|| self.admit());
        let mut wait = match admit() {
            Ok(()) => {
                self.admitted.increment();
                return Ok(());
            }
            Err(wait) => wait,
        };
        let start = Instant::now();
        let max_wait = self.config().max_wait;
        loop {
            if start.elapsed().saturating_add(wait) > max_wait {
                self.rejections.fetch_add(1, Relaxed);
                return Err(self.limited(wait));
            }
            blocking::sleep(wait);
            match admit() {
                Ok(()) => {
                    self.admitted.increment();
                    self.waited.fetch_add(1, Relaxed);
                    self.events.waited(start.elapsed());
                    return Ok(());
                }
                Err(next) => wait = next,
            }
        }
    }

    /// Runs `f` on this thread once a permit is taken, blocking it while it waits: the
    /// counterpart of [`call`](Self::call) for plain (non-async) code; see
    /// [`acquire_blocking`](Self::acquire_blocking).
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`], converted into `E`, when no permit is free within
    /// `max_wait`; otherwise what `f` returns.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(60))).unwrap();
    /// assert_eq!(limiter.call_blocking(|| Ok::<_, Error>("Main St 1")), Ok("Main St 1"));
    /// assert!(matches!(limiter.call_blocking(|| Ok::<_, Error>("never runs")), Err(Error::RateLimited { .. })));
    /// ```
    pub fn call_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Result<T, E>,
    {
        pipeline::finish(self.layer_blocking(|| pipeline::body_blocking(f)))
    }

    /// The limiter as one layer of a stack of plain (non-async) code: see
    /// [`call_blocking`](Self::call_blocking) and [`pipeline`](crate::pipeline).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// use resilience::pipeline::{body_blocking, finish};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// let outcome = limiter.layer_blocking(|| body_blocking(|| Ok::<_, Error>(1)));
    /// assert_eq!(finish(outcome), Ok(1));
    /// ```
    pub fn layer_blocking<T, E, F>(&self, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Outcome<T, E>,
    {
        if let Err(limited) = self.acquire_blocking() {
            return Err(Failure::Rejected(limited));
        }
        next()
    }

    /// Takes a permit of the fleet's quota, waiting for the next one up to `max_wait`; the
    /// limiter's own quota while the store says so.
    async fn acquire_shared(&self, shared: &dyn SharedQuota) -> Result<(), Error> {
        let start = time::now();
        let mut waited = false;
        loop {
            let decision = shared.admit().await;
            let elapsed = Duration::from_nanos(time::now().saturating_sub(start));
            match self.settle(decision, elapsed, waited) {
                Settled::Done(result) => return result,
                Settled::Local => {
                    return match self.admit() {
                        Ok(()) => {
                            self.admitted.increment();
                            Ok(())
                        }
                        Err(wait) => self.wait_for_permit(wait).await,
                    }
                }
                Settled::Sleep(wait) => {
                    // Waiting holds nothing: the permit is taken by the next admission, in
                    // the store.
                    time::sleep(wait).await;
                    waited = true;
                }
            }
        }
    }

    /// [`acquire_shared`](Self::acquire_shared) for a plain fn: the same decisions, each
    /// asked with the thread blocked, waited for on the real clock.
    fn acquire_shared_blocking(&self, shared: &dyn SharedQuota) -> Result<(), Error> {
        let start = Instant::now();
        let mut waited = false;
        loop {
            let decision = shared.admit_blocking();
            match self.settle(decision, start.elapsed(), waited) {
                Settled::Done(result) => return result,
                Settled::Local => return self.acquire_local_blocking(),
                Settled::Sleep(wait) => {
                    blocking::sleep(wait);
                    waited = true;
                }
            }
        }
    }

    /// What the store's `decision` leaves to do, `elapsed` into an admission that has
    /// `waited` already: the permit counted, the rejection counted and reported, or a
    /// sleep for the fleet's next permit when `max_wait` has room for it.
    fn settle(&self, decision: QuotaDecision, elapsed: Duration, waited: bool) -> Settled {
        let wait = match decision {
            QuotaDecision::Admitted => {
                self.admitted.increment();
                if waited {
                    self.waited.fetch_add(1, Relaxed);
                    self.events.waited(elapsed);
                }
                return Settled::Done(Ok(()));
            }
            QuotaDecision::Local => return Settled::Local,
            QuotaDecision::Refused(retry_after) => {
                self.rejections.fetch_add(1, Relaxed);
                return Settled::Done(Err(self.limited(retry_after)));
            }
            QuotaDecision::Wait(wait) => wait,
        };
        if elapsed.saturating_add(wait) > self.config().max_wait {
            self.rejections.fetch_add(1, Relaxed);
            return Settled::Done(Err(self.limited(wait)));
        }
        Settled::Sleep(wait)
    }

    /// Waits for a permit, `wait` being the time until the next one, for up to `max_wait`.
    async fn wait_for_permit(&self, mut wait: Duration) -> Result<(), Error> {
        let start = time::now();
        let max_wait = self.config().max_wait;
        loop {
            // Give up at once when the next permit comes later than `max_wait` allows.
            let waited = Duration::from_nanos(time::now().saturating_sub(start));
            if waited.saturating_add(wait) > max_wait {
                self.rejections.fetch_add(1, Relaxed);
                return Err(self.limited(wait));
            }
            // Waiting holds nothing: a caller dropped here has taken no permit.
            time::sleep(wait).await;
            match self.admit() {
                Ok(()) => {
                    self.admitted.increment();
                    self.waited.fetch_add(1, Relaxed);
                    self.events
                        .waited(Duration::from_nanos(time::now().saturating_sub(start)));
                    return Ok(());
                }
                Err(next) => wait = next,
            }
        }
    }

    /// Runs `f` once a permit is taken.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`], converted into `E`, when no permit is free within
    /// `max_wait`; otherwise what `f` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// let found: Result<&str, Error> = limiter.call(|| async { Ok("Main St 1") }).await;
    /// assert_eq!(found, Ok("Main St 1"));
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

    /// The limiter as one layer of a stack: see [`pipeline`](crate::pipeline).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// use resilience::pipeline::{body, finish};
    /// let outcome = limiter.layer(|| body(async { Ok::<_, Error>(1) })).await;
    /// assert_eq!(finish(outcome), Ok(1));
    /// # }
    /// ```
    pub async fn layer<T, E, F, Fut>(&self, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        if let Some(shared) = self.shared.get() {
            if let Err(limited) = self.acquire_shared(&**shared).await {
                return Err(Failure::Rejected(limited));
            }
            return next().await;
        }
        // The admitted path stays out of the waiting future: no state machine to set up
        // around one compare-and-swap.
        match self.admit() {
            Ok(()) => self.admitted.increment(),
            Err(wait) => {
                if let Err(limited) = self.wait_for_permit(wait).await {
                    return Err(Failure::Rejected(limited));
                }
            }
        }
        next().await
    }

    /// This limiter's [events](crate::events): the calls it rejected and those that
    /// waited for a permit, from now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use resilience::events::Detail;
    /// use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let config = RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(1));
    /// let limiter = RateLimiter::new("api", config).unwrap();
    /// let mut events = limiter.subscribe();
    /// assert!(limiter.try_acquire().is_ok());
    /// let rejected = limiter.try_acquire().unwrap_err();
    /// assert_eq!(events.try_recv().unwrap().detail, Detail::Rejected { error: rejected });
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// Counters since creation.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{Error, RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(1))).unwrap();
    /// assert_eq!(limiter.stats().admitted, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> RateLimiterStats {
        RateLimiterStats {
            admitted: self.admitted.get(),
            waited: self.waited.load(Relaxed),
            rejections: self.rejections.load(Relaxed),
            shared: self.shared.get().map(|_| self.link.stats()),
        }
    }

    /// Admits a call now, or says how long until one could be admitted.
    #[inline]
    fn admit(&self) -> Result<(), Duration> {
        self.admit_at(time::now)
    }

    /// [`admit`](Self::admit) on the clock `now`, which the loom models drive.
    #[inline]
    fn admit_at(&self, now: impl Fn() -> time::Tick) -> Result<(), Duration> {
        // Read the clock after the state it is compared with, on every attempt: a time read
        // before another caller's update would judge the new state by an older instant
        // (loom found this: a false rejection in the bucket, a count reset in a window).
        let elapsed = || self.origin.elapsed(now());
        // The parameters too are read on every attempt: a reload changes them and the
        // state together, which fails the compare-and-swap of a caller that read both
        // before it.
        let result = match &self.state {
            Algo::TokenBucket { bucket, tat } => {
                update(tat, |tat| bucket.get().admit(tat, elapsed()))
            }
            Algo::FixedWindow { fixed, word } => {
                update(word, |word| fixed.get().admit(word, elapsed()))
            }
            Algo::SlidingWindow { log } => {
                // No user code runs under this lock, so a poisoned lock holds a sound log.
                let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                let config = self.config();
                log.admit(elapsed(), time::nanos(config.window), config.max_requests)
            }
        };
        result.map_err(Duration::from_nanos)
    }

    /// Returns the limiter to its initial state: the full quota available, every counter at
    /// zero. Calls waiting for a permit go on waiting and try again when they wake.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{RateLimiter, RateLimiterConfig};
    /// let limiter = RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(60))).unwrap();
    /// limiter.try_acquire().unwrap();
    /// assert!(limiter.try_acquire().is_err());
    /// limiter.reset();
    /// assert_eq!(limiter.stats().rejections, 0);
    /// assert!(limiter.try_acquire().is_ok());
    /// # }
    /// ```
    pub fn reset(&self) {
        self.origin.restart(time::now(), 0);
        match &self.state {
            Algo::TokenBucket { tat, .. } => tat.store(0, Release),
            Algo::FixedWindow { word, .. } => word.store(0, Release),
            Algo::SlidingWindow { log, .. } => {
                *log.lock().unwrap_or_else(PoisonError::into_inner) = SlidingLog::default();
            }
        }
        self.admitted.reset();
        self.waited.store(0, Relaxed);
        self.rejections.store(0, Relaxed);
    }

    /// Whether the full quota is available again: the state a fresh limiter has, so a keyed
    /// limiter may drop this one and lose nothing.
    pub(crate) fn is_full(&self, now: time::Tick) -> bool {
        let elapsed = self.origin.elapsed(now);
        match &self.state {
            Algo::TokenBucket { bucket, tat } => bucket.get().is_full(tat.load(Acquire), elapsed),
            Algo::FixedWindow { fixed, word } => fixed.get().is_unused(word.load(Acquire), elapsed),
            Algo::SlidingWindow { log } => log
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_unused(elapsed, time::nanos(self.config().window)),
        }
    }

    /// The rejection of a call, reported to the [events](crate::events).
    #[cold]
    pub(crate) fn limited(&self, retry_after: Duration) -> Error {
        let limited = Error::RateLimited {
            name: Arc::clone(&self.name),
            retry_after,
        };
        self.events.rejected(&limited);
        limited
    }
}

/// What is left of a shared admission after one decision of the store.
enum Settled {
    /// Admitted or rejected, counted and reported.
    Done(Result<(), Error>),
    /// The store sends this admission to the limiter's own quota.
    Local,
    /// Sleep this long, then ask the store again.
    Sleep(Duration),
}

/// The token bucket of `config`.
fn token_bucket(config: &RateLimiterConfig) -> TokenBucket {
    let capacity = config.burst.unwrap_or(config.max_requests);
    TokenBucket::new(config.max_requests, config.window, capacity)
}

/// The fixed window of `config`.
fn fixed_window(config: &RateLimiterConfig) -> FixedWindow {
    FixedWindow {
        window: time::nanos(config.window),
        max: config.max_requests,
    }
}

/// Moves `cell` into a reload's terms with compare-and-swap: a caller that admitted
/// meanwhile under the old terms is rescaled too.
fn rescale(cell: &AtomicU64, into: impl Fn(u64) -> u64) {
    let mut current = cell.load(Acquire);
    loop {
        match cell.compare_exchange_weak(current, into(current), AcqRel, Acquire) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

/// Applies `admit` to `cell` with compare-and-swap until it sticks or refuses; `admit` runs
/// after each load, so what it reads (the clock) is no older than the state it sees.
#[inline]
fn update(cell: &AtomicU64, admit: impl Fn(u64) -> Result<u64, u64>) -> Result<(), u64> {
    let mut current = cell.load(Acquire);
    loop {
        let next = admit(current)?;
        match cell.compare_exchange_weak(current, next, AcqRel, Acquire) {
            Ok(_) => return Ok(()),
            Err(actual) => current = actual,
        }
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.name)
            .field("config", self.config())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod concurrency {
    //! The lock-free limiters under concurrent admission: model-checked under `--cfg loom`,
    //! repeated on real threads otherwise.

    use std::sync::atomic::Ordering::SeqCst;

    use super::*;

    use crate::sync::model::{model, thread, Arc};

    #[test]
    fn three_callers_two_permits_two_admitted() {
        for algorithm in [Algorithm::TokenBucket, Algorithm::FixedWindow] {
            model(move || {
                let config = RateLimiterConfig {
                    max_requests: 2,
                    window: Duration::from_secs(3600),
                    algorithm,
                    ..Default::default()
                };
                let limiter = Arc::new(RateLimiter::new("loom", config).expect("valid"));
                let threads: Vec<_> = (0..2)
                    .map(|_| {
                        let limiter = Arc::clone(&limiter);
                        thread::spawn(move || limiter.try_acquire().is_ok())
                    })
                    .collect();
                let here = usize::from(limiter.try_acquire().is_ok());
                let admitted = here
                    + threads
                        .into_iter()
                        .map(|t| usize::from(t.join().unwrap()))
                        .sum::<usize>();
                assert_eq!(admitted, 2, "{algorithm:?}");
            });
        }
    }

    /// A reload to a quota of one racing an admission under the quota of two: whichever
    /// comes first, at most the old quota is admitted, and the quota used is carried over,
    /// so the new quota of one is used up afterwards.
    #[test]
    fn an_admission_racing_a_shrink_is_counted_and_carried_over() {
        for algorithm in [Algorithm::TokenBucket, Algorithm::FixedWindow] {
            model(move || {
                let config = RateLimiterConfig {
                    max_requests: 2,
                    window: Duration::from_secs(3600),
                    algorithm,
                    ..Default::default()
                };
                let limiter = Arc::new(RateLimiter::new("loom", config.clone()).expect("valid"));
                limiter.try_acquire().expect("the first of two");
                let other = {
                    let limiter = Arc::clone(&limiter);
                    thread::spawn(move || limiter.try_acquire().is_ok())
                };
                let one = RateLimiterConfig {
                    max_requests: 1,
                    ..config
                };
                limiter.reconfigure(one).expect("valid");
                let admitted = 1 + usize::from(other.join().unwrap());
                assert!(admitted <= 2, "{algorithm:?}: {admitted} admitted");
                assert!(
                    limiter.try_acquire().is_err(),
                    "{algorithm:?}: the quota used was lost"
                );
            });
        }
    }

    /// Where the fixed-window bug lived: a caller that read the clock before another moved
    /// the window on reset the new window's count to its own, older one. Here one caller
    /// moves the clock across a window boundary while two others admit: a quota of one per
    /// window admits at most two in the two windows the model spans.
    #[test]
    fn one_per_window_across_a_boundary_admits_at_most_one_per_window() {
        for algorithm in [Algorithm::TokenBucket, Algorithm::FixedWindow] {
            model(move || {
                let config = RateLimiterConfig {
                    max_requests: 1,
                    window: Duration::from_nanos(1000),
                    algorithm,
                    ..Default::default()
                };
                let limiter = Arc::new(RateLimiter::new("loom", config).expect("valid"));
                let start = time::now();
                limiter.origin.restart(start, 0);
                let clock = Arc::new(AtomicU64::new(start + 500));
                let admits = |limiter: &RateLimiter, clock: &AtomicU64| {
                    usize::from(limiter.admit_at(|| clock.load(SeqCst)).is_ok())
                };
                let crossing = {
                    let (limiter, clock) = (Arc::clone(&limiter), Arc::clone(&clock));
                    thread::spawn(move || {
                        clock.store(start + 1500, SeqCst);
                        admits(&limiter, &clock)
                    })
                };
                let other = {
                    let (limiter, clock) = (Arc::clone(&limiter), Arc::clone(&clock));
                    thread::spawn(move || admits(&limiter, &clock))
                };
                let here = admits(&limiter, &clock);
                let admitted = here + crossing.join().unwrap() + other.join().unwrap();
                assert!(admitted <= 2, "{algorithm:?}: {admitted} admitted");
                assert!(admitted >= 1, "{algorithm:?}: nothing admitted");
            });
        }
    }
}
