//! A value swapped whole at run time and read with one atomic load: each policy's config,
//! so a reload reaches every call without a lock on the hot path.
//!
//! Every value ever installed stays allocated until the `Live` is dropped,
//! so a reference read out lives as long as the `Live` itself: a call reads its config
//! once and holds it across `.await`s without a reference count (no `Arc` clone, no guard,
//! no hazard slot; one `Acquire` load, a plain load on x86). The price is memory: one box
//! per *distinct* value installed, since a value equal to an installed one is reused. An
//! operator switching between a few configs costs a few boxes; only a process that
//! installs an endless stream of different configs grows, by one config each (a few
//! dozen bytes). `arc-swap` would free old values, at the price of a dependency and a
//! costlier read (a thread-local debt slot and a second load), and `Arc` clones where a
//! call holds its config across an `.await`; a reload is rare and operator-driven, so the
//! cheaper read wins.

use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::PoisonError;

use crate::sync::{AtomicPtr, Mutex};

pub(crate) struct Live<T> {
    /// Points to `first` or into one of `installed`'s boxes.
    current: AtomicPtr<T>,
    /// The value `self` was made with: one allocation for an instance never reloaded (a
    /// keyed instance's per-key policies are made on the admission of a new key).
    first: NonNull<T>,
    /// Every distinct value installed since, in order; never shrinks while `self` lives,
    /// so `current` and every reference handed out stay valid.
    installed: Mutex<Vec<NonNull<T>>>,
}

// `Live<T>` owns `T`s and hands out `&T` to any thread: what a `Box<T>` shared by
// reference needs.
unsafe impl<T: Send + Sync> Send for Live<T> {}
unsafe impl<T: Send + Sync> Sync for Live<T> {}

impl<T: PartialEq> Live<T> {
    pub(crate) fn new(value: T) -> Self {
        let first = NonNull::from(Box::leak(Box::new(value)));
        Self {
            current: AtomicPtr::new(first.as_ptr()),
            first,
            installed: Mutex::new(Vec::new()),
        }
    }

    /// The value installed last: one load.
    #[inline]
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `current` always points to `first` or a box of `installed`, freed only
        // when `self` drops (so not within the borrow of `self` returned here); the
        // `Acquire` pairs with `reload`'s `Release`, so the box's contents are visible.
        unsafe { &*self.current.load(Acquire) }
    }

    /// Makes `value` the current value, unless it is already, and runs `rule` with the
    /// value replaced and the new one; returns both, or `None` when nothing changed. Calls
    /// that read the earlier value go on with it.
    ///
    /// Reloads of one `Live` run one at a time, each with its `rule`: a rule that moves
    /// state from the old value's terms to the new one's sees the value that was really
    /// replaced.
    pub(crate) fn reload(&self, value: T, rule: impl FnOnce(&T, &T)) -> Option<(&T, &T)> {
        let mut installed = self
            .installed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let previous = self.get();
        if *previous == value {
            return None;
        }
        // SAFETY: as in `get`; `first` and every box of `installed` live as long as `self`.
        let existing = std::iter::once(self.first)
            .chain(installed.iter().copied())
            .find(|at| unsafe { at.as_ref() } == &value);
        let next = existing.unwrap_or_else(|| {
            let at = NonNull::from(Box::leak(Box::new(value)));
            installed.push(at);
            at
        });
        self.current.store(next.as_ptr(), Release);
        // SAFETY: as above.
        let next = unsafe { next.as_ref() };
        rule(previous, next);
        drop(installed);
        Some((previous, next))
    }
}

impl<T> Live<T> {
    /// The largest `key` of the values installed so far, the current one among them: a
    /// bound that holds for every call made since `self` was made.
    pub(crate) fn max_of<K: Ord>(&self, key: impl Fn(&T) -> K) -> K {
        let installed = self
            .installed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        std::iter::once(self.first)
            .chain(installed.iter().copied())
            // SAFETY: as in `get`; the lock keeps `installed` from growing meanwhile.
            .map(|at| key(unsafe { at.as_ref() }))
            .max()
            .expect("`first` is always there")
    }
}

impl<T> Drop for Live<T> {
    fn drop(&mut self) {
        let mut installed = self
            .installed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for at in std::iter::once(self.first).chain(installed.drain(..)) {
            // SAFETY: each box was leaked by `new` or `reload` and is freed once, here;
            // `&mut self` means no reference read out of `get` is alive.
            drop(unsafe { Box::from_raw(at.as_ptr()) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_equal_value_reuses_its_box_so_switching_back_and_forth_does_not_grow() {
        let live = Live::new(1);
        for _ in 0..100 {
            assert_eq!(live.reload(2, |_, _| {}), Some((&1, &2)));
            assert_eq!(live.reload(1, |_, _| {}), Some((&2, &1)));
        }
        assert_eq!(live.reload(1, |_, _| panic!("nothing changed")), None);
        assert_eq!(
            live.installed.lock().unwrap().len(),
            1,
            "the first value and one more"
        );
        assert_eq!(*live.get(), 1);
    }

    #[test]
    fn every_value_installed_is_dropped_once_with_the_live() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        #[derive(PartialEq)]
        struct Counted(u8);
        impl Drop for Counted {
            fn drop(&mut self) {
                DROPS.fetch_add(1, SeqCst);
            }
        }
        let live = Live::new(Counted(1));
        live.reload(Counted(2), |_, _| {});
        live.reload(Counted(1), |_, _| {});
        // The second `Counted(1)`, equal to the first, was dropped in favour of it.
        assert_eq!(DROPS.load(SeqCst), 1);
        drop(live);
        assert_eq!(
            DROPS.load(SeqCst),
            3,
            "the first value and the second, once each"
        );
    }

    #[test]
    fn a_value_read_before_a_swap_stays_readable_after_it() {
        let live = Live::new(String::from("old"));
        let read = live.get();
        live.reload(String::from("new"), |_, _| {});
        assert_eq!((read.as_str(), live.get().as_str()), ("old", "new"));
    }
}

#[cfg(test)]
mod concurrency {
    //! A reader racing a swap sees one whole value, the old or the new, never a torn one:
    //! model-checked under `--cfg loom`, repeated on real threads otherwise.

    use super::*;
    use crate::sync::model::{model, thread, Arc};

    #[test]
    fn a_reader_sees_the_old_or_the_new_value_whole() {
        model(|| {
            let live = Arc::new(Live::new((1_u64, 1_u64)));
            let reader = {
                let live = Arc::clone(&live);
                thread::spawn(move || {
                    let &(a, b) = live.get();
                    assert_eq!(a, b, "a torn value");
                    a
                })
            };
            live.reload((2, 2), |_, _| {});
            assert!(matches!(reader.join().unwrap(), 1 | 2));
            assert_eq!(*live.get(), (2, 2));
        });
    }
}
