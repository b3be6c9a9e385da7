//! Permits a process took from the fleet's quota ahead of time, so that `try_acquire`,
//! which must not wait, can be answered without a round trip.
//!
//! A lease is `k` admissions the fleet's GCRA granted at once: every permit handed out
//! here was counted in Redis before, so leases never admit more than the fleet's quota
//! (they cannot mint a permit), only later than Redis granted it. That delay is what a
//! lease's life bounds: a lease expires `k` emission intervals after it was asked for
//! (the time the quota takes to earn `k` permits back), its unused permits lost, so any
//! span of time admits at most what the quota grants over that span plus one lease life:
//! at most `k` permits more than the token bucket's own bound in any window, and none over
//! a whole run that starts without leases. What leases cost is under-admission: permits
//! that expire unused, and the call that finds the lease empty, which is turned away while
//! the next lease is fetched.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One process's lease of a shared quota.
#[derive(Debug)]
pub(crate) struct Lease {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Permits left to hand out, until `expires`.
    permits: u64,
    expires: Instant,
    /// Whether a refill is in flight: one at a time.
    refilling: bool,
    /// Calls since the last refill was asked for: the next lease's size, so that a
    /// process taking few permits leases few, and lets few expire unused.
    demand: u64,
    /// No refill before this: the fleet said no permit is free until then.
    free_at: Instant,
    /// How long the last refill took: the `retry_after` of a call that finds the lease
    /// empty while the next one is fetched.
    round_trip: Duration,
}

/// What [`Lease::take`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// One of the lease's permits.
    Permit,
    /// None: ask again after this long; with `refill`, this caller fetches the next lease.
    Empty { retry_after: Duration, refill: bool },
}

impl Lease {
    /// An empty lease; until a refill is measured, a fetch is expected to take `timeout`,
    /// the longest it may.
    pub(crate) fn new(timeout: Duration) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                permits: 0,
                expires: now,
                refilling: false,
                demand: 0,
                free_at: now,
                round_trip: timeout,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics under this lock, so a poisoned lock still holds a sound lease.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a permit at `now`, or says when to come back and whether to fetch a lease.
    pub(crate) fn take(&self, now: Instant) -> Taken {
        let mut state = self.state();
        state.demand = state.demand.saturating_add(1);
        if state.permits > 0 && now < state.expires {
            state.permits -= 1;
            return Taken::Permit;
        }
        state.permits = 0;
        if now < state.free_at {
            return Taken::Empty {
                retry_after: state.free_at - now,
                refill: false,
            };
        }
        let refill = !state.refilling;
        state.refilling = true;
        Taken::Empty {
            retry_after: state.round_trip,
            refill,
        }
    }

    /// The fleet granted `permits`, asked for at `asked` and answered at `now`, each
    /// earned back by the quota in `emission`: they are good for `permits × emission`
    /// from when they were asked for (never later than Redis granted them).
    pub(crate) fn granted(&self, permits: u64, emission: Duration, asked: Instant, now: Instant) {
        let mut state = self.state();
        let life = emission.saturating_mul(u32::try_from(permits).unwrap_or(u32::MAX));
        state.permits = permits;
        state.expires = asked.checked_add(life).unwrap_or(now);
        state.round_trip = now.saturating_duration_since(asked);
    }

    /// The fleet has no permit free for `wait`, as of a refill asked for at `asked`.
    pub(crate) fn spent(&self, wait: Duration, asked: Instant, now: Instant) {
        let mut state = self.state();
        state.free_at = asked.checked_add(wait).unwrap_or(now);
        state.round_trip = now.saturating_duration_since(asked);
    }

    /// How many permits the next lease asks for: the calls made since the last one was
    /// asked for, at least one and at most `most`.
    pub(crate) fn want(&self, most: u64) -> u64 {
        let mut state = self.state();
        let want = state.demand.clamp(1, most.max(1));
        state.demand = 0;
        want
    }

    /// The refill ended, answered or not (Redis unreachable, or the task dropped): the
    /// next call that finds the lease empty may fetch another.
    pub(crate) fn refilled(&self) {
        self.state().refilling = false;
    }
}

/// The most permits one lease asks for: a tenth of the burst, at least one, so that a
/// lease's life (and the permits over the bound it allows) stays a tenth of the window's
/// quota, while a busy process asks Redis once per ten of its calls or fewer.
pub(crate) fn most(burst: u32) -> u64 {
    u64::from(burst.div_ceil(10)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn an_empty_lease_sends_one_caller_to_refill_and_the_others_back_after_a_round_trip() {
        let lease = Lease::new(50 * MS);
        let now = Instant::now();
        let first = Taken::Empty {
            retry_after: 50 * MS,
            refill: true,
        };
        assert_eq!(lease.take(now), first);
        assert_eq!(
            lease.take(now),
            Taken::Empty {
                retry_after: 50 * MS,
                refill: false
            },
            "one refill at a time"
        );
        lease.refilled();
        assert_eq!(lease.take(now), first, "a failed refill may be tried again");
    }

    #[test]
    fn granted_permits_are_handed_out_once_each_until_the_lease_expires() {
        let lease = Lease::new(50 * MS);
        let asked = Instant::now();
        assert!(matches!(
            lease.take(asked),
            Taken::Empty { refill: true, .. }
        ));
        lease.granted(3, 10 * MS, asked, asked + 2 * MS);
        lease.refilled();
        let now = asked + 5 * MS;
        for _ in 0..3 {
            assert_eq!(lease.take(now), Taken::Permit);
        }
        assert_eq!(
            lease.take(now),
            Taken::Empty {
                retry_after: 2 * MS,
                refill: true
            },
            "three granted, three taken; the measured round trip is the retry_after"
        );
        lease.granted(3, 10 * MS, now, now + MS);
        lease.refilled();
        assert_eq!(lease.take(now + 29 * MS), Taken::Permit);
        assert!(
            matches!(lease.take(now + 30 * MS), Taken::Empty { .. }),
            "three permits of 10ms each expire 30ms after they were asked for"
        );
    }

    #[test]
    fn a_lease_asks_for_the_calls_made_since_the_last_one_within_its_bounds() {
        let lease = Lease::new(50 * MS);
        assert_eq!(lease.want(10), 1, "at least one");
        let now = Instant::now();
        for _ in 0..3 {
            lease.take(now);
        }
        assert_eq!(lease.want(10), 3);
        assert_eq!(lease.want(10), 1, "counted afresh");
        for _ in 0..30 {
            lease.take(now);
        }
        assert_eq!(lease.want(10), 10, "at most a tenth of the burst");
    }

    #[test]
    fn a_spent_quota_holds_refills_back_until_its_next_permit() {
        let lease = Lease::new(50 * MS);
        let asked = Instant::now();
        assert!(matches!(
            lease.take(asked),
            Taken::Empty { refill: true, .. }
        ));
        lease.spent(40 * MS, asked, asked + MS);
        lease.refilled();
        assert_eq!(
            lease.take(asked + 10 * MS),
            Taken::Empty {
                retry_after: 30 * MS,
                refill: false
            }
        );
        assert!(matches!(
            lease.take(asked + 40 * MS),
            Taken::Empty { refill: true, .. }
        ));
    }

    #[test]
    fn a_lease_is_a_tenth_of_the_burst_and_at_least_one() {
        assert_eq!(most(1), 1);
        assert_eq!(most(5), 1);
        assert_eq!(most(100), 10);
        assert_eq!(most(101), 11);
    }
}
