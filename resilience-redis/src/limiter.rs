//! One process's view of a quota shared through Redis: one GCRA script per admission,
//! whichever path it comes by (async, blocking, or `try_acquire` through a lease).

use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::Value;
use resilience_runtime::shared::{QuotaDecision, QuotaFuture, SharedQuota};
use resilience_runtime::{RateLimiter, RateLimiterConfig};

use crate::backend::Shared;
use crate::health::Availability;
use crate::lease::{self, Lease, Taken};
use crate::scripts::GCRA_SCRIPT;
use crate::WhenUnavailable;

pub(crate) struct SharedLimiter {
    key: String,
    limiter: Weak<RateLimiter>,
    backend: Arc<Shared>,
    mode: WhenUnavailable,
    availability: Availability,
    /// The permits `try_acquire` hands out, taken from the fleet ahead of time.
    lease: Lease,
}

/// What the script granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// This many permits, at least one.
    Permits(u64),
    /// None: the next is free in this long.
    Wait(Duration),
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
            lease: Lease::new(backend.timeout()),
            backend,
            mode,
            availability: Availability::default(),
        })
    }

    /// Takes up to `want` permits of the fleet's quota, for at most the timeout: `None`
    /// when the quota is unavailable, which a Redis that failed to answer marks lost.
    async fn take(&self, want: u64) -> Option<Grant> {
        // Read at each admission: a reload of the limiter reaches the fleet's quota with
        // its next call.
        let config = self.limiter.upgrade()?.config().clone();
        let (emission_us, tolerance_us) = gcra(&config)?;
        if !self.availability.is_up() {
            return None;
        }
        let mut call = GCRA_SCRIPT.prepare_invoke();
        call.key(&self.key)
            .arg(emission_us)
            .arg(tolerance_us)
            .arg(want);
        let grant = self
            .backend
            .run(call)
            .await
            .and_then(|reply| grant(&reply, want));
        if grant.is_none() {
            self.lost();
        }
        grant
    }

    /// One permit, as a decision.
    async fn admit(&self) -> QuotaDecision {
        match self.take(1).await {
            Some(Grant::Permits(_)) => QuotaDecision::Admitted,
            Some(Grant::Wait(wait)) => QuotaDecision::Wait(wait),
            None => self.fallback(),
        }
    }

    /// Fetches the next lease for `try_acquire`, on the backend's runtime.
    fn refill(self: &Arc<Self>) {
        /// Frees the lease's refill slot however the task ends, dropped unpolled included
        /// (a runtime shutting down drops it): otherwise no refill would ever run again.
        struct Refill(Arc<SharedLimiter>);
        impl Drop for Refill {
            fn drop(&mut self) {
                self.0.lease.refilled();
            }
        }
        let refill = Refill(Arc::clone(self));
        self.backend.spawn(async move {
            let this = &refill.0;
            let Some(limiter) = this.limiter.upgrade() else {
                return;
            };
            let config = limiter.config();
            let want = lease::size(config.burst.unwrap_or(config.max_requests));
            let emission = gcra(config).map_or(Duration::ZERO, |(us, _)| Duration::from_micros(us));
            drop(limiter);
            let asked = Instant::now();
            match this.take(want).await {
                Some(Grant::Permits(permits)) => {
                    this.lease.granted(permits, emission, asked, Instant::now());
                }
                Some(Grant::Wait(wait)) => this.lease.spent(wait, asked, Instant::now()),
                None => {}
            }
        });
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
        if self.availability.find() {
            if let Some(limiter) = self.limiter.upgrade() {
                limiter.shared_availability(true);
            }
        }
    }

    fn lost(&self) {
        if self.availability.lose() {
            if let Some(limiter) = self.limiter.upgrade() {
                limiter.shared_availability(false);
            }
        }
    }
}

/// `[n, 0]` for `n` permits of the `want` asked for, `[0, µs]` wait; anything else is not
/// an answer of the script.
fn grant(value: &Value, want: u64) -> Option<Grant> {
    match value {
        Value::Array(items) => match items.as_slice() {
            [Value::Int(taken), Value::Int(0)] => u64::try_from(*taken)
                .ok()
                .filter(|taken| (1..=want).contains(taken))
                .map(Grant::Permits),
            [Value::Int(0), Value::Int(wait)] if *wait > 0 => Some(Grant::Wait(
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
        Box::pin(self.0.admit())
    }

    /// The admission runs on the backend's runtime (the connection lives there), and this
    /// thread waits for its answer on a channel for at most the timeout: a wait that needs
    /// no runtime of its own, so it works on any thread. On a thread that *is* the
    /// backend's only runtime thread (a plain fn called straight from a current-thread
    /// runtime's task), the admission cannot run until the wait ends: the timeout passes,
    /// and the name falls back as when Redis is slow. Plain fns belong on `spawn_blocking`
    /// threads in async code for that reason.
    fn admit_blocking(&self) -> QuotaDecision {
        let this = &self.0;
        if !this.availability.is_up() {
            return this.fallback();
        }
        let (send, answer) = mpsc::sync_channel(1);
        let asking = Arc::clone(this);
        this.backend.spawn(async move {
            let _ = send.send(asking.admit().await);
        });
        match answer.recv_timeout(this.backend.timeout()) {
            Ok(decision) => decision,
            // No answer in time, or none ever (the runtime is gone): Redis is unavailable
            // for this call, as an async call that timed out would find it. A permit the
            // late admission takes is lost to the fleet, never given twice.
            Err(_) => {
                this.lost();
                this.fallback()
            }
        }
    }

    /// From the lease: a permit the fleet granted ahead of time, handed out without a
    /// round trip; when there is none, the call is turned away (`retry_after`: the last
    /// refill's round trip, or the fleet's wait for its next permit) and the first such
    /// call fetches the next lease in the background. Permits left in a lease are used
    /// even while Redis is unreachable: the fleet granted them.
    fn try_admit(&self) -> QuotaDecision {
        let this = &self.0;
        match this.lease.take(Instant::now()) {
            Taken::Permit => QuotaDecision::Admitted,
            Taken::Empty { refill, .. } if !this.availability.is_up() => {
                // No refill runs while Redis is unreachable (the refresh finds it again):
                // the slot this call claimed is given back.
                if refill {
                    this.lease.refilled();
                }
                this.fallback()
            }
            Taken::Empty {
                retry_after,
                refill,
            } => {
                if refill {
                    this.refill();
                }
                QuotaDecision::Wait(retry_after)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_shapes_of_the_script_are_answers() {
        let reply = |a, b| Value::Array(vec![Value::Int(a), Value::Int(b)]);
        assert_eq!(grant(&reply(1, 0), 1), Some(Grant::Permits(1)));
        assert_eq!(grant(&reply(3, 0), 5), Some(Grant::Permits(3)));
        assert_eq!(
            grant(&reply(0, 1500), 1),
            Some(Grant::Wait(Duration::from_micros(1500)))
        );
        for garbage in [
            reply(0, 0),
            reply(0, -5),
            reply(2, 0),
            reply(-1, 0),
            Value::Nil,
            Value::Int(1),
            Value::Array(vec![]),
        ] {
            assert_eq!(grant(&garbage, 1), None, "{garbage:?}");
        }
    }
}
