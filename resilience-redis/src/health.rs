//! Whether one shared name's state is reachable: flipped once when it is lost and once
//! when it is found, so the event and the warning go out once, not per call.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub(crate) struct Availability {
    down: AtomicBool,
    /// Held while a change is made and told, so the instance hears the changes in the
    /// order they were made: a loss and a recovery racing (a failed call against the
    /// refresh) never leave it believing the opposite of the last change.
    telling: Mutex<()>,
}

impl Availability {
    pub(crate) fn is_up(&self) -> bool {
        !self.down.load(Acquire)
    }

    /// Marks it lost, and runs `tell` if this changed it.
    pub(crate) fn lose(&self, tell: impl FnOnce()) {
        // Every failing call lands here: once lost, it takes no lock.
        if self.is_up() {
            self.change(true, tell);
        }
    }

    /// Marks it found, and runs `tell` if this changed it.
    pub(crate) fn find(&self, tell: impl FnOnce()) {
        if !self.is_up() {
            self.change(false, tell);
        }
    }

    fn change(&self, down: bool, tell: impl FnOnce()) {
        let _ordered = self.telling.lock().unwrap_or_else(PoisonError::into_inner);
        if self.down.swap(down, AcqRel) != down {
            tell();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn each_change_is_told_once() {
        let availability = Availability::default();
        let told = Cell::new(0);
        let tell = || told.set(told.get() + 1);
        assert!(availability.is_up());
        availability.find(tell);
        assert_eq!(told.get(), 0, "found while never lost");
        availability.lose(tell);
        availability.lose(tell);
        assert_eq!(told.get(), 1, "lost twice is told once");
        assert!(!availability.is_up());
        availability.find(tell);
        availability.find(tell);
        assert_eq!(told.get(), 2);
        assert!(availability.is_up());
    }

    /// A recovery made while a loss is being told is told after it: the instance is left
    /// believing what is true.
    #[test]
    fn a_recovery_racing_a_loss_is_told_after_it() {
        use std::sync::mpsc;
        use std::time::Duration;
        let availability = Availability::default();
        let told = Mutex::new(Vec::new());
        let (go, gone) = mpsc::channel();
        let (done, finished) = mpsc::channel();
        let (availability, told) = (&availability, &told);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                availability.lose(|| {
                    go.send(()).unwrap();
                    // Unordered, the recovery would be made and told right here, before
                    // this loss is: wait for it a while.
                    let _ = finished.recv_timeout(Duration::from_millis(200));
                    told.lock().unwrap().push(false);
                });
            });
            scope.spawn(move || {
                gone.recv().unwrap();
                availability.find(|| told.lock().unwrap().push(true));
                let _ = done.send(());
            });
        });
        assert_eq!(*told.lock().unwrap(), [false, true]);
        assert!(availability.is_up());
    }
}
