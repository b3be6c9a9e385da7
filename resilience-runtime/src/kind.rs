//! The kinds of policy, named where both the errors and the registry can use them.

use std::fmt;

/// The kinds of policy; each has its own namespace in the [`Registry`](crate::Registry).
///
/// ```
/// use resilience::Kind;
/// assert_eq!(Kind::RateLimiter.to_string(), "rate limiter");
/// ```
// Non-exhaustive: a policy added later must not break a user's `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// [`CircuitBreaker`](crate::CircuitBreaker)
    CircuitBreaker,
    /// [`Retry`](crate::Retry)
    Retry,
    /// [`Timeout`](crate::Timeout)
    Timeout,
    /// [`Bulkhead`](crate::Bulkhead)
    Bulkhead,
    /// [`RateLimiter`](crate::RateLimiter)
    RateLimiter,
    /// [`Fallback`](crate::Fallback)
    Fallback,
    /// [`Hedge`](crate::Hedge)
    Hedge,
}

impl Kind {
    /// The kind as one word, as `tracing` fields, metric names and targets spell it
    /// (`resilience::<kind>`): a log parser splits on spaces.
    ///
    /// ```
    /// use resilience::Kind;
    /// assert_eq!(Kind::CircuitBreaker.as_str(), "circuit_breaker");
    /// assert_eq!(Kind::RateLimiter.as_str(), "rate_limit");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::CircuitBreaker => "circuit_breaker",
            Kind::Retry => "retry",
            Kind::Timeout => "timeout",
            Kind::Bulkhead => "bulkhead",
            Kind::RateLimiter => "rate_limit",
            Kind::Fallback => "fallback",
            Kind::Hedge => "hedge",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::CircuitBreaker => "circuit breaker",
            Kind::Retry => "retry",
            Kind::Timeout => "timeout",
            Kind::Bulkhead => "bulkhead",
            Kind::RateLimiter => "rate limiter",
            Kind::Fallback => "fallback",
            Kind::Hedge => "hedge",
        })
    }
}
