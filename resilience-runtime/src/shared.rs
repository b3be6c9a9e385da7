//! Hooks for state kept outside the process, so that many processes share one breaker or
//! one quota: the traits a store (such as `resilience-redis`) implements and installs on a
//! named instance with [`CircuitBreaker::share`](crate::CircuitBreaker::share) or
//! [`RateLimiter::share`](crate::RateLimiter::share), or on a keyed one, key by key, with
//! [`Keyed::share`](crate::Keyed::share).
//!
//! The hooks are consulted only off the success path. A closed breaker whose fleet has no
//! failure counted admits and reports a success without calling its hook; the hook sees
//! failures, the first success after them, and every call while the fleet's breaker is not
//! closed. A shared limiter asks its hook once per admission, on every path: async calls,
//! blocking calls and `try_acquire` (each through the hook method made for it).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use resilience::shared::{CallOutcome, SharedCircuit, Ticket};
//! use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
//!
//! /// A "fleet" that is always open: every call is turned away for a second.
//! struct AlwaysOpen;
//! impl SharedCircuit for AlwaysOpen {
//!     fn in_charge(&self) -> bool { true }
//!     fn state(&self) -> CircuitState { CircuitState::Open }
//!     fn admit(&self) -> Result<Ticket, (CircuitState, Duration)> {
//!         Err((CircuitState::Open, Duration::from_secs(1)))
//!     }
//!     fn report(&self, _issued: u64, _probe: bool, _outcome: CallOutcome) {}
//! }
//!
//! let breaker = CircuitBreaker::new("shared::docs", CircuitBreakerConfig::default()).unwrap();
//! breaker.share(Arc::new(AlwaysOpen)).unwrap();
//! breaker.set_shared_view(resilience::shared::SharedView::NotClosed);
//! assert!(breaker.try_acquire().is_err());
//! assert_eq!(breaker.state(), CircuitState::Open);
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use crate::CircuitState;

/// How a finished call ended, as a [`SharedCircuit`] hears it.
///
/// ```
/// use resilience::shared::CallOutcome;
/// assert_ne!(CallOutcome::Success, CallOutcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// The downstream answered.
    Success,
    /// The call failed in a way the breaker counts.
    Failure,
    /// The call was dropped, panicked, or ended with an error that says nothing of the
    /// downstream: neither a success nor a failure, but a probe's slot is given back.
    Abandoned,
}

/// The fleet's breaker as seen from one process: installed with [`CircuitBreaker::share`],
/// it decides every call the breaker's own word does not let through by itself.
///
/// While [`in_charge`](Self::in_charge) is `false` (the store is unreachable and the hook
/// falls back to local state) the breaker runs its own state machine with its own config,
/// exactly as an unshared breaker does.
///
/// [`CircuitBreaker::share`]: crate::CircuitBreaker::share
pub trait SharedCircuit: Send + Sync + 'static {
    /// Whether the shared state decides now; `false` makes the breaker a local one.
    fn in_charge(&self) -> bool;
    /// The fleet's state, as this process last learned it.
    fn state(&self) -> CircuitState;
    /// A call arrives while the breaker's word says "not closed": let it through, with the
    /// [`Ticket`] its outcome is reported under, or turn it away with the state and the
    /// time to come back after. Never waits.
    ///
    /// # Errors
    ///
    /// The state the call is rejected in and its `retry_after` (longer than zero).
    fn admit(&self) -> Result<Ticket, (CircuitState, Duration)>;
    /// The outcome of a call, other than a success while the fleet is clean closed:
    /// `issued` is the closed phase's generation the call was admitted in (the one given
    /// to [`SharedView::Closed`]) or the [`Ticket`]'s `issued` that
    /// [`admit`](Self::admit) returned. Never waits.
    fn report(&self, issued: u64, probe: bool, outcome: CallOutcome);
}

/// A call a [`SharedCircuit`] let through: the number its outcome is reported under (a
/// closed phase's generation, or a probe's lease) and whether it is a probe.
///
/// ```
/// use resilience::shared::Ticket;
/// let probe = Ticket { issued: 41, probe: true };
/// assert!(probe.probe);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// What the call's outcome is reported under.
    pub issued: u64,
    /// Whether the call is a half-open probe.
    pub probe: bool,
}

/// What a [`SharedCircuit`] tells its breaker of the fleet's state with
/// [`CircuitBreaker::set_shared_view`]: all the breaker needs to decide a call alone.
///
/// [`CircuitBreaker::set_shared_view`]: crate::CircuitBreaker::set_shared_view
///
/// ```
/// use resilience::shared::SharedView;
/// let view = SharedView::Closed { generation: 7, failures: false };
/// assert_ne!(view, SharedView::NotClosed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedView {
    /// Closed for the fleet, in closed phase `generation`: calls go through on the fast
    /// path. With `failures`, the fleet has failures counted, so successes are reported
    /// too (the first one resets the count); without, a success sends nothing.
    Closed {
        /// The closed phase's number; calls report their outcome under its low 30 bits.
        generation: u64,
        /// Whether the fleet has failures counted.
        failures: bool,
    },
    /// Open or half-open for the fleet (or unreachable, with calls rejected): every call
    /// asks [`SharedCircuit::admit`].
    NotClosed,
    /// The shared state is unreachable and the breaker falls back on its own: it starts
    /// afresh, closed.
    Local,
    /// The shared state is unreachable while the fleet's breaker was not closed: the
    /// breaker falls back on its own, open for what was left of the fleet's open state
    /// (zero for a half-open fleet: its next call probes), then as a local breaker does.
    /// A downstream the fleet found down is not called again because Redis went away.
    LocalOpen(Duration),
}

/// What a [`SharedQuota`] decides for one admission.
///
/// ```
/// use resilience::shared::QuotaDecision;
/// assert_ne!(QuotaDecision::Admitted, QuotaDecision::Local);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaDecision {
    /// A permit of the fleet's quota was taken.
    Admitted,
    /// No permit is free; the next one will be in this long.
    Wait(Duration),
    /// The shared quota is unreachable: take the permit from the limiter's own quota.
    Local,
    /// The shared quota is unreachable and the limiter is set to reject: come back after
    /// this long.
    Refused(Duration),
}

/// A future of a [`QuotaDecision`], boxed: a shared admission pays a network round trip,
/// beside which the allocation does not count.
pub type QuotaFuture<'a> = Pin<Box<dyn Future<Output = QuotaDecision> + Send + 'a>>;

/// The fleet's quota as seen from one process: installed with [`RateLimiter::share`], it
/// decides every admission of the limiter, each path through the method that fits how it
/// may wait: [`admit`](Self::admit) for async calls ([`acquire`](crate::RateLimiter::acquire),
/// [`call`](crate::RateLimiter::call), the attribute, the tower layer),
/// [`admit_blocking`](Self::admit_blocking) for plain fns
/// ([`acquire_blocking`](crate::RateLimiter::acquire_blocking) and the calls built on it),
/// [`try_admit`](Self::try_admit) for [`try_acquire`](crate::RateLimiter::try_acquire).
/// A [`QuotaDecision::Local`] from any of them sends that one admission to the limiter's
/// own quota.
///
/// [`RateLimiter::share`]: crate::RateLimiter::share
///
/// ```
/// use std::sync::Arc;
/// use resilience::shared::{QuotaDecision, QuotaFuture, SharedQuota};
/// use resilience::{RateLimiter, RateLimiterConfig};
///
/// /// A "fleet" quota that is always unreachable: the limiter's own quota decides.
/// struct Unreachable;
/// impl SharedQuota for Unreachable {
///     fn admit(&self) -> QuotaFuture<'_> { Box::pin(async { QuotaDecision::Local }) }
///     fn admit_blocking(&self) -> QuotaDecision { QuotaDecision::Local }
///     fn try_admit(&self) -> QuotaDecision { QuotaDecision::Local }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let limiter = RateLimiter::new("shared::quota", RateLimiterConfig::DEFAULT.max_requests(1)).unwrap();
/// limiter.share(Arc::new(Unreachable)).unwrap();
/// assert!(limiter.acquire().await.is_ok());
/// assert!(limiter.acquire().await.is_err());
/// # }
/// ```
pub trait SharedQuota: Send + Sync + 'static {
    /// Takes one permit of the fleet's quota, or says why not. Bounded in time by the
    /// store's own timeout.
    fn admit(&self) -> QuotaFuture<'_>;
    /// [`admit`](Self::admit) for a plain fn: blocks this thread, for no longer than the
    /// store's own timeout. May be called from any thread: one with no async runtime, or
    /// one of a runtime's (a `spawn_blocking` thread, or a worker a plain fn blocks).
    fn admit_blocking(&self) -> QuotaDecision;
    /// Takes one permit without waiting on anything, the network included: a
    /// [`Wait`](QuotaDecision::Wait) says when to ask again.
    fn try_admit(&self) -> QuotaDecision;
}

/// The fleet's state of every key of a [`Keyed`](crate::Keyed) instance: installed with
/// [`Keyed::share`](crate::Keyed::share), it makes each key's instance shared as the key is
/// first seen (or seen again after it was dropped), by installing that key's own hook on
/// it ([`RateLimiter::share`](crate::RateLimiter::share) for a limiter).
///
/// The key reaches the store as its `Debug` text, the one form every key has
/// ([`InstanceKey`](crate::InstanceKey)); std's `Hash` is no use across processes (its
/// hashers are seeded per process, and its output may change between Rust versions). So a
/// key shared by a fleet must be written the same by every process, and two keys written
/// alike are one key for the fleet: integers, strings, `char`s, `bool`s, IP and socket
/// addresses, and tuples, arrays or derived `Debug`s of these qualify; floats written
/// rounded, maps and sets (their order), and `Debug`s that leave fields out do not. Every
/// process must key one name with one key type.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::Mutex;
/// use resilience::shared::{QuotaDecision, QuotaFuture, SharedKeys, SharedQuota};
/// use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiter, RateLimiterConfig};
///
/// /// Records the keys it is asked to share, and sends each key's admissions back local.
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<String>>);
/// struct Local;
/// impl SharedQuota for Local {
///     fn admit(&self) -> QuotaFuture<'_> { Box::pin(async { QuotaDecision::Local }) }
///     fn admit_blocking(&self) -> QuotaDecision { QuotaDecision::Local }
///     fn try_admit(&self) -> QuotaDecision { QuotaDecision::Local }
/// }
/// impl SharedKeys<RateLimiter> for Recorder {
///     fn share_key(&self, key: &str, limiter: &Arc<RateLimiter>) {
///         self.0.lock().unwrap().push(key.to_owned());
///         limiter.share(Arc::new(Local)).unwrap();
///     }
/// }
///
/// let per_user = KeyedRateLimiter::new("docs::keys", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
/// let recorder = Arc::new(Recorder::default());
/// per_user.share(recorder.clone()).unwrap();
/// per_user.try_acquire("ada").unwrap();
/// per_user.try_acquire(&("tenant", 7)).unwrap();
/// assert_eq!(*recorder.0.lock().unwrap(), ["\"ada\"", "(\"tenant\", 7)"]);
/// ```
pub trait SharedKeys<P>: Send + Sync + 'static {
    /// Makes `instance`, just made for the key written `key` (its `Debug` text), one view
    /// of the fleet's state of that key. Called under the keyed instance's lock for the
    /// key: never waits.
    fn share_key(&self, key: &str, instance: &std::sync::Arc<P>);
}

/// How a shared instance stands with its shared state, as its store last reported it with
/// `shared_availability`: in the instance's stats (`None` there for an instance that is
/// not shared) and in the metrics `circuit_breaker_shared_mode` and
/// `circuit_breaker_shared_fallbacks_total` (`rate_limit_…` for a limiter).
///
/// ```
/// use std::sync::Arc;
/// use resilience::shared::{QuotaDecision, QuotaFuture, SharedQuota, SharedStats};
/// # struct Local;
/// # impl SharedQuota for Local {
/// #     fn admit(&self) -> QuotaFuture<'_> { Box::pin(async { QuotaDecision::Local }) }
/// #     fn admit_blocking(&self) -> QuotaDecision { QuotaDecision::Local }
/// #     fn try_admit(&self) -> QuotaDecision { QuotaDecision::Local }
/// # }
/// let limiter = resilience::RateLimiter::new("quota", Default::default()).unwrap();
/// assert_eq!(limiter.stats().shared, None);
/// limiter.share(Arc::new(Local)).unwrap();
/// limiter.shared_availability(false);
/// let shared = limiter.stats().shared.unwrap();
/// assert_eq!((shared.available, shared.fallbacks), (false, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedStats {
    /// Whether the shared state decides now: `false` from the time the store reported it
    /// unreachable (the instance follows the store's fallback mode meanwhile: its own
    /// local state, or rejecting every call) until the store reports it back.
    pub available: bool,
    /// How many times the store reported the shared state lost. Not cleared by a
    /// breaker's `reset`: it counts the link's losses, not calls.
    pub fallbacks: u64,
}

/// What a shared instance keeps of its store's reports of availability: written once per
/// change, read by its stats.
#[derive(Debug, Default)]
pub(crate) struct Link {
    lost: AtomicBool,
    fallbacks: AtomicU64,
}

impl Link {
    /// Takes one report; `true` if it changes what was known, so that the event and the
    /// warning go out once per change even if a store repeats itself.
    pub(crate) fn report(&self, available: bool) -> bool {
        let changed = self.lost.swap(!available, AcqRel) == available;
        if changed && !available {
            self.fallbacks.fetch_add(1, Relaxed);
        }
        changed
    }

    pub(crate) fn stats(&self) -> SharedStats {
        SharedStats {
            available: !self.lost.load(Acquire),
            fallbacks: self.fallbacks.load(Relaxed),
        }
    }
}

/// The instance was shared already: a hook is installed once, for the instance's life.
///
/// ```
/// # use std::sync::Arc;
/// # use resilience::shared::{QuotaDecision, QuotaFuture, SharedQuota};
/// # struct Local;
/// # impl SharedQuota for Local {
/// #     fn admit(&self) -> QuotaFuture<'_> { Box::pin(async { QuotaDecision::Local }) }
/// #     fn admit_blocking(&self) -> QuotaDecision { QuotaDecision::Local }
/// #     fn try_admit(&self) -> QuotaDecision { QuotaDecision::Local }
/// # }
/// let limiter = resilience::RateLimiter::new("twice", Default::default()).unwrap();
/// limiter.share(Arc::new(Local)).unwrap();
/// let again = limiter.share(Arc::new(Local)).unwrap_err();
/// assert_eq!(again.to_string(), "`twice` is shared already");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyShared {
    pub(crate) name: std::sync::Arc<str>,
}

impl fmt::Display for AlreadyShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is shared already", self.name)
    }
}

impl std::error::Error for AlreadyShared {}

#[cfg(test)]
mod tests {
    use super::{Link, SharedStats};

    fn stats(available: bool, fallbacks: u64) -> SharedStats {
        SharedStats {
            available,
            fallbacks,
        }
    }

    #[test]
    fn a_link_counts_each_loss_once_and_reports_only_changes() {
        let link = Link::default();
        assert_eq!(link.stats(), stats(true, 0));
        assert!(!link.report(true), "found while never lost");
        assert!(link.report(false));
        assert!(!link.report(false), "lost twice counts once");
        assert_eq!(link.stats(), stats(false, 1));
        assert!(link.report(true));
        assert_eq!(link.stats(), stats(true, 1));
        assert!(link.report(false));
        assert_eq!(link.stats(), stats(false, 2));
    }
}
