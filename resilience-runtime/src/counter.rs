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
    Striped(Box<[Stripe; STRIPES]>),
    Single(AtomicU64),
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
pub(crate) struct Stripe(AtomicU64);

const _: () = assert!(std::mem::size_of::<Stripe>() == 128);

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
            Counter::Striped(stripes) => {
                let stripe = stripe();
                let cell = &stripes[stripe].0;
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
            Counter::Striped(stripes) => stripes
                .iter()
                .map(|s| s.0.load(Relaxed))
                .fold(0, u64::wrapping_add),
        }
    }

    /// Back to zero, without losing a concurrent increment: the count read is taken off the
    /// cell written with read-modify-writes (a striped counter's shared stripe), so the
    /// owned stripes' plain stores stay exact and `get` sums to what came after.
    pub(crate) fn reset(&self) {
        let shared = match self {
            Counter::Single(cell) => cell,
            Counter::Striped(stripes) => &stripes[SHARED].0,
        };
        shared.fetch_sub(self.get(), Relaxed);
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
