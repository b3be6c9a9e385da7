use std::time::Duration;

use crate::error::{invalid, InvalidConfig};
use crate::setters::setters;

use super::state::{MAX_PROBES, MAX_RECOVERY};

/// The calls a rate-mode breaker computes its rates over (see
/// [`CircuitBreakerConfig::failure_rate_threshold`]).
///
/// ```
/// use std::time::Duration;
/// use resilience::{CircuitBreakerConfig, SlidingWindow};
///
/// let last_100_calls = CircuitBreakerConfig::DEFAULT.sliding_window(SlidingWindow::Calls(100));
/// let last_minute = CircuitBreakerConfig::DEFAULT.sliding_window(SlidingWindow::Time(Duration::from_secs(60)));
/// assert!(last_100_calls.validate().is_ok() && last_minute.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlidingWindow {
    /// The last `n` calls: the oldest is forgotten when the `n + 1`-th ends. At most
    /// 1 000 000.
    Calls(u32),
    /// The calls that ended in the last so many whole seconds, kept in one-second buckets
    /// (as Resilience4j does): a call is forgotten when its second leaves the window. A
    /// whole number of seconds, from 1 s to 1 h.
    Time(Duration),
}

/// The longest count window: its outcomes take a byte each.
pub(crate) const MAX_WINDOW_CALLS: u32 = 1_000_000;
/// The longest time window: its buckets take 24 bytes a second.
pub(crate) const MAX_WINDOW_SECONDS: u64 = 3600;

/// How a [`CircuitBreaker`](super::CircuitBreaker) decides to open and to close.
///
/// By default it counts **consecutive failures** (`failure_threshold`). Setting
/// `failure_rate_threshold` switches the failure rule to a **rate over a sliding window**
/// (`sliding_window`, `minimum_calls`); `slow_call_duration` with
/// `slow_call_rate_threshold` adds a **slow-call rule** over the same window, under either
/// failure rule. Half-open, the probes decide as in consecutive mode in every mode:
/// `success_threshold` successful probes close it, and one failed probe (or, under a
/// slow-call rule, one slow probe) opens it again, for a `recovery_timeout` that
/// `recovery_backoff` can grow with each such reopening, up to `max_recovery_timeout`.
///
/// Why probes do not decide by rates, as Resilience4j's do: a handful of probes makes a
/// coarse rate (with R4j's default of 10 probes and 50%, five failures in ten close the
/// breaker on a downstream failing half its calls), while "`success_threshold` successes
/// in a row" says plainly what recovery means. Choose `success_threshold` as the run of
/// good answers that convinces you, and `half_open_max_calls` as the load the downstream
/// can take while it recovers.
///
/// ```
/// use std::time::Duration;
/// use resilience::CircuitBreakerConfig;
///
/// let config = CircuitBreakerConfig::DEFAULT.failure_threshold(3).recovery_timeout(Duration::from_secs(10));
/// assert!(config.validate().is_ok());
/// assert_eq!(config.probes(), 2); // half_open_max_calls defaults to success_threshold
/// ```
///
/// Rate mode: open when half the calls of the last minute failed, or 80% took over 2 s,
/// once the minute holds 20 calls; each failed probe doubles the open duration, up to
/// ten minutes.
///
/// ```
/// use std::time::Duration;
/// use resilience::{CircuitBreakerConfig, SlidingWindow};
///
/// let config = CircuitBreakerConfig::DEFAULT
///     .failure_rate_threshold(50)
///     .slow_call_duration(Duration::from_secs(2))
///     .slow_call_rate_threshold(80)
///     .sliding_window(SlidingWindow::Time(Duration::from_secs(60)))
///     .minimum_calls(20)
///     .recovery_timeout(Duration::from_secs(30))
///     .recovery_backoff(2.0)
///     .max_recovery_timeout(Duration::from_secs(600));
/// assert!(config.validate().is_ok() && config.is_windowed());
/// assert_eq!(config.open_duration(3), Duration::from_secs(240));
/// assert_eq!(
///     config.failure_rate_threshold(150).validate().unwrap_err().to_string(),
///     "`failure_rate_threshold` must be a percentage from 1 to 100"
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CircuitBreakerConfig {
    /// Consecutive failures that open a closed breaker. Default 5.
    pub failure_threshold: u32,
    /// Consecutive successful probes that close a half-open breaker. Default 2.
    pub success_threshold: u32,
    /// How long an open breaker rejects before it lets probes through. Default 60s.
    pub recovery_timeout: Duration,
    /// Probes let through at once while half-open; `None` means `success_threshold`.
    pub half_open_max_calls: Option<u32>,
    /// Opens when at least this percentage (1 to 100) of the calls in the window failed,
    /// once the window holds `minimum_calls`; replaces `failure_threshold`. Default none:
    /// consecutive failures.
    pub failure_rate_threshold: Option<u32>,
    /// A call that takes longer than this (success or failure) is slow, and setting it
    /// adds the slow-call rule. Default none: no call is timed.
    pub slow_call_duration: Option<Duration>,
    /// Under the slow-call rule, opens when at least this percentage (1 to 100) of the
    /// calls in the window were slow, once the window holds `minimum_calls`. Default 100
    /// (Resilience4j's).
    pub slow_call_rate_threshold: u32,
    /// The calls the rates are computed over. Default the last 100 calls.
    pub sliding_window: SlidingWindow,
    /// Calls the window must hold before any rate is computed (for a count window, at most
    /// its size: a larger value means the whole window). Default 100.
    pub minimum_calls: u32,
    /// Each reopening after a failed probe multiplies the open duration by this, from
    /// `recovery_timeout` up to `max_recovery_timeout`; it starts over once the breaker
    /// closes. Default 1.0: every open lasts `recovery_timeout`.
    pub recovery_backoff: f64,
    /// The longest an open duration grows to under `recovery_backoff` (one shorter than
    /// `recovery_timeout` stops any growth). Default 10 minutes.
    pub max_recovery_timeout: Duration,
}

impl CircuitBreakerConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        failure_threshold: 5,
        success_threshold: 2,
        recovery_timeout: Duration::from_secs(60),
        half_open_max_calls: None,
        failure_rate_threshold: None,
        slow_call_duration: None,
        slow_call_rate_threshold: 100,
        sliding_window: SlidingWindow::Calls(100),
        minimum_calls: 100,
        recovery_backoff: 1.0,
        max_recovery_timeout: Duration::from_secs(600),
    };

    /// Checks that every value makes sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] naming the first field that does not: a threshold or probe
    /// count of 0, a zero `recovery_timeout`, a value too large to count, a percentage
    /// outside 1 to 100, an empty window or one of a fraction of a second, or a
    /// `recovery_backoff` below 1.
    ///
    /// Every field is checked on its own, so that each attribute argument is checked on
    /// its own at compile time. A field that only matters with another one
    /// (`slow_call_rate_threshold` without `slow_call_duration`) is not an error here; the
    /// attribute refuses it.
    ///
    /// ```
    /// # use resilience::CircuitBreakerConfig;
    /// let config = CircuitBreakerConfig::DEFAULT.half_open_max_calls(0);
    /// assert_eq!(config.validate().unwrap_err().to_string(), "`half_open_max_calls` must be at least 1");
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.failure_threshold == 0 {
            return Err(invalid!("failure_threshold", "must be at least 1"));
        }
        if self.success_threshold == 0 {
            return Err(invalid!("success_threshold", "must be at least 1"));
        }
        if self.success_threshold > MAX_PROBES {
            return Err(invalid!("success_threshold", "must be at most 1023"));
        }
        match self.half_open_max_calls {
            Some(0) => return Err(invalid!("half_open_max_calls", "must be at least 1")),
            Some(n) if n > MAX_PROBES => {
                return Err(invalid!("half_open_max_calls", "must be at most 1023"))
            }
            _ => {}
        }
        if self.recovery_timeout.is_zero() {
            return Err(invalid!("recovery_timeout", "must be longer than zero"));
        }
        if self.recovery_timeout.as_nanos() > MAX_RECOVERY.as_nanos() {
            return Err(invalid!("recovery_timeout", "must be at most 100 years"));
        }
        if let Err(error) = self.validate_rates() {
            return Err(error);
        }
        self.validate_backoff()
    }

    const fn validate_rates(&self) -> Result<(), InvalidConfig> {
        if !is_percentage(self.failure_rate_threshold) {
            return Err(invalid!(
                "failure_rate_threshold",
                "must be a percentage from 1 to 100"
            ));
        }
        if !is_percentage(Some(self.slow_call_rate_threshold)) {
            return Err(invalid!(
                "slow_call_rate_threshold",
                "must be a percentage from 1 to 100"
            ));
        }
        if let Some(duration) = self.slow_call_duration {
            if duration.is_zero() {
                return Err(invalid!("slow_call_duration", "must be longer than zero"));
            }
        }
        match self.sliding_window {
            SlidingWindow::Calls(0) => {
                return Err(invalid!("sliding_window", "must hold at least 1 call"))
            }
            SlidingWindow::Calls(n) if n > MAX_WINDOW_CALLS => {
                return Err(invalid!(
                    "sliding_window",
                    "must hold at most 1000000 calls"
                ))
            }
            SlidingWindow::Time(span) if span.as_secs() == 0 => {
                return Err(invalid!("sliding_window", "must last at least one second"))
            }
            SlidingWindow::Time(span) if span.subsec_nanos() != 0 => {
                return Err(invalid!(
                    "sliding_window",
                    "must last a whole number of seconds: its buckets are one second each"
                ))
            }
            SlidingWindow::Time(span) if span.as_secs() > MAX_WINDOW_SECONDS => {
                return Err(invalid!("sliding_window", "must last at most one hour"))
            }
            _ => {}
        }
        if self.minimum_calls == 0 {
            return Err(invalid!("minimum_calls", "must be at least 1"));
        }
        Ok(())
    }

    const fn validate_backoff(&self) -> Result<(), InvalidConfig> {
        if !(self.recovery_backoff.is_finite() && self.recovery_backoff >= 1.0) {
            return Err(invalid!(
                "recovery_backoff",
                "must be a finite number of at least 1.0"
            ));
        }
        if self.max_recovery_timeout.as_nanos() > MAX_RECOVERY.as_nanos() {
            return Err(invalid!(
                "max_recovery_timeout",
                "must be at most 100 years"
            ));
        }
        Ok(())
    }

    /// Refuses what a running breaker cannot take from a reload of `self` into `next`: its
    /// window is built for one shape (`sliding_window`, and whether rate or slow-call
    /// rules need one at all), its running calls were timed or not as they started, so a
    /// slow-call rule cannot appear or vanish under them, and a rate rule cannot either,
    /// even beside a slow-call rule whose window stays: the breaker would change from
    /// rating its window to counting consecutive failures (or back) mid-run. Their values
    /// may change.
    pub(crate) const fn reloadable_into(&self, next: &Self) -> Result<(), InvalidConfig> {
        let same_window = match (self.sliding_window, next.sliding_window) {
            (SlidingWindow::Calls(a), SlidingWindow::Calls(b)) => a == b,
            (SlidingWindow::Time(a), SlidingWindow::Time(b)) => {
                a.as_secs() == b.as_secs() && a.subsec_nanos() == b.subsec_nanos()
            }
            _ => false,
        };
        if self.failure_rate_threshold.is_some() != next.failure_rate_threshold.is_some()
            || self.slow_call_duration.is_some() != next.slow_call_duration.is_some()
        {
            return Err(invalid!(
                "failure_rate_threshold",
                "cannot be set or removed while the breaker runs, nor can `slow_call_duration` (the mode is fixed at its start); they apply from the next start"
            ));
        }
        if self.is_windowed() && !same_window {
            return Err(invalid!(
                "sliding_window",
                "cannot change while the breaker runs (its window holds the calls counted so far); it applies from the next start"
            ));
        }
        Ok(())
    }

    /// Whether a fleet of processes can share a breaker of this config (see
    /// [`CircuitBreaker::share`](crate::CircuitBreaker::share)): a shared breaker counts
    /// consecutive failures and opens for `recovery_timeout` each time, so a rate or
    /// slow-call rule, or a `recovery_backoff`, is refused, when it is shared and at every
    /// reload after.
    ///
    /// ```
    /// # use resilience::CircuitBreakerConfig;
    /// assert!(CircuitBreakerConfig::DEFAULT.shareable().is_ok());
    /// let refused = CircuitBreakerConfig::DEFAULT.recovery_backoff(2.0).shareable().unwrap_err();
    /// assert_eq!(refused.field(), "recovery_backoff");
    /// ```
    pub const fn shareable(&self) -> Result<(), InvalidConfig> {
        if self.is_windowed() {
            return Err(invalid!(
                "failure_rate_threshold",
                "cannot be set on a breaker shared by a fleet, nor can `slow_call_duration`: a shared breaker counts consecutive failures"
            ));
        }
        if self.recovery_backoff > 1.0 {
            return Err(invalid!(
                "recovery_backoff",
                "cannot be set on a breaker shared by a fleet: it opens for `recovery_timeout` each time"
            ));
        }
        Ok(())
    }

    /// Whether the breaker keeps a sliding window: a failure-rate or slow-call rule is set.
    ///
    /// ```
    /// # use resilience::CircuitBreakerConfig;
    /// assert!(!CircuitBreakerConfig::DEFAULT.is_windowed());
    /// assert!(CircuitBreakerConfig::DEFAULT.failure_rate_threshold(50).is_windowed());
    /// ```
    pub const fn is_windowed(&self) -> bool {
        self.failure_rate_threshold.is_some() || self.slow_call_duration.is_some()
    }

    /// The calls the window must hold before its rates count: `minimum_calls`, and at
    /// most the size of a count window.
    ///
    /// ```
    /// # use resilience::{CircuitBreakerConfig, SlidingWindow};
    /// let config = CircuitBreakerConfig::DEFAULT.sliding_window(SlidingWindow::Calls(20));
    /// assert_eq!(config.minimum_calls, 100);
    /// assert_eq!(config.rated_after(), 20);
    /// ```
    pub const fn rated_after(&self) -> u32 {
        match self.sliding_window {
            SlidingWindow::Calls(n) if n < self.minimum_calls => n,
            _ => self.minimum_calls,
        }
    }

    /// How long the breaker stays open after `reopenings` failed probes in a row since it
    /// last closed: `recovery_timeout · recovery_backoff^reopenings`, at most
    /// `max_recovery_timeout` (and never less than `recovery_timeout`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use resilience::CircuitBreakerConfig;
    /// let config = CircuitBreakerConfig::DEFAULT
    ///     .recovery_timeout(Duration::from_secs(10))
    ///     .recovery_backoff(2.0)
    ///     .max_recovery_timeout(Duration::from_secs(60));
    /// let opens: Vec<u64> = (0..5).map(|n| config.open_duration(n).as_secs()).collect();
    /// assert_eq!(opens, [10, 20, 40, 60, 60]);
    /// ```
    pub fn open_duration(&self, reopenings: u32) -> Duration {
        let max = self.max_recovery_timeout;
        if self.recovery_backoff <= 1.0 || max <= self.recovery_timeout {
            return self.recovery_timeout;
        }
        // Past ~1100 doublings the factor is infinite, which compares as above the cap;
        // a NaN cannot arise from a finite base of at least 1 and a whole exponent.
        let factor = self
            .recovery_backoff
            .powi(i32::try_from(reopenings).unwrap_or(i32::MAX));
        let secs = self.recovery_timeout.as_secs_f64() * factor;
        if secs < max.as_secs_f64() {
            // Past 2^23 s (97 days) an `f64` of seconds is coarser than a nanosecond, and
            // the round trip can land below `recovery_timeout`: it is put back. (Below
            // `max` as an `f64`, it rounds to at most `max`.)
            Duration::from_secs_f64(secs).max(self.recovery_timeout)
        } else {
            max
        }
    }

    /// The number of probes let through at once while half-open.
    ///
    /// ```
    /// # use resilience::CircuitBreakerConfig;
    /// let config = CircuitBreakerConfig::DEFAULT.success_threshold(3);
    /// assert_eq!(config.probes(), 3);
    /// assert_eq!(config.half_open_max_calls(1).probes(), 1);
    /// ```
    pub fn probes(&self) -> u32 {
        self.half_open_max_calls.unwrap_or(self.success_threshold)
    }
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

setters!(CircuitBreakerConfig {
    /// Sets the consecutive failures that open a closed breaker.
    failure_threshold: u32 = "3",
    /// Sets the consecutive successful probes that close a half-open breaker.
    success_threshold: u32 = "1",
    /// Sets how long an open breaker rejects before it lets probes through.
    recovery_timeout: Duration = "Duration::from_secs(30)",
    /// Sets how many probes a half-open breaker lets through at once.
    half_open_max_calls: (Some(u32)) = "4",
    /// Sets the failure rate, in percent, that opens the breaker (rate mode).
    failure_rate_threshold: (Some(u32)) = "50",
    /// Sets the duration beyond which a call is slow.
    slow_call_duration: (Some(Duration)) = "Duration::from_secs(2)",
    /// Sets the slow-call rate, in percent, that opens the breaker.
    slow_call_rate_threshold: u32 = "80",
    /// Sets the calls the rates are computed over.
    sliding_window: SlidingWindow = "SlidingWindow::Time(Duration::from_secs(60))",
    /// Sets how many calls the window must hold before any rate is computed.
    minimum_calls: u32 = "20",
    /// Sets the factor each reopening after a failed probe multiplies the open duration by.
    recovery_backoff: f64 = "2.0",
    /// Sets the longest an open duration grows to under `recovery_backoff`.
    max_recovery_timeout: Duration = "Duration::from_secs(1800)",
});

/// `None`, or a percentage from 1 to 100.
const fn is_percentage(threshold: Option<u32>) -> bool {
    match threshold {
        Some(percent) => percent >= 1 && percent <= 100,
        None => true,
    }
}
