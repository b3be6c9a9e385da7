//! The breaker itself: admission, outcomes, manual control, and its pipeline layer.

use super::config::CircuitBreakerConfig;
#[cfg(feature = "tower")]
use super::permit::Call;
use super::permit::{CallPermit, OwnedCallPermit};
use super::state::{Permit, Report, State};
use super::stats::{CircuitBreakerStats, CircuitState, WindowStats};
use super::window::{Mark, Tally, Window};
use crate::counter::Counter;
use crate::events::{Emitter, Subscription};
use crate::live::Live;
use crate::pipeline::{self, Failure, Outcome, Verdict};
use crate::shared::{AlreadyShared, Link, SharedCircuit, SharedView};
use crate::sync::{AtomicU64, Mutex};
use crate::time::{self, millis_ceil, Origin};
use crate::{ConfigError, Error, Kind};
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
#[cfg(feature = "tower")]
use std::ops::Deref;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicU64 as Count;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::{Arc, OnceLock, PoisonError};
use std::time::Duration;

const SECOND: u64 = 1_000_000_000;

/// A circuit breaker: after `failure_threshold` consecutive failures it opens and rejects
/// every call with [`Error::CircuitOpen`] for `recovery_timeout`; then it lets up to
/// `half_open_max_calls` probes through; `success_threshold` consecutive successful probes
/// close it, and any failed probe opens it again. With a failure-rate or slow-call rule it
/// opens on the rates over a sliding window instead (see [`CircuitBreakerConfig`]).
///
/// A closed breaker admits a call with one atomic load and, on success, writes nothing
/// shared. For a call that is not one future, [`try_acquire`](Self::try_acquire) admits it
/// and hands over a [`CallPermit`] to report its outcome on. Clone the `Arc` it lives in to share it; the [`registry`](crate::registry) does so
/// by name.
///
/// ```
/// use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let breaker = CircuitBreaker::new("inventory", CircuitBreakerConfig::DEFAULT.failure_threshold(2))?;
/// for _ in 0..2 {
///     let _ = breaker.call(|| async { Err::<(), Error>(down()) }).await;
/// }
/// assert_eq!(breaker.state(), CircuitState::Open);
/// let rejected = breaker.call(|| async { Ok::<_, Error>("never runs") }).await;
/// assert!(matches!(rejected, Err(Error::CircuitOpen { .. })));
/// # Ok(()) }
/// # fn down() -> Error { Error::BulkheadFull { name: "x".into(), max_concurrent: 1 } }
/// ```
pub struct CircuitBreaker {
    name: Arc<str>,
    config: Live<CircuitBreakerConfig>,
    origin: Origin,
    word: AtomicU64,
    successes: Counter,
    failures: Count,
    abandoned: Count,
    rejections: Count,
    slow_calls: Count,
    /// Changes of state, by the state entered (indexed by [`CircuitState::index`]).
    transitions: [Count; CircuitState::ALL.len()],
    /// Held while the state changes and the change is reported; see `swap`.
    transitioning: Mutex<()>,
    events: Emitter,
    /// The calls of the closed phase, for a failure-rate or slow-call rule.
    window: Option<Window>,
    /// Failed probes since the breaker last closed: how far `recovery_backoff` has grown
    /// the open duration.
    reopenings: AtomicU32,
    /// The fleet's breaker, once [`share`](Self::share) installed it; read off the
    /// success path only.
    shared: OnceLock<Arc<dyn SharedCircuit>>,
    /// Whether the fleet's state is reachable, as the store reports it: for the stats.
    link: Link,
}

impl CircuitBreaker {
    /// A closed breaker named `name`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`CircuitBreakerConfig::validate`].
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap();
    /// assert_eq!(breaker.name(), "search");
    /// assert!(CircuitBreaker::new("bad", CircuitBreakerConfig::DEFAULT.failure_threshold(0)).is_err());
    /// ```
    pub fn new(
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
    ) -> Result<Self, ConfigError> {
        Self::counting(name.into(), config, Counter::default())
    }

    /// One key's instance of a keyed one: see `PerKey::one_of_many`.
    pub(crate) fn one_of_many(
        name: Arc<str>,
        config: CircuitBreakerConfig,
    ) -> Result<Self, ConfigError> {
        Self::counting(name, config, Counter::single())
    }

    fn counting(
        name: Arc<str>,
        config: CircuitBreakerConfig,
        successes: Counter,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            events: Emitter::new(&name, Kind::CircuitBreaker),
            name,
            window: config
                .is_windowed()
                .then(|| Window::new(config.sliding_window)),
            reopenings: AtomicU32::new(0),
            slow_calls: Count::new(0),
            config: Live::new(config),
            origin: Origin::new(time::now()),
            word: AtomicU64::new(State::INITIAL.pack()),
            successes,
            failures: Count::new(0),
            abandoned: Count::new(0),
            rejections: Count::new(0),
            transitions: Default::default(),
            transitioning: Mutex::new(()),
            shared: OnceLock::new(),
            link: Link::default(),
        })
    }

    /// Makes this breaker one view of a breaker shared by many processes: from now on
    /// `shared` decides every call the breaker's word does not let through by itself, and
    /// hears every outcome but a success while the fleet is clean closed. Called by a
    /// store such as `resilience-redis`, once, before the shared state is known: the
    /// breaker stays as it is until the store calls
    /// [`set_shared_view`](Self::set_shared_view). Shared, a breaker counts consecutive
    /// failures only (a rate rule's window stays in each process).
    ///
    /// # Errors
    ///
    /// [`AlreadyShared`] if a hook is installed already.
    ///
    /// The [`shared`](crate::shared) module's example implements a hook.
    pub fn share(&self, shared: Arc<dyn SharedCircuit>) -> Result<(), AlreadyShared> {
        self.shared.set(shared).map_err(|_| AlreadyShared {
            name: Arc::clone(&self.name),
        })
    }

    /// What the fleet's state means for this process's calls: a shared breaker's store
    /// calls this each time it learns the fleet's state. Does nothing to an unshared
    /// breaker.
    ///
    /// ```
    /// use resilience::shared::SharedView;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = CircuitBreaker::new("not shared", CircuitBreakerConfig::default()).unwrap();
    /// breaker.set_shared_view(SharedView::NotClosed);
    /// assert!(breaker.is_closed());
    /// ```
    pub fn set_shared_view(&self, view: SharedView) {
        if self.shared.get().is_none() {
            return;
        }
        let next = match view {
            SharedView::Closed {
                generation,
                failures,
            } => State::Closed {
                // The word keeps the low 30 bits, and calls report under them.
                generation: (generation & u64::from(u32::MAX >> 2)) as u32,
                failures: u32::from(failures),
            },
            // Any word that is not closed sends every call to the hook; a forced-open one
            // reads no clock.
            SharedView::NotClosed => State::ForcedOpen { generation: 0 },
            SharedView::Local => self.load().reset(),
            SharedView::LocalOpen(left) => State::Open {
                until_ms: millis_ceil(self.elapsed().saturating_add(left)),
            },
        };
        // No event here: the store reports the fleet's transitions itself
        // (`shared_transition`), since the word stands for them only roughly.
        self.word.store(next.pack(), Release);
    }

    /// Reports a change of the fleet's state, learned by a shared breaker's store, as the
    /// breaker's own transitions are: counted in the stats, sent to subscribers and
    /// `tracing`. Does nothing to an unshared breaker.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
    /// let breaker = CircuitBreaker::new("alone", CircuitBreakerConfig::default()).unwrap();
    /// breaker.shared_transition(CircuitState::Closed, CircuitState::Open);
    /// assert_eq!(breaker.stats().transitions, 0);
    /// ```
    pub fn shared_transition(&self, from: CircuitState, to: CircuitState) {
        if self.shared.get().is_none() || from == to {
            return;
        }
        let _ordered = self
            .transitioning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.transitions[to.index()].fetch_add(1, Relaxed);
        self.events.transition(from, to);
    }

    /// Reports that the shared state became unreachable (`available == false`: the
    /// breaker follows its store's fallback mode) or reachable again: one event and one
    /// `tracing` warning each change (a report that changes nothing is ignored), and the
    /// [`SharedStats`](crate::shared::SharedStats) of [`stats`](Self::stats) and the
    /// metrics follow. Does nothing to an unshared breaker.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = CircuitBreaker::new("alone", CircuitBreakerConfig::default()).unwrap();
    /// breaker.shared_availability(false); // not shared: nothing happens
    /// assert_eq!(breaker.stats().shared, None);
    /// ```
    pub fn shared_availability(&self, available: bool) {
        if self.shared.get().is_some() && self.link.report(available) {
            self.events.shared_availability(available);
        }
    }

    /// The fleet's breaker, when it decides (its store is reachable, or set to reject).
    #[inline]
    fn hook(&self) -> Option<&dyn SharedCircuit> {
        self.shared
            .get()
            .map(|shared| &**shared)
            .filter(|shared| shared.in_charge())
    }

    /// The breaker's name.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert_eq!(breaker.name(), "api");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The breaker's configuration.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert_eq!(breaker.config().failure_threshold, 1);
    /// ```
    pub fn config(&self) -> &CircuitBreakerConfig {
        self.config.get()
    }

    /// Sets a new configuration from now on, keeping the breaker's state:
    ///
    /// - **open**: stays open until its recovery deadline under the new config, the time
    ///   it opened plus the new recovery timeout (grown by `recovery_backoff` as the
    ///   reopenings so far say); a deadline already past lets the next call probe;
    /// - **half-open**: the probes running keep their slots; the new `half_open_max_calls`
    ///   and `success_threshold` apply to the next probe admitted and the next outcome;
    /// - **closed**: the failures counted so far (and a window's calls) stay; the new
    ///   thresholds apply from the next outcome, so a threshold lowered to or below the
    ///   failures already counted opens the breaker at the next failure;
    /// - forced open or disabled by hand: unchanged.
    ///
    /// Emits [`Detail::Reconfigured`](crate::events::Detail::Reconfigured) when the config
    /// changes.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`CircuitBreakerConfig::validate`], and a change the running
    /// breaker cannot take (a new `sliding_window`, or a failure-rate or slow-call rule set
    /// or removed: its window and its calls' timing are fixed at its start), or, for a
    /// breaker a fleet shares, a config it cannot share
    /// ([`CircuitBreakerConfig::shareable`]). The breaker is unchanged then.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let config = CircuitBreakerConfig::DEFAULT.failure_threshold(1).recovery_timeout(Duration::from_secs(60));
    /// let breaker = CircuitBreaker::new("api", config.clone()).unwrap();
    /// breaker.record_failure();
    /// breaker.reconfigure(config.recovery_timeout(Duration::from_secs(10))).unwrap();
    /// tokio::time::advance(Duration::from_secs(10)).await;
    /// assert!(breaker.can_execute(), "open until the new deadline only");
    /// # }
    /// ```
    pub fn reconfigure(&self, config: CircuitBreakerConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.config().reloadable_into(&config)?;
        if self.shared.get().is_some() {
            config.shareable()?;
        }
        let shift = |previous: &CircuitBreakerConfig, next: &CircuitBreakerConfig| {
            let reopenings = self.reopenings.load(Relaxed);
            let (was, now) = (
                previous.open_duration(reopenings),
                next.open_duration(reopenings),
            );
            self.update(|state| match state {
                State::Open { until_ms } => Some(State::Open {
                    until_ms: millis_ceil(
                        Duration::from_millis(until_ms).saturating_sub(was) + now,
                    ),
                }),
                _ => None,
            });
        };
        if let Some((previous, next)) = self.config.reload(config, shift) {
            self.events.reconfigured(previous.changes(next));
        }
        Ok(())
    }

    /// Runs `f` if the breaker admits the call; every `Err` counts as a failure.
    ///
    /// # Errors
    ///
    /// [`Error::CircuitOpen`], converted into `E`, when the breaker rejects the call;
    /// otherwise whatever `f` returns.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::new("db", CircuitBreakerConfig::default()).unwrap();
    /// let rows: Result<u32, anyhow::Error> = breaker.call(|| async { Ok(3) }).await;
    /// assert_eq!(rows.unwrap(), 3);
    /// # }
    /// ```
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.call_with(|_| true, f).await
    }

    /// Runs `f` if the breaker admits the call; only errors for which `failure_if` returns
    /// `true` count as failures, the others as successes (the downstream did answer).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// #[derive(Debug)]
    /// enum ApiError { NotFound, Unavailable, Rejected(resilience::Error) }
    /// impl From<resilience::Error> for ApiError { fn from(e: resilience::Error) -> Self { Self::Rejected(e) } }
    ///
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// let is_outage = |e: &ApiError| matches!(e, ApiError::Unavailable);
    /// let _ = breaker.call_with(is_outage, || async { Err::<(), _>(ApiError::NotFound) }).await;
    /// assert_eq!(breaker.state(), CircuitState::Closed);
    /// let _ = breaker.call_with(is_outage, || async { Err::<(), _>(ApiError::Unavailable) }).await;
    /// assert_eq!(breaker.state(), CircuitState::Open);
    /// # }
    /// ```
    pub async fn call_with<T, E, F, Fut>(
        &self,
        failure_if: impl Fn(&E) -> bool,
        f: F,
    ) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        pipeline::finish(self.layer(failure_if, || pipeline::body(f())).await)
    }

    /// The breaker as one layer of a stack: see [`pipeline`](crate::pipeline).
    ///
    /// Rejections from inner layers are read as the DESIGN says: an inner `Timeout` is a
    /// failure, an inner `RateLimited`, `BulkheadFull` or `CircuitOpen` is neither.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// use resilience::pipeline::{body, Failure};
    /// let outcome = breaker.layer(|_| true, || body(async { Err::<(), _>(Error::BulkheadFull { name: "x".into(), max_concurrent: 1 }) })).await;
    /// assert!(matches!(outcome, Err(Failure::Inner(_))), "the body's error, kept apart from rejections");
    /// let rejected = breaker.layer(|_| true, || body(async { Ok::<_, Error>(()) })).await;
    /// assert!(matches!(rejected, Err(Failure::Rejected(Error::CircuitOpen { .. }))));
    /// # }
    /// ```
    pub async fn layer<T, E, F, Fut>(
        &self,
        failure_if: impl Fn(&E) -> bool,
        next: F,
    ) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        // The permit is the guard: dropped with this future, or by a panic in `next`, it
        // reports the call abandoned.
        let permit = match self.try_acquire() {
            Ok(permit) => permit,
            Err(error) => return Err(Failure::Rejected(error)),
        };
        let outcome = next().await;
        permit.finish(match Verdict::of(&outcome, failure_if) {
            Verdict::Success => Report::Success,
            Verdict::Failure => Report::Failure,
            Verdict::Neither => Report::Abandoned,
        });
        outcome
    }

    /// Runs `f` on this thread if the breaker admits the call: the counterpart of
    /// [`call`](Self::call) for plain (non-async) code, sharing the state and counters with
    /// async callers. A panic in `f` counts as neither a success nor a failure, as a
    /// dropped call does, and gives a probe slot back. The breaker reads the real clock
    /// here, even inside a runtime whose clock is paused.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, Error};
    /// let breaker = CircuitBreaker::new("disk", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// let read: Result<u32, anyhow::Error> = breaker.call_blocking(|| Err(anyhow::anyhow!("disk gone")));
    /// assert!(read.is_err());
    /// let rejected: Result<u32, Error> = breaker.call_blocking(|| Ok(1));
    /// assert!(matches!(rejected, Err(Error::CircuitOpen { .. })));
    /// ```
    pub fn call_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Result<T, E>,
    {
        pipeline::finish(self.layer_blocking(|_| true, || pipeline::body_blocking(f)))
    }

    /// The breaker as one layer of a stack of plain (non-async) code: see
    /// [`call_blocking`](Self::call_blocking) and [`layer`](Self::layer).
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, Error};
    /// use resilience::pipeline::{body_blocking, finish};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::default()).unwrap();
    /// let outcome = breaker.layer_blocking(|_| true, || body_blocking(|| Ok::<_, Error>(1)));
    /// assert_eq!(finish(outcome), Ok(1));
    /// ```
    pub fn layer_blocking<T, E, F>(&self, failure_if: impl Fn(&E) -> bool, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Outcome<T, E>,
    {
        // The permit is the guard: a panic in `next` drops it, which reports the call
        // abandoned.
        let permit = match time::on_real_clock(|| self.try_acquire()) {
            Ok(permit) => permit,
            Err(error) => return Err(Failure::Rejected(error)),
        };
        let outcome = next();
        let report = match Verdict::of(&outcome, failure_if) {
            Verdict::Success => Report::Success,
            Verdict::Failure => Report::Failure,
            Verdict::Neither => Report::Abandoned,
        };
        time::on_real_clock(|| permit.finish(report));
        outcome
    }

    /// Admits one call now, exactly as [`call`](Self::call) would, and hands over its
    /// outcome: report it on the [`CallPermit`], or drop the permit to count the call as
    /// abandoned. A half-open breaker gives the permit one of its `half_open_max_calls`
    /// probe slots, held until the permit ends.
    ///
    /// For a call that is not one future: a response whose body streams after the
    /// headers, a connection checked out of a pool, a step of a state machine.
    ///
    /// # Errors
    ///
    /// [`Error::CircuitOpen`] when the breaker rejects the call, counted as a rejection.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("feed", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// let permit = breaker.try_acquire()?;
    /// // ... the response's last chunk arrives broken:
    /// permit.failure();
    /// assert!(matches!(breaker.try_acquire(), Err(Error::CircuitOpen { state: CircuitState::Open, .. })));
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<CallPermit<'_>, Error> {
        self.admit().map(|permit| CallPermit::new(self, permit))
    }

    /// [`try_acquire`](Self::try_acquire) on a shared breaker: the permit holds the `Arc`,
    /// so it can move into a spawned task or a stream's state.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), resilience::Error> {
    /// # use std::sync::Arc;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = Arc::new(CircuitBreaker::new("feed", CircuitBreakerConfig::default()).unwrap());
    /// let permit = Arc::clone(&breaker).try_acquire_owned()?;
    /// let body = tokio::spawn(async move {
    ///     // ... read the body to its last chunk, then:
    ///     permit.success();
    /// });
    /// body.await.unwrap();
    /// assert_eq!(breaker.stats().successes, 1);
    /// # Ok(()) }
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedCallPermit, Error> {
        let permit = self.admit()?;
        Ok(OwnedCallPermit::new(self, permit))
    }

    /// [`try_acquire`](Self::try_acquire) on a breaker held as `B`: the tower layer's,
    /// borrowed for good or shared.
    #[cfg(feature = "tower")]
    pub(crate) fn try_acquire_held<B: Deref<Target = Self>>(breaker: B) -> Result<Call<B>, Error> {
        let permit = breaker.admit()?;
        Ok(Call::new(breaker, permit))
    }

    /// The state now. An open breaker whose recovery timeout is over reads as half-open:
    /// the next call will be a probe.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::new("db", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert_eq!(breaker.state(), CircuitState::Closed);
    /// breaker.record_failure();
    /// assert_eq!(breaker.state(), CircuitState::Open);
    /// # }
    /// ```
    pub fn state(&self) -> CircuitState {
        if let Some(shared) = self.hook() {
            return shared.state();
        }
        match self.load() {
            State::Open { until_ms } if self.elapsed() >= Duration::from_millis(until_ms) => {
                CircuitState::HalfOpen
            }
            state => state.circuit_state(),
        }
    }

    /// `state() == CircuitState::Open` (not [`ForcedOpen`](CircuitState::ForcedOpen)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert!(!breaker.is_open());
    /// breaker.record_failure();
    /// assert!(breaker.is_open());
    /// # }
    /// ```
    pub fn is_open(&self) -> bool {
        self.state() == CircuitState::Open
    }

    /// `state() == CircuitState::Closed`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert!(breaker.is_closed());
    /// # }
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state() == CircuitState::Closed
    }

    /// `state() == CircuitState::HalfOpen`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// breaker.record_failure();
    /// tokio::time::advance(std::time::Duration::from_secs(60)).await;
    /// assert!(breaker.is_half_open());
    /// # }
    /// ```
    pub fn is_half_open(&self) -> bool {
        self.state() == CircuitState::HalfOpen
    }

    /// Whether a call made now would be let through: a look, not a reservation. It takes
    /// no probe slot, so any number of callers may see `true` from a half-open breaker
    /// that admits one probe; [`try_acquire`](Self::try_acquire) is the reservation.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::new("db", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert!(breaker.can_execute());
    /// breaker.record_failure();
    /// assert!(!breaker.can_execute());
    /// # }
    /// ```
    pub fn can_execute(&self) -> bool {
        if let Some(shared) = self.hook() {
            // A look, not a lease: half-open may have no slot left, as it may locally.
            return matches!(
                shared.state(),
                CircuitState::Closed | CircuitState::HalfOpen | CircuitState::Disabled
            );
        }
        self.load().admit(self.elapsed(), self.config()).is_ok()
    }

    /// Counts a success as if a call had just succeeded, in the state and in the stats.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(2)).unwrap();
    /// breaker.record_failure();
    /// breaker.record_success(); // resets the consecutive count
    /// breaker.record_failure();
    /// assert!(breaker.is_closed());
    /// # }
    /// ```
    pub fn record_success(&self) {
        self.successes.increment();
        self.record(Report::Success);
    }

    /// Counts a failure as if a call had just failed, in the state and in the stats; may
    /// open the breaker.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// breaker.record_failure();
    /// assert!(breaker.is_open());
    /// assert_eq!(breaker.stats().failures, 1);
    /// # }
    /// ```
    pub fn record_failure(&self) {
        self.failures.fetch_add(1, Relaxed);
        self.record(Report::Failure);
    }

    /// An outcome recorded by hand: into the window while closed, and into the state.
    fn record(&self, report: Report) {
        if let Some(shared) = self.hook() {
            if let Some(issued) = State::closed_generation(self.word.load(Acquire)) {
                shared.report(issued, false, report.into());
            }
            return;
        }
        if let Some(window) = &self.window {
            if let Some(issued) = State::closed_generation(self.word.load(Acquire)) {
                let now = if window.is_timed() { self.nanos() } else { 0 };
                self.conclude(window, issued, report == Report::Failure, false, now);
                if self.config().failure_rate_threshold.is_some() {
                    return;
                }
            }
        }
        // Only a failure can open the breaker, and only opening needs the time.
        let now = match report {
            Report::Failure => self.elapsed(),
            _ => Duration::ZERO,
        };
        let reopened = self.reopened();
        self.update(|state| state.record(report, now, self.opening(state, &reopened)));
    }

    /// Opens the breaker until [`reset`](Self::reset): every call is rejected with
    /// [`Error::CircuitOpen`] in [`CircuitState::ForcedOpen`], whose `retry_after` is the
    /// recovery timeout (the breaker cannot know when it will be closed by hand). Calls
    /// already running are not counted afterwards.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::default()).unwrap();
    /// breaker.force_open();
    /// let rejected = breaker.call(|| async { Ok::<_, Error>(()) }).await;
    /// assert!(matches!(rejected, Err(Error::CircuitOpen { state: CircuitState::ForcedOpen, .. })));
    /// breaker.reset();
    /// assert!(breaker.is_closed());
    /// # }
    /// ```
    pub fn force_open(&self) {
        self.update(|state| Some(state.force_open()));
    }

    /// Switches the breaker off until [`reset`](Self::reset): every call goes through and
    /// is counted in the stats, and no outcome changes the state.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// breaker.disable();
    /// for _ in 0..3 {
    ///     let _ = breaker.call(|| async { Err::<(), _>(Error::Timeout { name: "x".into(), after: Default::default() }) }).await;
    /// }
    /// assert_eq!(breaker.state(), CircuitState::Disabled);
    /// assert_eq!(breaker.stats().failures, 3);
    /// # }
    /// ```
    pub fn disable(&self) {
        self.update(|state| Some(state.disable()));
    }

    /// Back to its initial state: closed, out of [`force_open`](Self::force_open) or
    /// [`disable`](Self::disable), every counter at zero. Calls already running when it is
    /// reset do not change the state afterwards (their outcomes are counted in the stats).
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::new("db", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// breaker.record_failure();
    /// breaker.reset();
    /// assert!(breaker.is_closed());
    /// assert_eq!(breaker.stats().failures, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.update(|state| Some(state.reset()));
        self.successes.reset();
        for counter in [
            &self.failures,
            &self.abandoned,
            &self.rejections,
            &self.slow_calls,
        ]
        .into_iter()
        .chain(&self.transitions)
        {
            counter.store(0, Relaxed);
        }
    }

    /// This breaker's [events](crate::events): its transitions and rejections, from now
    /// on. The breaker turns half-open when the first call after the recovery timeout
    /// arrives, so that is when the transition to half-open is reported.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use resilience::events::Detail;
    /// use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// let mut events = breaker.subscribe();
    /// breaker.record_failure();
    /// let _ = breaker.call(|| async { Ok::<_, Error>(()) }).await;
    /// let opened = events.recv().await.unwrap();
    /// assert_eq!(opened.detail, Detail::StateChanged { from: CircuitState::Closed, to: CircuitState::Open });
    /// let rejected = events.recv().await.unwrap();
    /// assert!(matches!(rejected.detail, Detail::Rejected { error: Error::CircuitOpen { .. } }));
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// Counters since creation (or the last [`reset`](Self::reset)), and the state now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// assert_eq!(breaker.stats().calls, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> CircuitBreakerStats {
        let successes = self.successes.get();
        let failures = self.failures.load(Relaxed);
        let abandoned = self.abandoned.load(Relaxed);
        let rejections = self.rejections.load(Relaxed);
        let entered = self.transitions.each_ref().map(|count| count.load(Relaxed));
        CircuitBreakerStats {
            state: self.state(),
            recorded_state: match self.hook() {
                Some(shared) => shared.state(),
                None => self.load().circuit_state(),
            },
            calls: successes + failures + abandoned + rejections,
            successes,
            failures,
            abandoned,
            rejections,
            slow_calls: self.slow_calls.load(Relaxed),
            transitions: entered.iter().sum(),
            entered,
            window: self.window.as_ref().map(|window| {
                let Tally {
                    calls,
                    failures,
                    slow,
                } = self.tally(window);
                WindowStats {
                    calls,
                    failures,
                    slow_calls: slow,
                    minimum_calls: self.config().rated_after(),
                }
            }),
            shared: self.shared.get().map(|_| self.link.stats()),
        }
    }

    /// Whether the breaker is closed with no failure counted and, under a rate rule, no
    /// failure or slow call in its window: nothing that could bring it nearer to opening
    /// than a fresh breaker is, so a keyed breaker may drop this one. What it forgets is
    /// successes only. (A count window never empties: were successes kept, every key of a
    /// rate-mode keyed breaker would hold its place for good once used.)
    pub(crate) fn is_clean_closed(&self) -> bool {
        State::is_clean_closed(self.word.load(Acquire))
            && self.window.as_ref().is_none_or(|window| {
                let tally = self.tally(window);
                tally.failures == 0 && tally.slow == 0
            })
    }

    /// What `window` holds now: a time window is read at this second (the clock is read
    /// only for one), a count window whenever.
    fn tally(&self, window: &Window) -> Tally {
        let second = if window.is_timed() {
            self.nanos() / SECOND
        } else {
            0
        };
        window.tally(second)
    }

    /// Admits a call. A closed breaker admits without reading the clock or writing anything.
    #[inline]
    fn admit(&self) -> Result<Permit, Error> {
        let word = self.word.load(Acquire);
        match State::closed_generation(word) {
            Some(issued) => Ok(Permit::new(issued, false, self.started())),
            None => self.admit_slow(word),
        }
    }

    #[cold]
    fn admit_slow(&self, mut word: u64) -> Result<Permit, Error> {
        if let Some(shared) = self.hook() {
            return match shared.admit() {
                Ok(ticket) => Ok(Permit::new(ticket.issued, ticket.probe, self.started())),
                Err((state, retry_after)) => Err(self.rejected(state, retry_after)),
            };
        }
        loop {
            let state = State::unpack(word);
            if let State::Closed { generation, .. } | State::Disabled { generation } = state {
                return Ok(Permit::new(u64::from(generation), false, self.started()));
            }
            match state.admit(self.elapsed(), self.config()) {
                Ok((next, permit)) => match self.swap(word, state, next) {
                    Ok(()) => {
                        return Ok(Permit::new(permit.issued, permit.probe(), self.started()));
                    }
                    Err(actual) => word = actual,
                },
                Err((state, retry_after)) => return Err(self.rejected(state, retry_after)),
            }
        }
    }

    /// Rejects a call whose service answered ready without asking the service below it,
    /// because this breaker was open (see `tower::CircuitBreakerService`): that call must
    /// not reach the service below, whatever the breaker says by now, so it takes no probe
    /// slot. Counted and announced as every rejection is.
    #[cfg(feature = "tower")]
    pub(crate) fn refuse(&self) -> Error {
        let (state, retry_after) = match self.load().admit(self.elapsed(), self.config()) {
            Err(rejected) => rejected,
            // It would admit a call now (its recovery timeout ran out, or it closed): the
            // least wait it can tell, as a rejection's wait is never zero.
            Ok(_) => (CircuitState::Open, Duration::from_millis(1)),
        };
        self.rejected(state, retry_after)
    }

    /// Counts and announces a rejection; the caller's error.
    fn rejected(&self, state: CircuitState, retry_after: Duration) -> Error {
        self.rejections.fetch_add(1, Relaxed);
        let open = Error::CircuitOpen {
            name: Arc::clone(&self.name),
            state,
            retry_after,
        };
        self.events.rejected(&open);
        open
    }

    /// Counts a finished call and applies what it says to the state.
    #[inline]
    pub(super) fn report(&self, permit: Permit, report: Report) {
        match report {
            Report::Success => self.successes.increment(),
            Report::Failure => _ = self.failures.fetch_add(1, Relaxed),
            Report::Abandoned => _ = self.abandoned.fetch_add(1, Relaxed),
        }
        if let Some(window) = &self.window {
            return self.report_windowed(window, permit, report);
        }
        self.count_consecutive(permit, report);
    }

    /// The consecutive-failures rule, and the half-open probes' count.
    #[inline]
    fn count_consecutive(&self, permit: Permit, report: Report) {
        // The common case, a success while closed with no failure counted, changes nothing.
        if report == Report::Success
            && !permit.probe()
            && State::is_clean_closed(self.word.load(Acquire))
        {
            return;
        }
        self.apply(permit, report);
    }

    /// A finished call's outcome, for a breaker with a window.
    fn report_windowed(&self, window: &Window, permit: Permit, report: Report) {
        let (slow, now) = self.timing(window, permit.started());
        if slow && report != Report::Abandoned {
            self.slow_calls.fetch_add(1, Relaxed);
        }
        if permit.probe() {
            // Half-open, probes decide as in consecutive mode; a slow one has failed.
            let report = match report {
                Report::Success if slow => Report::Failure,
                report => report,
            };
            return self.apply(permit, report);
        }
        if report != Report::Abandoned {
            self.conclude(window, permit.issued, report == Report::Failure, slow, now);
        }
        if self.config().failure_rate_threshold.is_none() {
            self.count_consecutive(permit, report);
        }
    }

    /// Whether the call that started at `started` was slow, and when it ended (in
    /// nanoseconds since the origin); the clock is read only if a rule needs it.
    #[inline]
    fn timing(&self, window: &Window, started: u64) -> (bool, u64) {
        let limit = self.config().slow_call_duration;
        if limit.is_none() && !window.is_timed() {
            return (false, 0);
        }
        let now = self.nanos();
        let slow = limit.is_some_and(|limit| now.saturating_sub(started) > time::nanos(limit));
        (slow, now)
    }

    /// When a call starts, for a breaker that times its calls; 0 for one that does not.
    #[inline]
    fn started(&self) -> u64 {
        match self.config().slow_call_duration {
            Some(_) => self.nanos(),
            None => 0,
        }
    }

    /// Nanoseconds since the origin.
    #[inline]
    fn nanos(&self) -> u64 {
        self.origin.elapsed(time::now())
    }

    /// A closed-phase outcome: into the window of the phase it was admitted in, then the
    /// rules on what the window holds. An outcome of an earlier phase is not recorded.
    #[inline]
    fn conclude(&self, window: &Window, issued: u64, failed: bool, slow: bool, now: u64) {
        if State::closed_generation(self.word.load(Acquire)) != Some(issued) {
            return;
        }
        let tally = window.record(Mark { failed, slow }, now / SECOND);
        if self.trips(tally) {
            self.trip(issued);
        }
    }

    /// Whether a rate rule holds over `tally`: at least the threshold, once the window holds
    /// `minimum_calls`.
    #[inline]
    fn trips(&self, tally: Tally) -> bool {
        let config = self.config();
        if tally.calls == 0 || tally.calls < u64::from(config.rated_after()) {
            return false;
        }
        let reaches = |count: u64, threshold: Option<u32>| {
            threshold.is_some_and(|percent| {
                count.saturating_mul(100) >= u64::from(percent).saturating_mul(tally.calls)
            })
        };
        let slow_rule = config
            .slow_call_duration
            .map(|_| config.slow_call_rate_threshold);
        reaches(tally.failures, config.failure_rate_threshold) || reaches(tally.slow, slow_rule)
    }

    #[cold]
    fn trip(&self, issued: u64) {
        let now = self.elapsed();
        let config = self.config();
        self.update(|state| state.trip(issued, now, config));
    }

    #[cold]
    fn apply(&self, permit: Permit, report: Report) {
        if let Some(shared) = self.hook() {
            return shared.report(permit.issued, permit.probe(), report.into());
        }
        // Only a failure can open the breaker, and only opening needs the time, read after
        // the state it applies to.
        let now = || {
            if report == Report::Failure {
                self.elapsed()
            } else {
                Duration::ZERO
            }
        };
        let reopened = self.reopened();
        self.update(|state| state.report(permit, report, now(), self.opening(state, &reopened)));
    }

    /// The config a failed probe reopens the breaker with: its recovery timeout grown by
    /// `recovery_backoff` once more than the open that came before.
    fn reopened(&self) -> Cow<'_, CircuitBreakerConfig> {
        let config = self.config();
        if config.recovery_backoff <= 1.0 {
            return Cow::Borrowed(config);
        }
        let reopenings = self.reopenings.load(Relaxed).saturating_add(1);
        Cow::Owned(CircuitBreakerConfig {
            recovery_timeout: config.open_duration(reopenings),
            ..config.clone()
        })
    }

    /// The config a transition out of `state` opens with: grown out of half-open, the
    /// breaker's own out of closed.
    fn opening<'a>(
        &'a self,
        state: State,
        reopened: &'a CircuitBreakerConfig,
    ) -> &'a CircuitBreakerConfig {
        match state {
            State::HalfOpen { .. } => reopened,
            _ => self.config(),
        }
    }

    /// Applies `transition` until it sticks or declines (returns `None`).
    fn update(&self, transition: impl Fn(State) -> Option<State>) {
        let mut word = self.word.load(Acquire);
        loop {
            let state = State::unpack(word);
            let Some(next) = transition(state) else {
                return;
            };
            match self.swap(word, state, next) {
                Ok(()) => return,
                Err(actual) => word = actual,
            }
        }
    }

    fn swap(&self, word: u64, state: State, next: State) -> Result<(), u64> {
        let closes = match next {
            State::Closed { generation, .. } => {
                State::closed_generation(word) != Some(u64::from(generation))
            }
            _ => false,
        };
        if closes {
            // A new closed phase starts with an empty window. Emptied before the phase
            // starts, not after, so no outcome of the new phase is lost: the phase before
            // was not closed (no outcome of it is recorded any more) or is being reset (an
            // outcome of it recorded in this instant may remain).
            if let Some(window) = &self.window {
                window.clear();
            }
        }
        let (left, entered) = (state.circuit_state(), next.circuit_state());
        if left == entered {
            self.word
                .compare_exchange_weak(word, next.pack(), AcqRel, Acquire)?;
        } else {
            // Changes of state are swapped and reported under one lock, so subscribers see
            // them in the order they happened: reported after a lock-free swap, a thread
            // that opened the breaker could be overtaken by the one that made it half-open.
            // Only changes of state take it; they are rare, and never on a call's success.
            let _ordered = self
                .transitioning
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.word
                .compare_exchange_weak(word, next.pack(), AcqRel, Acquire)?;
            self.transitions[entered.index()].fetch_add(1, Relaxed);
            self.events.transition(left, entered);
        }
        match (state, next) {
            (State::HalfOpen { .. }, State::Open { .. }) => {
                self.reopenings.fetch_add(1, Relaxed);
            }
            (_, State::Closed { .. }) => self.reopenings.store(0, Relaxed),
            _ => {}
        }
        Ok(())
    }

    fn load(&self) -> State {
        State::unpack(self.word.load(Acquire))
    }

    fn elapsed(&self) -> Duration {
        let now = time::now();
        let elapsed = Duration::from_nanos(self.origin.elapsed(now));
        // A clock behind the moment the breaker opened (a later test's runtime, whose clock
        // starts behind the earlier one's) is a new start, in which the recovery is over.
        // The millisecond is `until_ms`'s rounding.
        if let State::Open { until_ms } = self.load() {
            let until = Duration::from_millis(until_ms);
            // The longest this open can last, grown by `recovery_backoff` or not.
            let longest = self.config().open_duration(u32::MAX);
            let opened = until.saturating_sub(longest + Duration::from_millis(1));
            if elapsed < opened {
                self.origin.restart(now, time::nanos(until));
                return until;
            }
        }
        elapsed
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .field("config", self.config())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod concurrency {
    //! The breaker's word under concurrent admission and reporting. Under `--cfg loom` each
    //! case is model-checked over every interleaving; otherwise the same cases run on real
    //! threads many times over, as a quick check in the default suite.

    use super::*;

    use crate::sync::model::{model, thread, Arc};

    fn breaker(config: CircuitBreakerConfig) -> Arc<CircuitBreaker> {
        Arc::new(CircuitBreaker::new("loom", config).expect("valid"))
    }

    fn half_open(breaker: &CircuitBreaker) {
        let state = State::HalfOpen {
            episode: 1,
            in_flight: 0,
            successes: 0,
        };
        breaker.word.store(state.pack(), Relaxed);
    }

    fn call(breaker: &CircuitBreaker, report: Report) -> bool {
        match breaker.admit() {
            Ok(permit) => {
                breaker.report(permit, report);
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn concurrent_failures_open_it_exactly_once() {
        model(|| {
            let cb = breaker(CircuitBreakerConfig {
                failure_threshold: 2,
                ..Default::default()
            });
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || call(&other, Report::Failure));
            let here = call(&cb, Report::Failure);
            let there = t.join().unwrap();
            assert!(here && there, "both were admitted while closed");
            assert_eq!(
                cb.load().circuit_state(),
                CircuitState::Open,
                "no failure count was lost"
            );
            assert_eq!(
                cb.transitions.iter().map(|c| c.load(Relaxed)).sum::<u64>(),
                1,
                "opened once"
            );
        });
    }

    #[test]
    fn half_open_admits_exactly_max_probes() {
        model(|| {
            let cb = breaker(CircuitBreakerConfig {
                half_open_max_calls: Some(1),
                ..Default::default()
            });
            half_open(&cb);
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || other.admit().is_ok());
            let here = cb.admit().is_ok();
            let there = t.join().unwrap();
            assert!(here ^ there, "exactly one probe: {here} {there}");
        });
    }

    #[test]
    fn an_abandoned_probe_never_wedges_it() {
        model(|| {
            let cb = breaker(CircuitBreakerConfig {
                half_open_max_calls: Some(1),
                success_threshold: 1,
                ..Default::default()
            });
            half_open(&cb);
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || call(&other, Report::Abandoned));
            let closed_here = call(&cb, Report::Success);
            let abandoned_there = t.join().unwrap();
            if !closed_here {
                // The other probe held the slot and gave it back: this one goes through now.
                assert!(abandoned_there);
                assert!(call(&cb, Report::Success));
            }
            assert_eq!(cb.load().circuit_state(), CircuitState::Closed);
        });
    }

    #[test]
    fn a_probe_from_an_earlier_episode_never_frees_a_running_probe_s_slot() {
        model(|| {
            let cb = breaker(CircuitBreakerConfig {
                half_open_max_calls: Some(1),
                success_threshold: 1,
                ..Default::default()
            });
            // Episode 2 is under way and its one probe holds the slot; a probe of episode 1,
            // hung since then, ends now while another call asks to be let through.
            let running = State::HalfOpen {
                episode: 2,
                in_flight: 1,
                successes: 0,
            };
            cb.word.store(running.pack(), Relaxed);
            let stale = Permit::new(1, true, 0);
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || other.admit().is_ok());
            cb.report(stale, Report::Success);
            assert!(!t.join().unwrap(), "the slot was never free");
            assert_eq!(cb.load(), running);
        });
    }

    /// A permit taken before a reset reports while the reset happens: whichever comes
    /// first, the breaker ends closed with no failure counted, because a failure reported
    /// after the reset belongs to the generation before it.
    #[test]
    fn a_permit_reported_across_a_reset_never_counts_into_the_new_generation() {
        model(|| {
            let cb = std::sync::Arc::new(
                CircuitBreaker::new(
                    "loom",
                    CircuitBreakerConfig {
                        failure_threshold: 1,
                        ..Default::default()
                    },
                )
                .expect("valid"),
            );
            let permit = std::sync::Arc::clone(&cb)
                .try_acquire_owned()
                .expect("closed");
            let t = thread::spawn(move || permit.failure());
            cb.reset();
            t.join().unwrap();
            assert!(
                matches!(cb.load(), State::Closed { failures: 0, .. }),
                "{:?}",
                cb.load()
            );
        });
    }

    /// The one probe's permit, moved to another thread and dropped there unreported, while
    /// a second caller asks for a permit: the slot is never lost.
    #[test]
    fn a_probe_permit_dropped_on_another_thread_gives_its_slot_back() {
        model(|| {
            let cb = std::sync::Arc::new(
                CircuitBreaker::new(
                    "loom",
                    CircuitBreakerConfig {
                        half_open_max_calls: Some(1),
                        success_threshold: 1,
                        ..Default::default()
                    },
                )
                .expect("valid"),
            );
            half_open(&cb);
            let probe = std::sync::Arc::clone(&cb)
                .try_acquire_owned()
                .expect("the one slot");
            let t = thread::spawn(move || drop(probe));
            let closed_here = cb.try_acquire().map(CallPermit::success).is_ok();
            t.join().unwrap();
            if !closed_here {
                cb.try_acquire().expect("the slot came back").success();
            }
            assert_eq!(cb.load().circuit_state(), CircuitState::Closed);
            assert_eq!(cb.abandoned.load(Relaxed), 1);
        });
    }

    fn rated(threshold: u32) -> CircuitBreakerConfig {
        CircuitBreakerConfig::DEFAULT
            .failure_rate_threshold(threshold)
            .sliding_window(crate::SlidingWindow::Calls(2))
            .minimum_calls(2)
    }

    fn opened(cb: &CircuitBreaker) -> u64 {
        cb.transitions[CircuitState::Open.index()].load(Relaxed)
    }

    /// Two failures recorded at once into a window of two, at 100%: whichever records
    /// second sees both, and the rule trips once.
    #[test]
    fn concurrent_failures_trip_a_rate_rule_exactly_once() {
        model(|| {
            let cb = breaker(rated(100));
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || call(&other, Report::Failure));
            let here = call(&cb, Report::Failure);
            assert!(here && t.join().unwrap());
            assert_eq!(cb.load().circuit_state(), CircuitState::Open);
            assert_eq!(opened(&cb), 1);
        });
    }

    /// Two successes displace a success and a failure from a window of two: every state
    /// the window passes through holds at most one failure, and no reading may show more,
    /// so a rule at 100% never trips.
    #[test]
    fn successes_displacing_a_failure_never_trip_a_rule_the_window_never_reached() {
        model(|| {
            let cb = breaker(rated(100));
            cb.record_success();
            cb.record_failure();
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || call(&other, Report::Success));
            call(&cb, Report::Success);
            t.join().unwrap();
            assert_eq!(cb.load().circuit_state(), CircuitState::Closed);
            let window = cb.stats().window.expect("rate mode");
            assert_eq!((window.calls, window.failures), (2, 0));
        });
    }

    #[test]
    fn probes_close_it_once_whatever_the_interleaving() {
        model(|| {
            let cb = breaker(CircuitBreakerConfig {
                half_open_max_calls: Some(2),
                success_threshold: 2,
                ..Default::default()
            });
            half_open(&cb);
            let other = Arc::clone(&cb);
            let t = thread::spawn(move || call(&other, Report::Success));
            assert!(call(&cb, Report::Success));
            assert!(t.join().unwrap());
            assert_eq!(cb.load().circuit_state(), CircuitState::Closed);
            assert_eq!(
                cb.transitions.iter().map(|c| c.load(Relaxed)).sum::<u64>(),
                1
            );
        });
    }
}
