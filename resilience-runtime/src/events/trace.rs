//! The events as `tracing` events: one target per kind, levels as the table in
//! [`events`](crate::events) says. Every field is an expression `tracing` evaluates only
//! once a subscriber showed interest in the event, so nothing is formatted before that.

use std::fmt;
use std::time::Duration;

use crate::{CircuitState, Error, Kind};

/// `tracing::$level!` at the target of `kind`; a target must be a constant, so one
/// callsite per kind.
macro_rules! at_target_of {
    ($kind:expr, $level:ident, $($fields:tt)+) => {
        match $kind {
            Kind::CircuitBreaker => tracing::$level!(target: "resilience::circuit_breaker", $($fields)+),
            Kind::Retry => tracing::$level!(target: "resilience::retry", $($fields)+),
            Kind::Timeout => tracing::$level!(target: "resilience::timeout", $($fields)+),
            Kind::Bulkhead => tracing::$level!(target: "resilience::bulkhead", $($fields)+),
            Kind::RateLimiter => tracing::$level!(target: "resilience::rate_limit", $($fields)+),
            Kind::Fallback => tracing::$level!(target: "resilience::fallback", $($fields)+),
            Kind::Hedge => tracing::$level!(target: "resilience::hedge", $($fields)+),
        }
    };
}

/// Whole milliseconds, as the `_ms` fields are.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn transition(name: &str, from: CircuitState, to: CircuitState) {
    let kind = Kind::CircuitBreaker;
    match to {
        CircuitState::Open | CircuitState::ForcedOpen => tracing::warn!(
            target: "resilience::circuit_breaker",
            name, kind = kind.as_str(), %from, %to,
            "circuit breaker `{name}` opened",
        ),
        _ => tracing::info!(
            target: "resilience::circuit_breaker",
            name, kind = kind.as_str(), %from, %to,
            "circuit breaker `{name}` is {to}",
        ),
    }
}

pub(super) fn rejected(kind: Kind, name: &str, error: &Error) {
    at_target_of!(
        kind,
        debug,
        name,
        kind = kind.as_str(),
        %error,
        retry_after_ms = error.retry_after().map(millis),
        "call rejected",
    );
}

pub(super) fn retrying(name: &str, attempt: u32, delay: Duration, error: &dyn fmt::Display) {
    tracing::debug!(
        target: "resilience::retry",
        name,
        kind = Kind::Retry.as_str(),
        attempt,
        delay_ms = millis(delay),
        %error,
        "attempt failed, retrying",
    );
}

pub(super) fn timed_out(name: &str, after: Duration) {
    tracing::debug!(
        target: "resilience::timeout",
        name,
        kind = Kind::Timeout.as_str(),
        after_ms = millis(after),
        "call timed out",
    );
}

pub(super) fn waited(kind: Kind, name: &str, waited: Duration) {
    at_target_of!(
        kind,
        trace,
        name,
        kind = kind.as_str(),
        waited_ms = millis(waited),
        "call waited",
    );
}

pub(super) fn fell_back(name: &str, step: u32) {
    tracing::debug!(
        target: "resilience::fallback",
        name,
        kind = Kind::Fallback.as_str(),
        step,
        "call failed, falling back",
    );
}

pub(super) fn hedged(name: &str, attempt: u32) {
    tracing::debug!(
        target: "resilience::hedge",
        name,
        kind = Kind::Hedge.as_str(),
        attempt,
        "another attempt started",
    );
}

pub(super) fn reconfigured(kind: Kind, name: &str, changes: &str) {
    at_target_of!(
        kind,
        info,
        name,
        kind = kind.as_str(),
        changes,
        "{kind} `{name}` reconfigured: {changes}",
    );
}

/// A config document's fields for a method's instance, applied before its first call,
/// that its declaration turned invalid: the instance runs on its declaration.
#[cfg(feature = "config")]
pub(crate) fn document_refused(kind: Kind, name: &str, problem: &crate::error::InvalidConfig) {
    at_target_of!(
        kind,
        warn,
        name,
        kind = kind.as_str(),
        %problem,
        "{kind} `{name}` runs on its attribute's config: the document's breaks it: {problem}",
    );
}

/// A warning each time, not per call: the store reports a change of reachability once.
pub(super) fn shared_availability(kind: Kind, name: &str, available: bool) {
    let what = match available {
        true => "is back on its shared state",
        false => "lost its shared state and falls back",
    };
    at_target_of!(
        kind,
        warn,
        name,
        kind = kind.as_str(),
        available,
        "`{name}` {what}"
    );
}
