//! Event counters that cost the hot path no atomic read-modify-write (striped), and
//! single ones for the many instances of a keyed one.
//!
//! A success counter bumped with `fetch_add` by every call would cost each call a locked
//! instruction, and a shared cache line contended by every core. A [`Counter`] keeps one
//! [`Stripe`] (a padded cell) per stripe index. Each thread claims an index for its lifetime
//! ([`StripeOwner`] gives it back when the thread exits) and bumps its stripe with a plain
//! load and store (it is the only writer); threads that find every index claimed share the
//! last stripe with `fetch_add`. Readers add the stripes up. Rare events (failures,
//! rejections, transitions) use a plain `AtomicU64`: they are slow paths already.

use std::cell::Cell;
use std::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};

const STRIPES: usize = 16;
/// The stripe that threads without one of their own share.
const SHARED: usize = STRIPES - 1;
// The free stripes are the bits of one `u32`.
const _: () = assert!(STRIPES <= 32);

/// A count that only goes up (or back to zero).
///
/// A striped counter takes 2 KiB (16 stripes of 128 bytes, boxed): keep it for counts
/// bumped on a hot path, where it saves every call a locked instruction, and use an
/// `AtomicU64` elsewhere. A [`single`](Self::single) one is one `AtomicU64` bumped with
/// `fetch_add`: for the instances of a keyed one, which are many, each seeing few calls
/// at once, and whose every byte is paid for per key.
pub(crate) enum Counter {
    Striped(Box<Striped>),
    Single(AtomicU64),
}

/// A striped counter's cells, and where its count starts.
#[derive(Default)]
pub(crate) struct Striped {
    stripes: [Stripe; STRIPES],
    /// What the stripes summed to at the last reset; the count is the sum above it. The
    /// stripes only go up, and this is only ever raised (`fetch_max`), so resets racing
    /// each other or an increment never take a count off twice: a reset reads the sum and
    /// raises the start to it, where subtracting the sum read from a stripe would, twice
    /// for two resets at once, wrap the count below zero.
    start: AtomicU64,
}

impl Default for Counter {
    /// Striped.
    fn default() -> Self {
        Counter::Striped(Box::default())
    }
}

/// One stripe of a [`Counter`]: a cell alone on its cache line (two on CPUs that prefetch
/// pairs), so neighbouring stripes never share one.
#[derive(Default)]
#[repr(align(128))]
struct Stripe(AtomicU64);

const _: () = assert!(std::mem::size_of::<Stripe>() == 128);

impl Striped {
    fn sum(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Relaxed))
            .fold(0, u64::wrapping_add)
    }

    /// Starts the count at `sum`, a sum of the stripes read at some point, unless a later
    /// reset started it higher already.
    fn start_at(&self, sum: u64) {
        self.start.fetch_max(sum, Relaxed);
    }
}

impl Counter {
    /// One cell, bumped with `fetch_add` by every thread.
    pub(crate) fn single() -> Self {
        Counter::Single(AtomicU64::new(0))
    }

    #[inline]
    pub(crate) fn increment(&self) {
        match self {
            Counter::Single(cell) => {
                cell.fetch_add(1, Relaxed);
            }
            Counter::Striped(striped) => {
                let stripe = stripe();
                let cell = &striped.stripes[stripe].0;
                if stripe == SHARED {
                    cell.fetch_add(1, Relaxed);
                } else {
                    // This thread is the stripe's only writer: no read-modify-write needed.
                    cell.store(cell.load(Relaxed).wrapping_add(1), Relaxed);
                }
            }
        }
    }

    pub(crate) fn get(&self) -> u64 {
        match self {
            Counter::Single(cell) => cell.load(Relaxed),
            // Saturating: stripes read one by one can sum below a start raised meanwhile.
            Counter::Striped(striped) => striped.sum().saturating_sub(striped.start.load(Relaxed)),
        }
    }

    /// Back to zero. An increment that races the reset counts or not, and none made after
    /// it is lost; resets racing each other leave zero plus what came after the last one.
    pub(crate) fn reset(&self) {
        match self {
            Counter::Single(cell) => cell.store(0, Relaxed),
            Counter::Striped(striped) => striped.start_at(striped.sum()),
        }
    }
}

/// Stripes no live thread owns, one bit each (bit `i` for stripe `i`; `SHARED` is never
/// owned).
static FREE: AtomicU32 = AtomicU32::new((1 << SHARED) - 1);

const UNASSIGNED: usize = usize::MAX;

thread_local! {
    /// This thread's stripe; `UNASSIGNED` until it first counts.
    static STRIPE: Cell<usize> = const { Cell::new(UNASSIGNED) };
    /// Gives the stripe back when the thread exits.
    static OWNER: StripeOwner = const { StripeOwner };
}

/// A thread's claim on its stripe index, given back when the thread exits.
struct StripeOwner;

impl Drop for StripeOwner {
    fn drop(&mut self) {
        let stripe = STRIPE.with(|cell| cell.replace(SHARED));
        if stripe < SHARED {
            // Release: the next owner's `Acquire` sees this thread's last plain store to the
            // stripe, which it goes on from.
            FREE.fetch_or(1 << stripe, Release);
        }
    }
}

/// Takes the lowest free stripe, if any.
fn take_free() -> Option<usize> {
    FREE.fetch_update(Acquire, Acquire, |free| {
        (free != 0).then(|| free & (free - 1))
    })
    .ok()
    .map(|free| free.trailing_zeros() as usize)
}

#[inline]
fn stripe() -> usize {
    let stripe = STRIPE.with(Cell::get);
    if stripe != UNASSIGNED {
        return stripe;
    }
    assign_stripe()
}

/// First count on this thread: own a stripe if one is free and the thread can give it back
/// on exit (thread-local destructors can no longer register while it exits).
#[cold]
fn assign_stripe() -> usize {
    let owned = OWNER.try_with(|_| ()).ok().and_then(|()| take_free());
    let stripe = owned.unwrap_or(SHARED);
    STRIPE.with(|cell| cell.set(stripe));
    stripe
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_sharing_the_last_stripe_lose_no_increment() {
        const THREADS: usize = 8;
        const EACH: u64 = 200_000;
        let counter = Arc::new(Counter::default());
        let start = Arc::new(std::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (counter, start) = (Arc::clone(&counter), Arc::clone(&start));
                std::thread::spawn(move || {
                    // As if every stripe were taken: all of these share the last one.
                    STRIPE.with(|cell| cell.set(SHARED));
                    assert_eq!(stripe(), SHARED);
                    start.wait();
                    (0..EACH).for_each(|_| counter.increment());
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(counter.get(), THREADS as u64 * EACH);
    }

    #[test]
    fn a_single_counter_loses_no_increment_of_threads_that_own_a_stripe() {
        const THREADS: u64 = 4;
        const EACH: u64 = 100_000;
        let counter = Arc::new(Counter::single());
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    // As if each owned stripe 0: a single counter must not write it plainly.
                    STRIPE.with(|cell| cell.set(0));
                    (0..EACH).for_each(|_| counter.increment());
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(counter.get(), THREADS * EACH);
        counter.reset();
        counter.increment();
        assert_eq!(counter.get(), 1);
    }

    /// Two resets at once: each reads the sum, then applies it, in either order. Taken
    /// off a stripe, the sum read would come off twice and wrap the count below zero (a
    /// user trying the library saw `u64::MAX - 2`).
    #[test]
    fn resets_racing_each_other_leave_zero_not_a_wrapped_count() {
        let counter = Counter::default();
        let Counter::Striped(striped) = &counter else {
            panic!("the default counter is striped")
        };
        (0..3).for_each(|_| counter.increment());
        let (first, second) = (striped.sum(), striped.sum());
        striped.start_at(first);
        striped.start_at(second);
        assert_eq!(counter.get(), 0);
        counter.increment();
        let late = striped.sum();
        let stale = first;
        striped.start_at(late);
        striped.start_at(stale);
        assert_eq!(
            counter.get(),
            0,
            "a stale reset applied last starts nothing over"
        );
        counter.increment();
        assert_eq!(counter.get(), 1);
    }

    #[test]
    fn reset_keeps_what_comes_after() {
        let counter = Counter::default();
        (0..5).for_each(|_| counter.increment());
        let shared = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    STRIPE.with(|cell| cell.set(SHARED));
                    (0..3).for_each(|_| counter.increment());
                })
                .join()
        });
        shared.unwrap();
        assert_eq!(counter.get(), 8);
        counter.reset();
        assert_eq!(counter.get(), 0);
        counter.increment();
        assert_eq!(counter.get(), 1);
    }

    #[test]
    fn sums_every_thread_even_with_more_threads_than_stripes() {
        let counter = Arc::new(Counter::default());
        for _ in 0..3 {
            let threads: Vec<_> = (0..24)
                .map(|_| {
                    let counter = Arc::clone(&counter);
                    std::thread::spawn(move || (0..1000).for_each(|_| counter.increment()))
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
        }
        assert_eq!(counter.get(), 72_000);
    }

    #[test]
    fn threads_keep_their_stripe_and_give_it_back_on_exit() {
        // Two hundred threads one after another: without give-back only the first fifteen
        // could own a stripe. (Other tests' threads may hold some at the same moment, hence
        // no exact count.)
        let owned = (0..200)
            .filter(|_| {
                std::thread::spawn(|| {
                    let (first, again) = (stripe(), stripe());
                    assert_eq!(first, again, "a thread keeps its stripe");
                    first != SHARED
                })
                .join()
                .unwrap()
            })
            .count();
        assert!(owned >= 100, "only {owned} of 200 threads owned a stripe");
    }
}
