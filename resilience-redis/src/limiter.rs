//! One process's view of a quota shared through Redis: one GCRA script per admission.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::Value;
use resilience_runtime::shared::{QuotaDecision, QuotaFuture, SharedQuota};
use resilience_runtime::{RateLimiter, RateLimiterConfig};

use crate::backend::Shared;
use crate::health::Availability;
use crate::scripts::GCRA_SCRIPT;
use crate::WhenUnavailable;

pub(crate) struct SharedLimiter {
    key: String,
    limiter: Weak<RateLimiter>,
    backend: Arc<Shared>,
    mode: WhenUnavailable,
    availability: Availability,
}

impl SharedLimiter {
    /// `None` when the quota is finer than GCRA's microsecond can hold.
    pub(crate) fn new(
        limiter: &Arc<RateLimiter>,
        backend: Arc<Shared>,
        mode: WhenUnavailable,
    ) -> Option<Self> {
        gcra(limiter.config())?;
        Some(Self {
            key: crate::keys::quota(backend.prefix(), limiter.name()),
            limiter: Arc::downgrade(limiter),
            backend,
            mode,
            availability: Availability::default(),
        })
    }

    /// While Redis is unreachable, what each admission gets without asking it.
    fn fallback(&self) -> QuotaDecision {
        match self.mode {
            WhenUnavailable::Local => QuotaDecision::Local,
            WhenUnavailable::Reject => QuotaDecision::Refused(self.backend.refresh()),
        }
    }

    /// Whether the quota is unreachable: the refresh tries it again.
    pub(crate) fn is_down(&self) -> bool {
        !self.availability.is_up()
    }

    /// Redis answered again.
    pub(crate) fn found(&self) {
        self.availability.find(|| self.tell(true));
    }

    fn lost(&self) {
        self.availability.lose(|| self.tell(false));
    }

    fn tell(&self, available: bool) {
        if let Some(limiter) = self.limiter.upgrade() {
            limiter.shared_availability(available);
        }
    }
}

/// `[1, 0]` admitted, `[0, µs]` wait; anything else is not a decision.
fn decision(value: &Value) -> Option<QuotaDecision> {
    match value {
        Value::Array(items) => match items.as_slice() {
            [Value::Int(1), Value::Int(0)] => Some(QuotaDecision::Admitted),
            [Value::Int(0), Value::Int(wait)] if *wait > 0 => Some(QuotaDecision::Wait(
                Duration::from_micros(u64::try_from(*wait).ok()?),
            )),
            _ => None,
        },
        _ => None,
    }
}

/// GCRA's parameters for `config`, in microseconds: the time between two permits at the
/// steady rate, and how far ahead of now the next may be promised (`burst - 1` of them);
/// `None` when the quota is finer than a microsecond can hold.
fn gcra(config: &RateLimiterConfig) -> Option<(u64, u64)> {
    let emission_us =
        u64::try_from(config.window.as_micros() / u128::from(config.max_requests)).ok()?;
    if emission_us == 0 {
        return None;
    }
    let burst = config.burst.unwrap_or(config.max_requests);
    Some((
        emission_us,
        emission_us.saturating_mul(u64::from(burst) - 1),
    ))
}

/// The hook; an `Arc` so the refresh can find it again.
pub(crate) struct Hook(pub(crate) Arc<SharedLimiter>);

impl SharedQuota for Hook {
    fn admit(&self) -> QuotaFuture<'_> {
        Box::pin(async move {
            let this = &self.0;
            // Read at each admission: a reload of the limiter reaches the fleet's quota
            // with its next call.
            let quota = this
                .limiter
                .upgrade()
                .and_then(|limiter| gcra(limiter.config()));
            let (Some((emission_us, tolerance_us)), true) = (quota, this.availability.is_up())
            else {
                return this.fallback();
            };
            let mut call = GCRA_SCRIPT.prepare_invoke();
            call.key(&this.key).arg(emission_us).arg(tolerance_us);
            match this.backend.run(call).await.as_ref().and_then(decision) {
                Some(decision) => decision,
                None => {
                    this.lost();
                    this.fallback()
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_shapes_of_the_script_are_decisions() {
        let reply = |a, b| Value::Array(vec![Value::Int(a), Value::Int(b)]);
        assert_eq!(decision(&reply(1, 0)), Some(QuotaDecision::Admitted));
        assert_eq!(
            decision(&reply(0, 1500)),
            Some(QuotaDecision::Wait(Duration::from_micros(1500)))
        );
        for garbage in [
            reply(0, 0),
            reply(0, -5),
            reply(2, 0),
            Value::Nil,
            Value::Int(1),
            Value::Array(vec![]),
        ] {
            assert_eq!(decision(&garbage), None, "{garbage:?}");
        }
    }
}
