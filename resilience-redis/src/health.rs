//! Whether one shared name's state is reachable: flipped once when it is lost and once
//! when it is found, so the event and the warning go out once, not per call.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

#[derive(Debug, Default)]
pub(crate) struct Availability {
    down: AtomicBool,
}

impl Availability {
    pub(crate) fn is_up(&self) -> bool {
        !self.down.load(Acquire)
    }

    /// Marks it lost; `true` for the one caller that changed it.
    pub(crate) fn lose(&self) -> bool {
        !self.down.swap(true, AcqRel)
    }

    /// Marks it found; `true` for the one caller that changed it.
    pub(crate) fn find(&self) -> bool {
        self.down.swap(false, AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_change_is_reported_once() {
        let availability = Availability::default();
        assert!(availability.is_up());
        assert!(!availability.find(), "found while never lost");
        assert!(availability.lose());
        assert!(!availability.lose(), "lost twice reports once");
        assert!(!availability.is_up());
        assert!(availability.find());
        assert!(!availability.find());
    }
}
