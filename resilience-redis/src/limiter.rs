//! One process's view of a quota shared through Redis: one GCRA script per admission,
//! whichever path it comes by (async, blocking, or `try_acquire` through a lease).

use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use redis::Value;
use resilience_runtime::shared::{QuotaDecision, QuotaFuture, SharedKeys, SharedQuota};
use resilience_runtime::{KeyedRateLimiter, RateLimiter, RateLimiterConfig};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::backend::Shared;
use crate::health::Availability;
use crate::lease::{self, Lease, Taken};
use crate::scripts::GCRA_SCRIPT;
use crate::WhenUnavailable;

/// Whether Redis answers for one shared name, which all the name's quotas share (a keyed
/// name's keys, one quota each): lost once and found once, so the event and the warning
/// go out once per name, however many keys it has.
#[derive(Default)]
pub(crate) struct Health {
    availability: Availability,
    /// The limiter whose events tell it (the name's own, or the key's that lost it), and
    /// the Redis key it lost: the one the refresh reads to find it again.
    reporter: Mutex<(Weak<RateLimiter>, String)>,
    /// The keyed instance the name is, if it is one: told each change too, for its stats.
    keyed: OnceLock<Weak<KeyedRateLimiter>>,
}

impl Health {
    /// Whether the name is unreachable: the refresh tries it again.
    pub(crate) fn is_down(&self) -> bool {
        !self.availability.is_up()
    }

    /// Makes `keyed`, the keyed instance this is the health of, hear each change.
    pub(crate) fn of_keyed(&self, keyed: &Arc<KeyedRateLimiter>) {
        let _ = self.keyed.set(Arc::downgrade(keyed));
    }

    /// Redis answered again.
    pub(crate) fn found(&self) {
        self.availability.find(|| {
            let reporter = self.reporter().0.upgrade();
            if let Some(limiter) = reporter {
                limiter.shared_availability(true);
            }
            self.tell_keyed(true);
        });
    }

    fn tell_keyed(&self, available: bool) {
        if let Some(keyed) = self.keyed.get().and_then(Weak::upgrade) {
            keyed.shared_availability(available);
        }
    }

    /// The Redis key whose quota was lost, for the refresh to read.
    pub(crate) fn lost_key(&self) -> String {
        self.reporter().1.clone()
    }

    /// Redis failed `limiter`, whose quota is under `key`.
    fn lost(&self, limiter: &Weak<RateLimiter>, key: &str) {
        self.availability.lose(|| {
            *self.reporter() = (Weak::clone(limiter), key.to_owned());
            if let Some(limiter) = limiter.upgrade() {
                limiter.shared_availability(false);
            }
            self.tell_keyed(false);
        });
    }

    fn reporter(&self) -> std::sync::MutexGuard<'_, (Weak<RateLimiter>, String)> {
        // Nothing panics under this lock: a poisoned one holds a sound pointer.
        self.reporter.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) struct SharedLimiter {
    key: String,
    limiter: Weak<RateLimiter>,
    backend: Arc<Shared>,
    mode: WhenUnavailable,
    health: Arc<Health>,
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
    /// `limiter`'s view of the quota under the Redis key `key`, its name's `health`.
    pub(crate) fn new(
        limiter: &Arc<RateLimiter>,
        key: String,
        backend: Arc<Shared>,
        mode: WhenUnavailable,
        health: Arc<Health>,
    ) -> Self {
        Self {
            key,
            limiter: Arc::downgrade(limiter),
            lease: Lease::new(backend.timeout()),
            backend,
            mode,
            health,
        }
    }

    /// Takes up to `want` permits of the fleet's quota, for at most the timeout: `None`
    /// when the quota is unavailable, which a Redis that failed to answer marks lost.
    async fn take(&self, want: u64) -> Option<Grant> {
        // Read at each admission: a reload of the limiter reaches the fleet's quota with
        // its next call.
        let (emission_us, tolerance_us) = gcra(self.limiter.upgrade()?.config())?;
        if self.health.is_down() {
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
            self.health.lost(&self.limiter, &self.key);
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
            let want = this
                .lease
                .want(lease::most(config.burst.unwrap_or(config.max_requests)));
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
pub(crate) fn gcra(config: &RateLimiterConfig) -> Option<(u64, u64)> {
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
        if this.health.is_down() {
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
                this.health.lost(&this.limiter, &this.key);
                this.fallback()
            }
        }
    }

    /// Where the thread may block for a round trip, the fleet's answer as
    /// [`admit_blocking`](Self::admit_blocking) gets it: on a thread of no runtime, and on
    /// a multi-thread runtime's thread, through `block_in_place`, which first hands the
    /// worker's other tasks to another. A current-thread runtime's only thread cannot
    /// block (the script would run on it), so there the permit comes from the lease: one
    /// the fleet granted ahead of time, handed out without a round trip; when there is
    /// none, the call is turned away (`retry_after`: the last refill's round trip, or the
    /// fleet's wait for its next permit) and the first such call fetches the next lease
    /// in the background. Permits left in a lease are used even while Redis is
    /// unreachable: the fleet granted them.
    fn try_admit(&self) -> QuotaDecision {
        match Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
            Err(_) => return self.admit_blocking(),
            Ok(RuntimeFlavor::CurrentThread) => {}
            Ok(_) => return tokio::task::block_in_place(|| self.admit_blocking()),
        }
        let this = &self.0;
        match this.lease.take(Instant::now()) {
            Taken::Permit => QuotaDecision::Admitted,
            Taken::Empty { refill, .. } if this.health.is_down() => {
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

/// The hook of a keyed limiter: makes each key's limiter, as it is made, a view of that
/// key's quota, one GCRA key per user key (see [`crate::keys::keyed_quota`]).
pub(crate) struct KeyedHook {
    pub(crate) name: String,
    pub(crate) backend: Arc<Shared>,
    pub(crate) mode: WhenUnavailable,
    pub(crate) health: Arc<Health>,
}

impl SharedKeys<RateLimiter> for KeyedHook {
    fn share_key(&self, key: &str, limiter: &Arc<RateLimiter>) {
        let shared = SharedLimiter::new(
            limiter,
            crate::keys::keyed_quota(self.backend.prefix(), &self.name, key),
            Arc::clone(&self.backend),
            self.mode,
            Arc::clone(&self.health),
        );
        // The key's limiter was made this instant, for this call: never shared before.
        let _ = limiter.share(Arc::new(Hook(Arc::new(shared))));
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
