//! The two window algorithms, pure: fixed windows in one atomic word, and the exact sliding
//! log.

use std::collections::VecDeque;

/// At most `max` calls per window `[k · window, (k + 1) · window)` since the epoch.
///
/// The state is one `u64`: the window index in the high half and the calls admitted in it
/// in the low half. Index wrap-around after 2³² windows is harmless: a new window is told
/// apart from the stored one by inequality, and an exact collision needs an idle gap of
/// precisely a multiple of 2³² windows. Inequality also makes a clock that went back (an
/// earlier test's runtime ran ahead) a new window, never a full one to wait out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedWindow {
    pub(crate) window: u64,
    pub(crate) max: u32,
}

impl FixedWindow {
    /// Admits a call at `now`: the new state, or nanoseconds until the next window.
    pub(crate) fn admit(self, word: u64, now: u64) -> Result<u64, u64> {
        let index = now / self.window;
        let (stored, count) = (word >> 32, word & u64::from(u32::MAX));
        let count = if stored == index & u64::from(u32::MAX) {
            count
        } else {
            0
        };
        if count < u64::from(self.max) {
            Ok((index << 32) | (count + 1))
        } else {
            Err(index.saturating_add(1).saturating_mul(self.window) - now)
        }
    }

    /// The state `word` at `now` carried into window `to`: the calls counted in the
    /// current window stay counted, all of them, in `to`'s current window. Not clamped to
    /// `to`'s quota: a count above it only refuses until the window ends, while a clamped
    /// one, grown again, would admit the calls it forgot a second time.
    pub(crate) fn rescale(self, word: u64, now: u64, to: FixedWindow) -> u64 {
        if self.is_unused(word, now) {
            return 0;
        }
        ((now / to.window) << 32) | (word & u64::from(u32::MAX))
    }

    /// Whether no call is counted in the window of `now`: the state a fresh limiter has.
    pub(crate) fn is_unused(self, word: u64, now: u64) -> bool {
        let index = (now / self.window) & u64::from(u32::MAX);
        word & u64::from(u32::MAX) == 0 || word >> 32 != index
    }
}

/// At most `max` calls in any span of `window`: the log of the last `max` admissions.
///
/// A call is admitted when fewer than `max` admissions lie within the last `window`, that
/// is when the oldest of the last `max` is at least `window` old. Exact, at the price of a
/// lock and memory for up to `max` timestamps.
#[derive(Debug, Default)]
pub(crate) struct SlidingLog {
    admitted: VecDeque<u64>,
}

impl SlidingLog {
    /// Admits a call at `now`, or says how many nanoseconds until one could be.
    ///
    /// An admission later than `now` was made on a clock ahead of this one (an earlier
    /// test's runtime): the log starts over rather than wait for this clock to catch up.
    pub(crate) fn admit(&mut self, now: u64, window: u64, max: u32) -> Result<(), u64> {
        if self.admitted.back().is_some_and(|&last| last > now) {
            self.admitted.clear();
        }
        let max = max as usize;
        if self.admitted.len() >= max {
            let oldest = self.admitted[self.admitted.len() - max];
            let free_at = oldest.saturating_add(window);
            if free_at > now {
                return Err(free_at - now);
            }
        }
        // Keep only what the next decision can look at.
        while self.admitted.len() >= max {
            self.admitted.pop_front();
        }
        self.admitted.push_back(now);
        Ok(())
    }

    /// Whether no admission lies within `window` of `now` (or ahead of it, on a clock gone
    /// back): nothing [`admit`](Self::admit) would look at.
    pub(crate) fn is_unused(&self, now: u64, window: u64) -> bool {
        self.admitted
            .back()
            .is_none_or(|&last| last > now || now - last >= window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_keeps_the_window_s_count_whatever_the_new_quota() {
        let three = FixedWindow {
            window: 100,
            max: 3,
        };
        let mut word = 0;
        for _ in 0..2 {
            word = three.admit(word, 150).unwrap();
        }
        let five = FixedWindow { window: 50, max: 5 };
        let mut carried = three.rescale(word, 160, five);
        for _ in 0..3 {
            carried = five.admit(carried, 160).unwrap();
        }
        assert!(five.admit(carried, 160).is_err(), "two of five were used");
        let one = FixedWindow {
            window: 100,
            max: 1,
        };
        assert_eq!(one.admit(three.rescale(word, 160, one), 160), Err(40));
        assert_eq!(
            three.rescale(word, 250, one),
            0,
            "a past window counts nothing"
        );
        // Shrunk below the count, then grown: the two calls are still counted.
        let shrunk = three.rescale(word, 160, one);
        let ten = FixedWindow {
            window: 100,
            max: 10,
        };
        let mut grown = one.rescale(shrunk, 160, ten);
        for _ in 0..8 {
            grown = ten.admit(grown, 160).unwrap();
        }
        assert_eq!(ten.admit(grown, 160), Err(40), "two and eight of ten");
    }

    #[test]
    fn fixed_window_resets_at_the_boundary() {
        let fixed = FixedWindow {
            window: 1000,
            max: 2,
        };
        let mut word = 0;
        word = fixed.admit(word, 10).unwrap();
        word = fixed.admit(word, 999).unwrap();
        assert_eq!(fixed.admit(word, 999), Err(1));
        word = fixed.admit(word, 1000).unwrap();
        word = fixed.admit(word, 1500).unwrap();
        assert_eq!(fixed.admit(word, 1500), Err(500));
    }

    #[test]
    fn fixed_window_arithmetic_saturates_at_the_end_of_time() {
        let fixed = FixedWindow {
            window: u64::MAX / 2 + 1,
            max: 1,
        };
        let word = fixed.admit(0, u64::MAX - 1).unwrap();
        assert!(fixed.admit(word, u64::MAX - 1).is_err());
    }

    #[test]
    fn windows_are_unused_once_nothing_counted_is_in_view() {
        let fixed = FixedWindow {
            window: 1000,
            max: 2,
        };
        assert!(fixed.is_unused(0, 10));
        let word = fixed.admit(0, 10).unwrap();
        assert!(!fixed.is_unused(word, 999));
        assert!(fixed.is_unused(word, 1000));
        let mut log = SlidingLog::default();
        assert!(log.is_unused(0, 1000));
        log.admit(600, 1000, 2).unwrap();
        assert!(!log.is_unused(1599, 1000));
        assert!(log.is_unused(1600, 1000));
        assert!(log.is_unused(500, 1000), "a clock gone back starts over");
    }

    #[test]
    fn sliding_log_never_admits_more_than_max_in_any_window() {
        let mut log = SlidingLog::default();
        assert_eq!(log.admit(0, 1000, 2), Ok(()));
        assert_eq!(log.admit(600, 1000, 2), Ok(()));
        assert_eq!(log.admit(999, 1000, 2), Err(1));
        assert_eq!(log.admit(1000, 1000, 2), Ok(()));
        assert_eq!(log.admit(1000, 1000, 2), Err(600));
        assert_eq!(log.admit(1600, 1000, 2), Ok(()));
        assert!(log.admitted.len() <= 2);
    }
}
