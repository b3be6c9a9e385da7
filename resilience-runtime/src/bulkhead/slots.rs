//! The bulkhead's slots: free slots in one atomic word, and a first-come, first-served
//! queue behind a lock that is touched only when every slot is taken.
//!
//! The word holds the number of free slots shifted left by one, and in its lowest bit
//! whether anyone waits (`QUEUED`). Taking a free slot and giving one back while nobody
//! waits are one compare-and-swap each. Two rules, both kept under the queue's lock, make
//! the hand-off to waiters sound:
//!
//! - `QUEUED` is set exactly while the queue is not empty, and only together with a count
//!   of zero free slots or fewer (a caller queues only when it sees none free, in the same
//!   compare-and-swap that sets the bit); so a free slot is never left beside a waiter.
//! - A slot given back while `QUEUED` is set goes to the first waiter, which leaves the
//!   queue in that moment: being out of the queue is what tells a waiter it holds a slot.
//!   A waiter that is dropped while queued leaves without one; dropped after it was handed
//!   one but before it saw so, it passes that slot on as any holder does.
//!
//! The count is signed (two's complement in the word): shrinking the bulkhead below the
//! calls running makes it negative, a debt of slots that calls ending pay back before any
//! slot is free or handed to a waiter again. So a shrink never over-admits and never takes
//! a slot from a running call, and no slot is lost: each one given back either pays the
//! debt or frees a slot.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

use crate::sync::{AtomicUsize, Mutex, MutexGuard};

/// Set while the queue is not empty.
const QUEUED: usize = 1;
/// One free slot in the word.
const ONE: usize = 2;

pub(crate) struct Slots {
    word: AtomicUsize,
    queue: Mutex<Queue>,
    /// How many wait now, for the stats; written under the lock, read without it.
    queued: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct Queue {
    waiters: VecDeque<Waiter>,
    /// The id the next waiter gets; ids tell a waiter's entry apart from later ones.
    next: u64,
}

struct Waiter {
    id: u64,
    waker: Waker,
}

/// What a caller that found no free slot gets: a slot, a place in the queue, or nothing.
pub(crate) enum Wait<'a> {
    /// A slot came free meanwhile.
    Acquired(Permit<'a>),
    /// Queued; the future resolves once a slot is handed over.
    Queued(Queued<'a>),
    /// `max_queued` callers wait already.
    Full,
}

impl Slots {
    /// `max` slots (at most `usize::MAX >> 1`), all free.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            word: AtomicUsize::new(max << 1),
            queue: Mutex::new(Queue::default()),
            queued: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Free slots now: zero while a shrink's debt is being paid back.
    pub(crate) fn free(&self) -> usize {
        usize::try_from(self.balance()).unwrap_or(0)
    }

    /// Free slots now, negative by the slots still owed after a shrink.
    pub(crate) fn balance(&self) -> isize {
        count(self.word.load(Relaxed))
    }

    /// Grows the slots by `by` (given to waiters first), or shrinks them by `-by`: free
    /// slots go at once, and what running calls hold goes as they give it back.
    pub(crate) fn resize(&self, by: isize) {
        if by >= 0 {
            for _ in 0..by {
                self.release();
            }
            return;
        }
        // Under the lock, so a hand-off (which holds it) sees the debt or comes before it.
        let _queue = self.lock();
        self.word
            .fetch_sub(by.unsigned_abs().wrapping_mul(ONE), Relaxed);
    }

    /// Callers waiting now.
    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Relaxed)
    }

    /// Takes a free slot without waiting.
    #[inline]
    pub(crate) fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut word = self.word.load(Relaxed);
        // With `QUEUED` set there is no free slot (see the module's rules).
        while count(word) >= 1 {
            match self
                .word
                .compare_exchange_weak(word, word - ONE, Acquire, Relaxed)
            {
                Ok(_) => return Some(Permit(self)),
                Err(actual) => word = actual,
            }
        }
        None
    }

    /// Takes a slot if one is free, else joins the queue unless `max_queued` wait already.
    pub(crate) fn acquire_or_queue(&self, max_queued: Option<usize>) -> Wait<'_> {
        let mut queue = self.lock();
        let mut word = self.word.load(Relaxed);
        loop {
            if count(word) >= 1 {
                match self
                    .word
                    .compare_exchange_weak(word, word - ONE, Acquire, Relaxed)
                {
                    Ok(_) => return Wait::Acquired(Permit(self)),
                    Err(actual) => word = actual,
                }
            } else if max_queued.is_some_and(|max| queue.waiters.len() >= max) {
                return Wait::Full;
            } else {
                // Fails if a slot was given back meanwhile (that release saw no waiter).
                match self
                    .word
                    .compare_exchange_weak(word, word | QUEUED, Relaxed, Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => word = actual,
                }
            }
        }
        let id = queue.next;
        queue.next += 1;
        queue.waiters.push_back(Waiter {
            id,
            // Replaced on the first poll; queueing happens before anyone polls.
            waker: Waker::noop().clone(),
        });
        self.queued.store(queue.waiters.len(), Relaxed);
        Wait::Queued(Queued {
            slots: self,
            id: Some(id),
        })
    }

    /// Gives a slot back: to the first waiter if anyone waits, else to the free count.
    /// Called by a slot's guard; by hand only for a slot whose guard was disarmed.
    #[inline]
    pub(crate) fn release(&self) {
        let mut word = self.word.load(Relaxed);
        // A debt is paid before any waiter is served.
        while word & QUEUED == 0 || count(word) < 0 {
            match self
                .word
                .compare_exchange_weak(word, word.wrapping_add(ONE), Release, Relaxed)
            {
                Ok(_) => return,
                Err(actual) => word = actual,
            }
        }
        self.hand_off(self.lock());
    }

    /// Gives a slot to the first waiter, or back to the free count if nobody waits (any
    /// longer: the last waiter may have left before the lock was ours).
    #[cold]
    fn hand_off(&self, mut queue: MutexGuard<'_, Queue>) {
        // A shrink (under this lock too) may have left a debt since the caller looked.
        let in_debt = count(self.word.load(Relaxed)) < 0;
        let first = if in_debt {
            None
        } else {
            queue.waiters.pop_front()
        };
        let Some(first) = first else {
            // `QUEUED` is clear with the queue empty, and only lock holders set it.
            self.word.fetch_add(ONE, Release);
            return;
        };
        if queue.waiters.is_empty() {
            self.word.fetch_and(!QUEUED, Relaxed);
        }
        self.queued.store(queue.waiters.len(), Relaxed);
        drop(queue);
        first.waker.wake();
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // No code of the user's runs under this lock, and every change under it is
        // complete before anything can panic, so a poisoned queue is sound.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn is_queued_bit_set(&self) -> bool {
        self.word.load(Relaxed) & QUEUED != 0
    }
}

/// The signed count of free slots in `word`.
#[inline]
fn count(word: usize) -> isize {
    // Two's complement: a debt reads as a negative count.
    (word as isize) >> 1
}

/// One slot, given back when dropped.
pub(crate) struct Permit<'a>(&'a Slots);

impl Permit<'_> {
    /// Leaves the slot taken with no guard to give it back: the caller takes over that
    /// duty, and discharges it with [`Slots::release`], once.
    pub(crate) fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A place in the queue; resolves to a slot once one is handed over. Dropped before that,
/// it leaves the queue, or passes on the slot it was handed meanwhile.
pub(crate) struct Queued<'a> {
    slots: &'a Slots,
    /// `None` once resolved.
    id: Option<u64>,
}

impl<'a> Future for Queued<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let Some(id) = self.id else {
            panic!("`Queued` polled after it resolved");
        };
        let slots = self.slots;
        let mut queue = slots.lock();
        match queue.waiters.iter_mut().find(|waiter| waiter.id == id) {
            Some(waiter) => {
                waiter.waker.clone_from(cx.waker());
                Poll::Pending
            }
            None => {
                drop(queue);
                self.id = None;
                Poll::Ready(Permit(slots))
            }
        }
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let mut queue = self.slots.lock();
        match queue.waiters.iter().position(|waiter| waiter.id == id) {
            Some(at) => {
                queue.waiters.remove(at);
                if queue.waiters.is_empty() {
                    self.slots.word.fetch_and(!QUEUED, Relaxed);
                }
                self.slots.queued.store(queue.waiters.len(), Relaxed);
            }
            // Handed a slot it never saw: pass it on, under the lock already held.
            None => self.slots.hand_off(queue),
        }
    }
}

#[cfg(test)]
mod concurrency {
    //! The hand-off under concurrency: model-checked under `--cfg loom` (every interleaving
    //! of the atomics and the lock), repeated on real threads otherwise.

    use std::task::Context;

    use super::*;
    use crate::sync::model::{block_on, model, thread, Arc};

    fn settled(slots: &Slots, max: usize) {
        assert_eq!(slots.free(), max, "a slot was lost or made up");
        assert!(!slots.is_queued_bit_set());
        assert_eq!(slots.queued(), 0);
        assert!(slots.lock().waiters.is_empty());
    }

    /// Takes a slot, queueing for one when none is free.
    async fn acquire(slots: &Slots) -> Permit<'_> {
        if let Some(permit) = slots.try_acquire() {
            return permit;
        }
        match slots.acquire_or_queue(None) {
            Wait::Acquired(permit) => permit,
            Wait::Queued(queued) => queued.await,
            Wait::Full => unreachable!("the queue is unbounded"),
        }
    }

    #[test]
    fn a_released_slot_reaches_a_waiter_that_queued_at_the_same_time() {
        model(|| {
            let slots = Arc::new(Slots::new(1));
            let held = slots.try_acquire().expect("free");
            let waiter = {
                let slots = Arc::clone(&slots);
                thread::spawn(move || drop(block_on(acquire(&slots))))
            };
            drop(held);
            waiter.join().unwrap();
            settled(&slots, 1);
        });
    }

    #[test]
    fn two_callers_on_one_slot_run_one_at_a_time() {
        model(|| {
            let slots = Arc::new(Slots::new(1));
            let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let (slots, inside) = (Arc::clone(&slots), Arc::clone(&inside));
                    thread::spawn(move || {
                        let _permit = block_on(acquire(&slots));
                        assert_eq!(inside.fetch_add(1, Relaxed), 0, "two inside at once");
                        inside.fetch_sub(1, Relaxed);
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            settled(&slots, 1);
        });
    }

    /// A slot whose guard was disarmed (an owned permit's), given back from another
    /// thread while a caller queues for it.
    #[test]
    fn a_disarmed_slot_released_on_another_thread_reaches_a_waiter() {
        model(|| {
            let slots = Arc::new(Slots::new(1));
            slots.try_acquire().expect("free").disarm();
            let releaser = {
                let slots = Arc::clone(&slots);
                thread::spawn(move || slots.release())
            };
            drop(block_on(acquire(&slots)));
            releaser.join().unwrap();
            settled(&slots, 1);
        });
    }

    /// A shrink from two slots to one while both are taken, one is given back and a caller
    /// waits: never more than two run at once (the larger limit), the caller gets in, and
    /// in the end one slot is free, none lost or made up.
    #[test]
    fn a_shrink_racing_a_release_and_a_waiter_neither_over_admits_nor_loses_a_slot() {
        model(|| {
            let slots = Arc::new(Slots::new(2));
            let inside = Arc::new(std::sync::atomic::AtomicUsize::new(2));
            let (first, second) = (
                slots.try_acquire().expect("free"),
                slots.try_acquire().expect("free"),
            );
            first.disarm();
            second.disarm();
            let releaser = {
                let (slots, inside) = (Arc::clone(&slots), Arc::clone(&inside));
                thread::spawn(move || {
                    inside.fetch_sub(1, Relaxed);
                    slots.release();
                })
            };
            let waiter = {
                let (slots, inside) = (Arc::clone(&slots), Arc::clone(&inside));
                thread::spawn(move || {
                    let _permit = block_on(acquire(&slots));
                    assert!(inside.fetch_add(1, Relaxed) < 2, "over the larger limit");
                    inside.fetch_sub(1, Relaxed);
                })
            };
            slots.resize(-1);
            releaser.join().unwrap();
            // The last call from before the shrink ends: the waiter cannot stay stuck.
            inside.fetch_sub(1, Relaxed);
            slots.release();
            waiter.join().unwrap();
            settled(&slots, 1);
        });
    }

    /// A grow while a caller waits on a full bulkhead hands it the new slot.
    #[test]
    fn a_grow_hands_the_new_slot_to_a_waiter() {
        model(|| {
            let slots = Arc::new(Slots::new(1));
            slots.try_acquire().expect("free").disarm();
            let waiter = {
                let slots = Arc::clone(&slots);
                thread::spawn(move || drop(block_on(acquire(&slots))))
            };
            slots.resize(1);
            waiter.join().unwrap();
            slots.release();
            settled(&slots, 2);
        });
    }

    /// A queued waiter dropped while the slot is being released: whichever comes first,
    /// the slot ends with the next waiter or back in the pool, never lost.
    #[test]
    fn a_waiter_dropped_while_a_slot_is_released_passes_it_on() {
        model(|| {
            let slots = Arc::new(Slots::new(1));
            // The slot is held on behalf of the releasing thread below.
            std::mem::forget(slots.try_acquire().expect("free"));
            let Wait::Queued(mut first) = slots.acquire_or_queue(None) else {
                panic!("queued")
            };
            let mut cx = Context::from_waker(Waker::noop());
            assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
            let second = {
                let slots = Arc::clone(&slots);
                thread::spawn(move || drop(block_on(acquire(&slots))))
            };
            let releaser = {
                let slots = Arc::clone(&slots);
                thread::spawn(move || slots.release())
            };
            drop(first);
            releaser.join().unwrap();
            second.join().unwrap();
            settled(&slots, 1);
        });
    }
}
