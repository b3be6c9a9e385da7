//! The breaker itself: admission, outcomes, manual control, and its pipeline layer.

use super::config::CircuitBreakerConfig;
use super::permit::{CallPermit, OwnedCallPermit};
use super::state::{Permit, Report, State};
use super::stats::{CircuitBreakerStats, CircuitState};
use crate::counter::Counter;
use crate::pipeline::{self, Failure, Outcome, Verdict};
use crate::sync::AtomicU64;
use crate::time::{self, Origin};
use crate::{ConfigError, Error};
use std::fmt;
use std::future::Future;
use std::sync::atomic::AtomicU64 as Count;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// A circuit breaker: after `failure_threshold` consecutive failures it opens and rejects
/// every call with [`Error::CircuitOpen`] for `recovery_timeout`; then it lets up to
/// `half_open_max_calls` probes through; `success_threshold` consecutive successful probes
/// close it, and any failed probe opens it again.
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
    config: CircuitBreakerConfig,
    origin: Origin,
    word: AtomicU64,
    successes: Counter,
    failures: Count,
    abandoned: Count,
    rejections: Count,
    /// Changes of state, by the state entered (indexed by [`CircuitState::index`]).
    transitions: [Count; CircuitState::ALL.len()],
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
        config.validate()?;
        Ok(Self {
            name: name.into(),
            config,
            origin: Origin::new(time::now()),
            word: AtomicU64::new(State::INITIAL.pack()),
            successes: Counter::default(),
            failures: Count::new(0),
            abandoned: Count::new(0),
            rejections: Count::new(0),
            transitions: Default::default(),
        })
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
        &self.config
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
        self.load().admit(self.elapsed(), &self.config).is_ok()
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
        self.update(|state| state.record(Report::Success, Duration::ZERO, &self.config));
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
        self.update(|state| state.record(Report::Failure, self.elapsed(), &self.config));
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
        for counter in [&self.failures, &self.abandoned, &self.rejections]
            .into_iter()
            .chain(&self.transitions)
        {
            counter.store(0, Relaxed);
        }
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
            calls: successes + failures + abandoned + rejections,
            successes,
            failures,
            abandoned,
            rejections,
            transitions: entered.iter().sum(),
            entered,
        }
    }

    /// Admits a call. A closed breaker admits without reading the clock or writing anything.
    #[inline]
    fn admit(&self) -> Result<Permit, Error> {
        let word = self.word.load(Acquire);
        match State::closed_generation(word) {
            Some(issued) => Ok(Permit {
                issued,
                probe: false,
            }),
            None => self.admit_slow(word),
        }
    }

    #[cold]
    fn admit_slow(&self, mut word: u64) -> Result<Permit, Error> {
        loop {
            let state = State::unpack(word);
            if let State::Closed { generation, .. } | State::Disabled { generation } = state {
                return Ok(Permit {
                    issued: u64::from(generation),
                    probe: false,
                });
            }
            match state.admit(self.elapsed(), &self.config) {
                Ok((next, permit)) => match self.swap(word, state, next) {
                    Ok(()) => return Ok(permit),
                    Err(actual) => word = actual,
                },
                Err((state, retry_after)) => {
                    self.rejections.fetch_add(1, Relaxed);
                    return Err(Error::CircuitOpen {
                        name: Arc::clone(&self.name),
                        state,
                        retry_after,
                    });
                }
            }
        }
    }

    /// Counts a finished call and applies what it says to the state.
    #[inline]
    pub(super) fn report(&self, permit: Permit, report: Report) {
        match report {
            Report::Success => self.successes.increment(),
            Report::Failure => _ = self.failures.fetch_add(1, Relaxed),
            Report::Abandoned => _ = self.abandoned.fetch_add(1, Relaxed),
        }
        // The common case, a success while closed with no failure counted, changes nothing.
        if report == Report::Success
            && !permit.probe
            && State::is_clean_closed(self.word.load(Acquire))
        {
            return;
        }
        self.apply(permit, report);
    }

    #[cold]
    fn apply(&self, permit: Permit, report: Report) {
        // Only a failure can open the breaker, and only opening needs the time, read after
        // the state it applies to.
        let now = || {
            if report == Report::Failure {
                self.elapsed()
            } else {
                Duration::ZERO
            }
        };
        self.update(|state| state.report(permit, report, now(), &self.config));
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
        self.word
            .compare_exchange_weak(word, next.pack(), AcqRel, Acquire)?;
        let entered = next.circuit_state();
        if state.circuit_state() != entered {
            self.transitions[entered.index()].fetch_add(1, Relaxed);
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
            let opened =
                until.saturating_sub(self.config.recovery_timeout + Duration::from_millis(1));
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
            .field("config", &self.config)
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
            let stale = Permit {
                issued: 1,
                probe: true,
            };
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
