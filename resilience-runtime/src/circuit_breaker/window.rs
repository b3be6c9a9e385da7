//! The sliding window of a rate-mode breaker: the outcomes of the last `n` calls, or of the
//! calls that ended in the last `n` seconds, and their totals, recorded without a lock.
//!
//! Both windows keep running totals beside the outcomes, so reading the rates is three
//! loads whatever the window's size, and a call's outcome is forgotten by subtracting it
//! from the totals when it leaves (a cumulative count that is never subtracted from is
//! tower-resilience's bug: a window that never forgets).
//!
//! - A **count** window is a ring of one byte per call. A call takes the next place with one
//!   `fetch_add`, swaps its outcome in and adjusts the totals by the difference with the
//!   outcome it displaced, the oldest call's. A success displacing a success (a healthy
//!   downstream) writes nothing but its place number: one atomic read-modify-write in
//!   all.
//! - A **time** window is a ring of one-second buckets, each with its own totals. A call
//!   adds to the window's totals, then to its second's bucket. The first call of a new
//!   second *rolls* the window on: it claims the head (one compare-and-swap, so only one
//!   caller rolls), subtracts each bucket leaving the window from it and from the totals,
//!   and publishes the new second. It subtracts what it read, not what it clears, so calls
//!   of the seconds still in the window, recording meanwhile, are never lost; calls of a
//!   newer second wait the few subtractions it takes (once a second).
//!
//! A reading taken while other calls record sees each of them either wholly or not at all,
//! except in a count window, where an outcome displaced before it was added can make a
//! total read low for an instant (never high, so no rule trips early); totals are clamped
//! to the calls they count.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use super::config::SlidingWindow;
use crate::sync::{AtomicI64, AtomicU64, AtomicU8};

/// What one call leaves in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) failed: bool,
    pub(crate) slow: bool,
}

impl Mark {
    /// A call's place in a count window: empty (0), or present with its two flags.
    const PRESENT: u8 = 1;
    const FAILED: u8 = 2;
    const SLOW: u8 = 4;

    fn byte(self) -> u8 {
        Self::PRESENT
            | if self.failed { Self::FAILED } else { 0 }
            | if self.slow { Self::SLOW } else { 0 }
    }
}

/// What the window holds now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) slow: u64,
}

/// Three counts moved together. Signed, so that a count window's total read at an instant
/// when a displaced outcome was subtracted before it was added reads as below zero and is
/// clamped, rather than wrapping.
#[derive(Default)]
struct Totals {
    calls: AtomicI64,
    failures: AtomicI64,
    slow: AtomicI64,
}

impl Totals {
    fn new() -> Self {
        Self {
            calls: AtomicI64::new(0),
            failures: AtomicI64::new(0),
            slow: AtomicI64::new(0),
        }
    }

    /// Adds `(calls, failures, slow)`, skipping the counts that do not change.
    fn add(&self, delta: [i64; 3]) {
        for (count, delta) in [&self.calls, &self.failures, &self.slow]
            .into_iter()
            .zip(delta)
        {
            if delta != 0 {
                // Release: whoever reads the addition (a roller reading a bucket) also
                // sees what this call added before it (the window's totals). Acquire:
                // of two calls recording at once, the one whose addition comes second sees
                // every count of the first when it reads the totals back, so the rule
                // that the pair reaches trips (loom found a reading of calls without the
                // other call's failure).
                count.fetch_add(delta, AcqRel);
            }
        }
    }

    fn load(&self) -> [i64; 3] {
        [&self.calls, &self.failures, &self.slow].map(|count| count.load(Acquire))
    }

    fn tally(&self) -> Tally {
        // Failures and slow calls before calls: a call adds to `calls` first, so each
        // failure read has its call among the calls read after it. Read the other way, a
        // rate taken while calls record could count failures newer than the calls beside
        // them, and trip a rule early (one call read with one failure: 100%).
        let failures = self.failures.load(Acquire);
        let slow = self.slow.load(Acquire);
        let calls = self.calls.load(Acquire);
        let [calls, failures, slow] =
            [calls, failures, slow].map(|count| count.max(0).unsigned_abs());
        Tally {
            calls,
            failures: failures.min(calls),
            slow: slow.min(calls),
        }
    }
}

fn delta(mark: Mark) -> [i64; 3] {
    [1, i64::from(mark.failed), i64::from(mark.slow)]
}

/// A byte's outcome as counts, for the difference between two places of a count window.
fn counts(byte: u8) -> [i64; 3] {
    [Mark::PRESENT, Mark::FAILED, Mark::SLOW].map(|flag| i64::from(byte & flag != 0))
}

pub(crate) enum Window {
    Calls(CountRing),
    Time(SecondRing),
}

impl Window {
    pub(crate) fn new(window: SlidingWindow) -> Self {
        match window {
            SlidingWindow::Calls(n) => Window::Calls(CountRing::new(n as usize)),
            SlidingWindow::Time(span) => Window::Time(SecondRing::new(span.as_secs() as usize)),
        }
    }

    /// Whether recording needs the second a call ended in.
    pub(crate) fn is_timed(&self) -> bool {
        matches!(self, Window::Time(_))
    }

    /// Records a call that ended in `second` (since the breaker's origin; a count window
    /// ignores it) and reads the window as it then is.
    #[inline]
    pub(crate) fn record(&self, mark: Mark, second: u64) -> Tally {
        match self {
            Window::Calls(ring) => ring.record(mark),
            Window::Time(ring) => ring.record(mark, second),
        }
    }

    /// The window as of `second`: a time window first forgets the seconds that left it,
    /// even if no call ended since.
    pub(crate) fn tally(&self, second: u64) -> Tally {
        match self {
            Window::Calls(ring) => ring.totals.tally(),
            Window::Time(ring) => {
                ring.roll_to(second);
                ring.totals.tally()
            }
        }
    }

    /// Forgets every call, for a breaker that closes again or is reset.
    pub(crate) fn clear(&self) {
        match self {
            Window::Calls(ring) => ring.clear(),
            Window::Time(ring) => ring.clear(),
        }
    }
}

/// The last `n` calls.
pub(crate) struct CountRing {
    next: AtomicU64,
    places: Box<[AtomicU8]>,
    totals: Totals,
}

impl CountRing {
    fn new(len: usize) -> Self {
        Self {
            next: AtomicU64::new(0),
            places: (0..len.max(1)).map(|_| AtomicU8::new(0)).collect(),
            totals: Totals::new(),
        }
    }

    #[inline]
    fn record(&self, mark: Mark) -> Tally {
        let seq = self.next.fetch_add(1, Relaxed);
        let len = self.places.len() as u64;
        let place = &self.places[(seq % len) as usize];
        let byte = mark.byte();
        // A success displacing a success (a healthy downstream) changes nothing: a load
        // instead of a swap keeps the place's cache line shared between the cores. Should
        // the call one lap later write the place meanwhile, its outcome is the newer one
        // and is rightly the one that stays.
        if place.load(Acquire) != byte {
            self.put(place, byte);
        }
        self.totals.tally()
    }

    /// Puts `byte` in `place` and moves the totals by the difference with what it displaced.
    fn put(&self, place: &AtomicU8, byte: u8) {
        let old = place.swap(byte, AcqRel);
        if old != byte {
            let (new, old) = (counts(byte), counts(old));
            self.totals
                .add([0, 1, 2].map(|field| new[field] - old[field]));
        }
    }

    fn clear(&self) {
        for place in self.places.iter() {
            self.put(place, 0);
        }
    }
}

/// The calls that ended in the last `n` seconds, one bucket per second.
pub(crate) struct SecondRing {
    /// The newest second the window holds, shifted left by one; the low bit is set while a
    /// caller rolls the window on to it.
    head: AtomicU64,
    buckets: Box<[Totals]>,
    totals: Totals,
}

const ROLLING: u64 = 1;

impl SecondRing {
    fn new(len: usize) -> Self {
        Self {
            head: AtomicU64::new(0),
            buckets: (0..len.max(1)).map(|_| Totals::new()).collect(),
            totals: Totals::new(),
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    #[inline]
    fn record(&self, mark: Mark, second: u64) -> Tally {
        self.roll_to(second);
        // The totals first: a roller that reads this bucket's addition subtracts it from
        // totals that already hold it.
        let delta = delta(mark);
        self.totals.add(delta);
        self.buckets[(second % self.len()) as usize].add(delta);
        self.totals.tally()
    }

    /// Rolls the window on to `second` unless the window holds it already.
    fn roll_to(&self, second: u64) {
        let mut word = self.head.load(Acquire);
        loop {
            let head = word >> 1;
            let rolling = word & ROLLING != 0;
            if second <= head && second + self.len() > head {
                return;
            }
            if rolling {
                // Another caller is rolling on, perhaps to this very second, whose bucket it
                // may not have emptied yet: a few subtractions, then it lets go.
                crate::sync::spin();
                word = self.head.load(Acquire);
                continue;
            }
            // A second newer than the head, or one so far behind it that the clock must
            // have started over (a later test's runtime, whose paused clock starts behind
            // the one before): either way the window moves to it. (A thread stalled for
            // a whole window before recording would also start it over: the breaker
            // forgets, it never opens for that.)
            match self
                .head
                .compare_exchange_weak(word, word | ROLLING, Acquire, Acquire)
            {
                Ok(_) => {
                    self.roll(head, second);
                    self.head.store(second << 1, Release);
                    return;
                }
                Err(actual) => word = actual,
            }
        }
    }

    /// Empties the buckets that the seconds after `from` up to `to` take over; all of them
    /// if the window moves by its length or more, or back.
    fn roll(&self, from: u64, to: u64) {
        let seconds = if to > from && to - from < self.len() {
            from + 1..=to
        } else {
            0..=self.len() - 1
        };
        for second in seconds {
            self.empty(&self.buckets[(second % self.len()) as usize]);
        }
    }

    /// Subtracts what `bucket` holds now from it and from the totals. Additions made after
    /// the read stay, in the bucket and in the totals.
    fn empty(&self, bucket: &Totals) {
        let held = bucket.load();
        if held == [0; 3] {
            return;
        }
        let minus = held.map(|count| -count);
        bucket.add(minus);
        self.totals.add(minus);
    }

    fn clear(&self) {
        let mut word = self.head.load(Acquire);
        loop {
            if word & ROLLING != 0 {
                // Another caller is rolling on: a few subtractions, then it lets go.
                crate::sync::spin();
                word = self.head.load(Acquire);
                continue;
            }
            match self
                .head
                .compare_exchange_weak(word, word | ROLLING, Acquire, Acquire)
            {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        for bucket in self.buckets.iter() {
            self.empty(bucket);
        }
        self.head.store(word, Release);
    }
}

// Outside loom's model: its atomics only work inside one (see `concurrency` below).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    const FAST: Mark = Mark {
        failed: false,
        slow: false,
    };
    const FAILED: Mark = Mark {
        failed: true,
        slow: false,
    };
    const SLOW_FAILURE: Mark = Mark {
        failed: true,
        slow: true,
    };

    fn tally(calls: u64, failures: u64, slow: u64) -> Tally {
        Tally {
            calls,
            failures,
            slow,
        }
    }

    #[test]
    fn a_count_window_forgets_exactly_the_oldest_call() {
        let window = Window::new(SlidingWindow::Calls(3));
        assert_eq!(window.record(FAILED, 0), tally(1, 1, 0));
        assert_eq!(window.record(SLOW_FAILURE, 0), tally(2, 2, 1));
        assert_eq!(window.record(FAST, 0), tally(3, 2, 1));
        assert_eq!(
            window.record(FAST, 0),
            tally(3, 1, 1),
            "the first failure left"
        );
        assert_eq!(
            window.record(FAST, 0),
            tally(3, 0, 0),
            "the slow failure left"
        );
        window.clear();
        assert_eq!(window.tally(0), tally(0, 0, 0));
        assert_eq!(window.record(FAILED, 0), tally(1, 1, 0));
    }

    #[test]
    fn a_time_window_forgets_a_second_when_it_leaves() {
        let window = Window::new(SlidingWindow::Time(Duration::from_secs(2)));
        window.record(FAILED, 10);
        window.record(FAST, 11);
        assert_eq!(window.tally(11), tally(2, 1, 0));
        assert_eq!(window.tally(12), tally(1, 0, 0), "second 10 left");
        assert_eq!(window.tally(13), tally(0, 0, 0));
        assert_eq!(window.record(SLOW_FAILURE, 100), tally(1, 1, 1));
        // A clock far behind the head (a new runtime's) starts the window over there.
        assert_eq!(window.record(FAST, 3), tally(1, 0, 0));
        window.clear();
        assert_eq!(window.tally(3), tally(0, 0, 0));
    }

    #[test]
    fn a_late_call_counts_in_its_second_while_that_second_is_in_the_window() {
        let window = Window::new(SlidingWindow::Time(Duration::from_secs(3)));
        window.record(FAST, 5);
        window.record(FAILED, 4);
        assert_eq!(window.tally(6), tally(2, 1, 0));
        assert_eq!(
            window.tally(7),
            tally(1, 0, 0),
            "second 4 left, with its failure"
        );
    }
}

#[cfg(test)]
mod concurrency {
    //! The windows under concurrent recording and rolling: model-checked under
    //! `--cfg loom`, repeated on real threads otherwise.

    use super::*;
    use crate::sync::model::{model, thread, Arc};
    use std::time::Duration;

    const FAILED: Mark = Mark {
        failed: true,
        slow: false,
    };
    const FAST: Mark = Mark {
        failed: false,
        slow: false,
    };

    #[test]
    fn a_count_window_keeps_every_outcome_and_forgets_the_displaced_one() {
        model(|| {
            let window = Arc::new(Window::new(SlidingWindow::Calls(2)));
            window.record(FAILED, 0);
            let other = Arc::clone(&window);
            let t = thread::spawn(move || other.record(FAST, 0));
            let here = window.record(FAILED, 0);
            let there = t.join().unwrap();
            assert!(here.failures <= 2 && there.failures <= 2);
            // The first failure was displaced by one of the two; the window holds both.
            let end = window.tally(0);
            assert_eq!((end.calls, end.failures), (2, 1), "{end:?}");
        });
    }

    /// A rate read while calls record is never above the truth: a success then a failure
    /// are 0 of 1 or 1 of 2, never 1 of 1 (a rate rule tripped by no real 100%).
    #[test]
    fn a_tally_read_while_calls_record_never_reads_a_higher_rate() {
        for window in [
            SlidingWindow::Calls(10),
            SlidingWindow::Time(Duration::from_secs(10)),
        ] {
            model(move || {
                let window = Arc::new(Window::new(window));
                let other = Arc::clone(&window);
                let t = thread::spawn(move || {
                    other.record(FAST, 0);
                    other.record(FAILED, 0);
                });
                let read = window.tally(0);
                assert!(read.failures * 2 <= read.calls, "{read:?}");
                t.join().unwrap();
            });
        }
    }

    #[test]
    fn a_time_window_rolled_on_while_a_call_records_loses_nothing() {
        model(|| {
            let window = Arc::new(Window::new(SlidingWindow::Time(Duration::from_secs(2))));
            window.record(FAILED, 0);
            let other = Arc::clone(&window);
            // One call ends late in second 1 while another opens second 2, which forgets
            // second 0 but must keep second 1.
            let t = thread::spawn(move || other.record(FAILED, 1));
            window.record(FAST, 2);
            t.join().unwrap();
            assert_eq!(window.tally(2), tally_of(2, 1));
            assert_eq!(window.tally(3), tally_of(1, 0));
        });
    }

    fn tally_of(calls: u64, failures: u64) -> Tally {
        Tally {
            calls,
            failures,
            slow: 0,
        }
    }
}
