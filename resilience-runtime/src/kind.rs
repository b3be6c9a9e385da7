//! The kinds of policy, named where both the errors and the registry can use them.

use std::fmt;

/// The kinds of policy; each has its own namespace in the [`Registry`](crate::Registry).
///
/// ```
/// use resilience::Kind;
/// assert_eq!(Kind::RateLimiter.to_string(), "rate limiter");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
