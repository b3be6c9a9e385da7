//! Event counters that stay off the shared cache lines of the hot path.
//!
//! A success counter bumped by every call would turn a read-only success path into a write
//! to one contended cache line. `Counter` keeps one padded cell per stripe and each thread
//! writes its own stripe; readers add the stripes up. Rare events (failures, rejections,
//! transitions) use a plain `AtomicU64`: they are slow paths already.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

const STRIPES: usize = 8;

/// A monotonically increasing count, striped across threads.
#[derive(Default)]
pub(crate) struct Counter {
    stripes: [Padded; STRIPES],
}

/// One cache line (two on CPUs that prefetch pairs), so neighbouring stripes never share.
#[derive(Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

impl Counter {
    pub(crate) fn increment(&self) {
        self.stripes[stripe()].0.fetch_add(1, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0.load(Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

/// This thread's stripe, handed out round-robin the first time a thread counts.
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE.with(|cell| {
        let mut index = cell.get();
        if index == usize::MAX {
            index = NEXT.fetch_add(1, Relaxed) % STRIPES;
            cell.set(index);
        }
        index
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sums_every_thread() {
        let counter = Arc::new(Counter::default());
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || (0..1000).for_each(|_| counter.increment()))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(counter.get(), 12_000);
    }
}
