//! What a breaker reports: its state and its counters.

use std::fmt;

/// Where a breaker stands.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
/// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
/// assert_eq!(breaker.state(), CircuitState::Closed);
/// breaker.record_failure();
/// assert_eq!(breaker.state().to_string(), "open");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CircuitState {
    /// Calls go through; consecutive failures are counted.
    Closed,
    /// Calls are rejected with [`Error::CircuitOpen`](crate::Error::CircuitOpen) until the recovery timeout is over.
    Open,
    /// A limited number of probe calls go through; their outcomes close or re-open it.
    HalfOpen,
    /// Opened by hand with [`CircuitBreaker::force_open`](crate::CircuitBreaker::force_open): every call is rejected until
    /// [`CircuitBreaker::reset`](crate::CircuitBreaker::reset).
    ForcedOpen,
    /// Switched off by hand with [`CircuitBreaker::disable`](crate::CircuitBreaker::disable): every call goes through and
    /// is counted, none changes the state, until [`CircuitBreaker::reset`](crate::CircuitBreaker::reset).
    Disabled,
}

impl CircuitState {
    /// Every state, in the order of [`index`](Self::index).
    pub(crate) const ALL: [CircuitState; 5] = [
        CircuitState::Closed,
        CircuitState::Open,
        CircuitState::HalfOpen,
        CircuitState::ForcedOpen,
        CircuitState::Disabled,
    ];

    /// Its place in [`ALL`](Self::ALL), for counters kept per state.
    pub(crate) const fn index(self) -> usize {
        match self {
            CircuitState::Closed => 0,
            CircuitState::Open => 1,
            CircuitState::HalfOpen => 2,
            CircuitState::ForcedOpen => 3,
            CircuitState::Disabled => 4,
        }
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
            CircuitState::ForcedOpen => "forced-open",
            CircuitState::Disabled => "disabled",
        })
    }
}

/// What a breaker has seen since it was created (or last reset).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};
/// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
/// let _ = breaker.call(|| async { Ok::<_, Error>(()) }).await;
/// breaker.record_failure(); // counted like a call
/// let stats = breaker.stats();
/// assert_eq!((stats.state, stats.calls, stats.successes, stats.failures), (CircuitState::Open, 2, 1, 1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitBreakerStats {
    /// The state now.
    pub state: CircuitState,
    /// The state as last changed by a call, or by hand: after the recovery timeout an open
    /// breaker stays `Open` here until a probe makes it half-open (as Resilience4j reports
    /// it), while [`state`](Self::state) says `HalfOpen` already. The metrics' state gauge
    /// reads this one, so it agrees with the count of state changes, and an alert on
    /// `circuit_breaker_state{state="open"}` holds while an idle breaker stays open.
    pub recorded_state: CircuitState,
    /// Calls let through or rejected, and outcomes recorded by hand.
    pub calls: u64,
    /// Calls that counted as successes (including errors the failure predicate let pass,
    /// and [`record_success`](crate::CircuitBreaker::record_success)).
    pub successes: u64,
    /// Calls that counted as failures (including
    /// [`record_failure`](crate::CircuitBreaker::record_failure)).
    pub failures: u64,
    /// Calls that ended without a verdict: dropped, panicked, or shed by an inner policy.
    pub abandoned: u64,
    /// Calls rejected because the breaker was open, forced open, or half-open with every
    /// probe slot taken.
    pub rejections: u64,
    /// Calls longer than `slow_call_duration` (successes and failures), for a breaker with
    /// a slow-call rule; 0 otherwise.
    pub slow_calls: u64,
    /// Changes of state (closed → open → half-open → closed each count one).
    pub transitions: u64,
    /// What the sliding window holds now, for a breaker with a failure-rate or slow-call
    /// rule; `None` for one that counts consecutive failures. See
    /// [`failure_rate`](Self::failure_rate) for the rates it gives.
    pub window: Option<WindowStats>,
    /// How the breaker stands with the fleet's state, for a breaker shared by a store
    /// ([`CircuitBreaker::share`](crate::CircuitBreaker::share)); `None` for one that is
    /// not.
    pub shared: Option<crate::shared::SharedStats>,
    /// `transitions`, by the state entered.
    pub(crate) entered: [u64; CircuitState::ALL.len()],
}

impl CircuitBreakerStats {
    /// How many of the [`transitions`](Self::transitions) entered `state`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
    /// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// breaker.record_failure();
    /// let stats = breaker.stats();
    /// assert_eq!(stats.transitions_to(CircuitState::Open), 1);
    /// assert_eq!(stats.transitions_to(CircuitState::Closed), 0);
    /// # }
    /// ```
    pub fn transitions_to(&self, state: CircuitState) -> u64 {
        self.entered[state.index()]
    }

    /// The percentage of the calls in the window that failed: `None` without a window, or
    /// before it holds `minimum_calls` (no rate is computed from fewer calls, so the rate
    /// is never `NaN`).
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let config = CircuitBreakerConfig::DEFAULT.failure_rate_threshold(50).minimum_calls(4);
    /// let breaker = CircuitBreaker::new("api", config).unwrap();
    /// breaker.record_failure();
    /// assert_eq!(breaker.stats().failure_rate(), None, "one call of the four needed");
    /// (0..3).for_each(|_| breaker.record_success());
    /// assert_eq!(breaker.stats().failure_rate(), Some(25.0));
    /// ```
    pub fn failure_rate(&self) -> Option<f64> {
        self.rated().map(|w| percent(w.failures, w.calls))
    }

    /// The percentage of the calls in the window that were slow, under the same rule as
    /// [`failure_rate`](Self::failure_rate).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig, Error};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let config = CircuitBreakerConfig::DEFAULT
    ///     .slow_call_duration(Duration::from_secs(1))
    ///     .slow_call_rate_threshold(100)
    ///     .minimum_calls(2);
    /// let breaker = CircuitBreaker::new("api", config).unwrap();
    /// let slow = || async { tokio::time::sleep(Duration::from_secs(2)).await; Ok::<_, Error>(()) };
    /// breaker.call(slow).await.unwrap();
    /// breaker.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    /// assert_eq!(breaker.stats().slow_call_rate(), Some(50.0));
    /// # }
    /// ```
    pub fn slow_call_rate(&self) -> Option<f64> {
        self.rated().map(|w| percent(w.slow_calls, w.calls))
    }

    fn rated(&self) -> Option<&WindowStats> {
        self.window
            .as_ref()
            .filter(|w| w.calls > 0 && w.calls >= u64::from(w.minimum_calls))
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    part as f64 * 100.0 / whole as f64
}

/// What a rate-mode breaker's sliding window holds: the calls it computes its rates over.
///
/// ```
/// # use resilience::{CircuitBreaker, CircuitBreakerConfig, WindowStats};
/// let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::DEFAULT.failure_rate_threshold(50)).unwrap();
/// breaker.record_failure();
/// let window: WindowStats = breaker.stats().window.unwrap();
/// assert_eq!((window.calls, window.failures, window.slow_calls), (1, 1, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WindowStats {
    /// Calls in the window (successes and failures; abandoned calls are not counted).
    pub calls: u64,
    /// Of which failed.
    pub failures: u64,
    /// Of which were slow.
    pub slow_calls: u64,
    /// Calls the window must hold before a rate is computed.
    pub minimum_calls: u32,
}
