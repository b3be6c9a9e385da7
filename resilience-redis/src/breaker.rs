//! One process's view of a breaker shared through Redis: the hook installed on the local
//! breaker, its mirror of the fleet's state, and the scripts it runs off the call path.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use redis::{Script, ScriptInvocation, Value};
use resilience_runtime::shared::{CallOutcome, SharedCircuit, SharedView, Ticket};
use resilience_runtime::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backend::Shared;
use crate::health::Availability;
use crate::keys::BreakerKeys;
use crate::scripts::{FAILURE_SCRIPT, LEASE_SCRIPT, PROBE_SCRIPT, READ_SCRIPT, SUCCESS_SCRIPT};
use crate::WhenUnavailable;

/// The breaker's word keeps a closed generation's low 30 bits (see `SharedView::Closed`).
const GENERATION: u64 = (1 << 30) - 1;

/// The fleet's state as one script replies it, or as a transition is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fleet {
    pub(crate) closed: bool,
    pub(crate) generation: u64,
    /// Until the open deadline, on Redis's clock; negative once it passed.
    pub(crate) remaining_ms: i64,
    pub(crate) failures: u64,
    /// Bumped by every write of the state: orders two replies of one generation.
    pub(crate) version: u64,
}

impl Fleet {
    /// The order of states: a view never goes back to an older one.
    fn age(&self) -> (u64, u64) {
        (self.generation, self.version)
    }

    /// `[s, g, u - now, f, v, lease?]`, as every breaker script replies; `None` for anything else
    /// (a reply from something that is not our script is an error, never a state).
    pub(crate) fn from_reply(value: &Value) -> Option<(Self, Option<u64>)> {
        let Value::Array(items) = value else {
            return None;
        };
        let closed = match items.first()? {
            Value::BulkString(s) if s == b"c" => true,
            Value::BulkString(s) if s == b"o" => false,
            _ => return None,
        };
        let int = |i: usize| match items.get(i) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        };
        let fleet = Self {
            closed,
            generation: u64::try_from(int(1)?).ok()?,
            remaining_ms: int(2)?,
            failures: u64::try_from(int(3)?).ok()?,
            version: u64::try_from(int(4)?).ok()?,
        };
        let lease = match items.get(5) {
            None => None,
            Some(_) => Some(u64::try_from(int(5)?).ok()?),
        };
        Some((fleet, lease))
    }

    /// `name\ns\ng\nremaining\nf\nv`, as the scripts publish a transition.
    pub(crate) fn from_message(message: &str) -> Option<(&str, Self)> {
        let mut parts = message.split('\n');
        let name = parts.next()?;
        let closed = match parts.next()? {
            "c" => true,
            "o" => false,
            _ => return None,
        };
        let fleet = Self {
            closed,
            generation: parts.next()?.parse().ok()?,
            remaining_ms: parts.next()?.parse().ok()?,
            failures: parts.next()?.parse().ok()?,
            version: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some((name, fleet))
    }
}

/// What this process last learned of the fleet's state.
#[derive(Debug, Clone, Copy)]
struct Mirror {
    closed: bool,
    generation: u64,
    version: u64,
    /// The open deadline on this process's clock: the remaining time Redis replied, from
    /// when the reply arrived (so no two hosts' clocks are ever compared).
    until: Instant,
    failures: u64,
}

impl Mirror {
    fn state(&self, now: Instant) -> CircuitState {
        match (self.closed, now < self.until) {
            (true, _) => CircuitState::Closed,
            (false, true) => CircuitState::Open,
            (false, false) => CircuitState::HalfOpen,
        }
    }
}

/// A probe lease granted to this process, waiting for the call that takes it.
#[derive(Debug, Clone, Copy)]
struct Lease {
    id: u64,
    generation: u64,
    expires: Instant,
}

/// The breaker's config as the scripts take it. Read for each script, so a reload of the
/// breaker reaches the fleet with its next report.
struct Limits {
    failure_threshold: u32,
    success_threshold: u32,
    probes: u32,
    recovery_ms: u64,
}

impl Limits {
    fn of(config: &CircuitBreakerConfig) -> Self {
        Self {
            failure_threshold: config.failure_threshold,
            success_threshold: config.success_threshold,
            probes: config.probes(),
            recovery_ms: u64::try_from(config.recovery_timeout.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
        }
    }
}

/// The hook: see the crate's docs for what is shared and what stays local.
pub(crate) struct SharedBreaker {
    name: Arc<str>,
    keys: BreakerKeys,
    breaker: Weak<CircuitBreaker>,
    backend: Arc<Shared>,
    mode: WhenUnavailable,
    availability: Availability,
    mirror: Mutex<Option<Mirror>>,
    /// States taken into `mirror` so far: a refresh that read the key with none taken
    /// meanwhile has the freshest word there is (see [`refresh`](Self::refresh)).
    applied: AtomicU64,
    /// The fleet has failures counted, as far as this process knows: the next success
    /// resets them.
    dirty: AtomicBool,
    lease: Mutex<Option<Lease>>,
    /// A lease request is in flight: one at a time per process.
    leasing: AtomicBool,
    /// The scripts this process sends, in the order its calls ended: a failure and the
    /// success after it must reach Redis in that order.
    queue: mpsc::Sender<Job>,
}

/// A script to run off the call path, and what to do with the lease it may reply.
type Job = (ScriptInvocation<'static>, fn(&SharedBreaker, Option<u64>));

/// Scripts waiting for Redis beyond this many mean Redis is too slow for this breaker's
/// traffic: it falls back rather than let the queue grow.
const QUEUE: usize = 1024;

impl SharedBreaker {
    /// The hook, and the task that sends its scripts one after the other.
    pub(crate) fn new(
        breaker: &Arc<CircuitBreaker>,
        backend: Arc<Shared>,
        mode: WhenUnavailable,
    ) -> Arc<Self> {
        let (queue, mut jobs) = mpsc::channel::<Job>(QUEUE);
        let this = Arc::new(Self {
            name: breaker.name().into(),
            keys: BreakerKeys::new(backend.prefix(), breaker.name()),
            breaker: Arc::downgrade(breaker),
            mode,
            backend,
            availability: Availability::default(),
            mirror: Mutex::new(None),
            applied: AtomicU64::new(0),
            dirty: AtomicBool::new(false),
            lease: Mutex::new(None),
            leasing: AtomicBool::new(false),
            queue,
        });
        let weak = Arc::downgrade(&this);
        this.backend.spawn(async move {
            while let Some((invocation, then)) = jobs.recv().await {
                let Some(this) = weak.upgrade() else { return };
                let lease = this.settle(this.backend.run(invocation).await, None);
                then(&this, lease);
            }
        });
        this
    }

    /// Reads the fleet's state: the refresh backstop, and how an unreachable Redis is
    /// found again.
    ///
    /// When no other state was taken while the read was out, what it read is the key as
    /// it is now, the freshest word there is: it is taken even if it reads older than the
    /// view. Only a key made anew reads older (a Redis failed over to a replica whose
    /// clock, which seeds generations, is behind), or a view taken from a push nobody's
    /// script sent: either would otherwise hold this process apart from the fleet for
    /// good.
    pub(crate) async fn refresh(self: &Arc<Self>) {
        let applied = self.applied.load(Acquire);
        let invocation = self.invocation(&READ_SCRIPT, |_| {});
        self.settle(self.backend.run(invocation).await, Some(applied));
    }

    /// Applies a state the pub/sub channel pushed.
    pub(crate) fn pushed(&self, fleet: Fleet) {
        if self.availability.is_up() {
            self.apply(fleet, None);
        }
    }

    /// Applies a script's reply, or falls back if there was none; `applied`, for the
    /// refresh's read, is the count of states taken when it was sent (see
    /// [`apply`](Self::apply)).
    fn settle(&self, reply: Option<Value>, applied: Option<u64>) -> Option<u64> {
        match reply.as_ref().and_then(Fleet::from_reply) {
            Some((fleet, lease)) => {
                self.found();
                self.apply(fleet, applied);
                lease
            }
            None => {
                self.lost();
                None
            }
        }
    }

    /// Takes the fleet's state as this process's view, unless it is older than the view
    /// and not read after the view was taken (`applied`, as of the read, is still the
    /// count of states taken).
    fn apply(&self, fleet: Fleet, applied: Option<u64>) {
        let Some(breaker) = self.breaker.upgrade() else {
            return;
        };
        let now = Instant::now();
        let mut mirror = self.mirror.lock().unwrap_or_else(PoisonError::into_inner);
        let before = mirror.map(|m| m.state(now));
        let older = mirror.is_some_and(|m| fleet.age() < (m.generation, m.version));
        if older && applied != Some(self.applied.load(Acquire)) {
            return;
        }
        self.applied.fetch_add(1, AcqRel);
        let next = Mirror {
            closed: fleet.closed,
            generation: fleet.generation,
            version: fleet.version,
            until: now + Duration::from_millis(u64::try_from(fleet.remaining_ms).unwrap_or(0)),
            failures: fleet.failures,
        };
        *mirror = Some(next);
        self.dirty
            .store(fleet.closed && fleet.failures > 0, Release);
        // Under the lock, so views are set in the order of the states they come from.
        if self.availability.is_up() || self.mode == WhenUnavailable::Reject {
            breaker.set_shared_view(view(&next));
        }
        if let Some(before) = before {
            breaker.shared_transition(before, next.state(now));
        }
    }

    fn lost(&self) {
        self.availability.lose(|| {
            if let Some(breaker) = self.breaker.upgrade() {
                breaker.set_shared_view(match (self.mode, self.mirror()) {
                    // What the fleet last said carries over: an open fleet stays open
                    // here until its deadline, rather than its downstream called again.
                    (WhenUnavailable::Local, Some(fleet)) if !fleet.closed => {
                        SharedView::LocalOpen(fleet.until.saturating_duration_since(Instant::now()))
                    }
                    (WhenUnavailable::Local, _) => SharedView::Local,
                    (WhenUnavailable::Reject, _) => SharedView::NotClosed,
                });
                breaker.shared_availability(false);
            }
        });
    }

    fn found(&self) {
        self.availability.find(|| {
            if let Some(breaker) = self.breaker.upgrade() {
                breaker.shared_availability(true);
            }
        });
    }

    fn mirror(&self) -> Option<Mirror> {
        *self.mirror.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a script to run off the call path; its reply is applied, then `then` runs.
    fn spawn(&self, invocation: ScriptInvocation<'static>, then: fn(&Self, Option<u64>)) {
        if self.queue.try_send((invocation, then)).is_err() {
            self.lost();
            // The lease request this may have been is over.
            self.leasing.store(false, Release);
        }
    }

    /// `script` on this breaker's keys, with the TTL first and then `args`.
    fn invocation(
        &self,
        script: &'static Script,
        args: impl FnOnce(&mut ScriptInvocation<'static>),
    ) -> ScriptInvocation<'static> {
        let mut call = script.prepare_invoke();
        call.key(&self.keys.state)
            .key(&self.keys.probes)
            .arg(self.backend.ttl_ms());
        args(&mut call);
        call
    }

    /// The breaker's config now, unless the breaker is gone.
    fn limits(&self) -> Option<Limits> {
        self.breaker
            .upgrade()
            .map(|breaker| Limits::of(breaker.config()))
    }

    fn request_lease(self: &Arc<Self>) {
        let Some(limits) = self.limits() else {
            return;
        };
        if self.leasing.swap(true, AcqRel) {
            return;
        }
        let invocation = self.invocation(&LEASE_SCRIPT, |call| {
            call.arg(limits.probes).arg(self.backend.probe_lease_ms());
        });
        self.spawn(invocation, |this, lease| {
            if let (Some(id @ 1..), Some(mirror)) = (lease, this.mirror()) {
                // The lease is ours until its TTL; given out a timeout short of it, so the
                // probe's report reaches Redis while the lease still holds.
                let lease = this
                    .backend
                    .probe_lease()
                    .saturating_sub(this.backend.timeout());
                *this.lease.lock().unwrap_or_else(PoisonError::into_inner) = Some(Lease {
                    id,
                    generation: mirror.generation,
                    expires: Instant::now() + lease,
                });
            }
            this.leasing.store(false, Release);
        });
    }

    fn take_lease(&self, generation: u64) -> Option<u64> {
        let mut lease = self.lease.lock().unwrap_or_else(PoisonError::into_inner);
        lease
            .take()
            .filter(|lease| lease.generation == generation && Instant::now() < lease.expires)
            .map(|lease| lease.id)
    }
}

fn view(mirror: &Mirror) -> SharedView {
    if mirror.closed {
        SharedView::Closed {
            generation: mirror.generation,
            failures: mirror.failures > 0,
        }
    } else {
        SharedView::NotClosed
    }
}

/// The hook needs `Arc<Self>` to spawn; the trait is implemented on this handle.
pub(crate) struct Hook(pub(crate) Arc<SharedBreaker>);

impl SharedCircuit for Hook {
    fn in_charge(&self) -> bool {
        self.0.in_charge()
    }

    fn state(&self) -> CircuitState {
        match self.0.mirror() {
            Some(_) if !self.0.availability.is_up() => CircuitState::Open,
            Some(mirror) => mirror.state(Instant::now()),
            None => CircuitState::Closed,
        }
    }

    fn admit(&self) -> Result<Ticket, (CircuitState, Duration)> {
        let this = &self.0;
        let Some(mirror) = this.mirror().filter(|_| this.availability.is_up()) else {
            // Unreachable, set to reject.
            return Err((CircuitState::Open, this.backend.refresh()));
        };
        let now = Instant::now();
        match mirror.state(now) {
            // The view changes a moment after the mirror: closed, the call goes through.
            CircuitState::Closed => Ok(Ticket {
                issued: mirror.generation & GENERATION,
                probe: false,
            }),
            CircuitState::Open => Err((CircuitState::Open, mirror.until - now)),
            _ => match this.take_lease(mirror.generation) {
                Some(id) => Ok(Ticket {
                    issued: id,
                    probe: true,
                }),
                None => {
                    // Leases come from Redis; this call does not wait for one, the next
                    // call takes it.
                    this.request_lease();
                    Err((CircuitState::HalfOpen, this.backend.timeout()))
                }
            },
        }
    }

    fn report(&self, issued: u64, probe: bool, outcome: CallOutcome) {
        let this = &self.0;
        let Some(limits) = this.limits() else {
            return;
        };
        if probe {
            let outcome = match outcome {
                CallOutcome::Success => "s",
                CallOutcome::Failure => "f",
                CallOutcome::Abandoned => "a",
            };
            let invocation = this.invocation(&PROBE_SCRIPT, |call| {
                call.arg(issued)
                    .arg(outcome)
                    .arg(limits.success_threshold)
                    .arg(limits.recovery_ms)
                    .arg(this.backend.channel())
                    .arg(&*this.name);
            });
            return this.spawn(invocation, |_, _| {});
        }
        let Some(mirror) = this
            .mirror()
            .filter(|m| m.closed && m.generation & GENERATION == issued)
        else {
            return;
        };
        let invocation = match outcome {
            CallOutcome::Failure => {
                this.dirty.store(true, Release);
                if let Some(breaker) = this.breaker.upgrade() {
                    breaker.set_shared_view(SharedView::Closed {
                        generation: mirror.generation,
                        failures: true,
                    });
                }
                this.invocation(&FAILURE_SCRIPT, |call| {
                    call.arg(issued)
                        .arg(limits.failure_threshold)
                        .arg(limits.recovery_ms)
                        .arg(this.backend.channel())
                        .arg(&*this.name);
                })
            }
            // Only the first success after failures resets them.
            CallOutcome::Success if this.dirty.swap(false, AcqRel) => {
                if let Some(breaker) = this.breaker.upgrade() {
                    breaker.set_shared_view(SharedView::Closed {
                        generation: mirror.generation,
                        failures: false,
                    });
                }
                this.invocation(&SUCCESS_SCRIPT, |call| {
                    call.arg(issued);
                })
            }
            _ => return,
        };
        this.spawn(invocation, |_, _| {});
    }
}

impl SharedBreaker {
    /// The shared state decides once it is known, and while Redis answers (or always, set
    /// to reject); otherwise the breaker is local.
    fn in_charge(&self) -> bool {
        self.mirror().is_some()
            && (self.availability.is_up() || self.mode == WhenUnavailable::Reject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_of_the_wrong_shape_are_not_states() {
        let ok = Value::Array(vec![
            Value::BulkString(b"o".to_vec()),
            Value::Int(7),
            Value::Int(250),
            Value::Int(0),
            Value::Int(3),
        ]);
        let (fleet, lease) = Fleet::from_reply(&ok).unwrap();
        assert_eq!(
            (fleet.closed, fleet.generation, fleet.remaining_ms, lease),
            (false, 7, 250, None)
        );
        for garbage in [
            Value::Nil,
            Value::Int(1),
            Value::Array(vec![
                Value::BulkString(b"x".to_vec()),
                Value::Int(1),
                Value::Int(1),
                Value::Int(1),
                Value::Int(1),
            ]),
            Value::Array(vec![
                Value::BulkString(b"c".to_vec()),
                Value::Int(-1),
                Value::Int(1),
                Value::Int(1),
                Value::Int(1),
            ]),
            Value::Array(vec![
                Value::BulkString(b"c".to_vec()),
                Value::Int(1),
                Value::Int(1),
                Value::Int(1),
            ]),
            Value::Array(vec![Value::BulkString(b"c".to_vec())]),
        ] {
            assert_eq!(Fleet::from_reply(&garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn published_transitions_parse_and_garbage_does_not() {
        let (name, fleet) = Fleet::from_message("payments\no\n12\n30000\n0\n4").unwrap();
        assert_eq!(name, "payments");
        assert_eq!(
            (fleet.closed, fleet.generation, fleet.remaining_ms),
            (false, 12, 30000)
        );
        for garbage in [
            "",
            "payments",
            "p\nx\n1\n1\n1\n1",
            "p\nc\n1\n1\n1\n1\nextra",
            "p\nc\none\n1\n1\n1",
            "p\nc\n1\n1\n1",
        ] {
            assert_eq!(Fleet::from_message(garbage), None, "{garbage:?}");
        }
    }
}
