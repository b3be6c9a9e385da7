//! The token bucket as a GCRA: one number, the theoretical arrival time, in one atomic.
//!
//! A bucket of `capacity` tokens refilled one token every `interval` admits a call at `now`
//! when the call's arrival time `max(tat, now) + interval` is at most `capacity · interval`
//! ahead of `now`. That is exactly a token bucket, kept as a single `u64` so admission is
//! one compare-and-swap.
//!
//! Times are counted in units of `2^shift` nanoseconds since the limiter's origin, with
//! `shift` the smallest that keeps `capacity · interval` below 2⁶²: one nanosecond for any
//! bucket that refills within 146 years, coarser beyond (1 per `Duration::MAX` counts in
//! units of four seconds). Nothing saturates, so a slow bucket still limits.

use std::time::Duration;

/// The largest span the arithmetic allows, leaving room to add the time since the origin.
const MAX_SPAN: u128 = 1 << 62;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenBucket {
    /// Nanoseconds per unit, as a power of two.
    shift: u32,
    /// Units per token, rounded up so the rate never exceeds the quota.
    interval: u64,
    /// `capacity · interval`: how far ahead of now the arrival time may run.
    span: u64,
}

impl TokenBucket {
    pub(crate) fn new(max_requests: u32, window: Duration, capacity: u32) -> Self {
        let interval = window
            .as_nanos()
            .div_ceil(u128::from(max_requests.max(1)))
            .max(1);
        let span = interval * u128::from(capacity.max(1));
        let shift = (u128::BITS - span.leading_zeros()).saturating_sub(62);
        let interval = interval.div_ceil(1 << shift);
        let span = interval * u128::from(capacity.max(1));
        debug_assert!(span <= MAX_SPAN * 2);
        Self {
            shift,
            interval: u64::try_from(interval).unwrap_or(u64::MAX),
            span: u64::try_from(span).unwrap_or(u64::MAX),
        }
    }

    /// Admits a call `elapsed` nanoseconds after the origin against arrival time `tat`: the
    /// new arrival time, or how many nanoseconds until a token is free.
    ///
    /// An arrival time more than `span` ahead was set by a clock ahead of this one (an
    /// earlier test's runtime): every reading since was at least `tat - span`. The bucket
    /// starts over full rather than wait for this clock to catch up.
    #[inline]
    pub(crate) fn admit(self, tat: u64, elapsed: u64) -> Result<u64, u64> {
        // A shift past 63 (a `Duration::MAX` window with a huge burst) counts in units so
        // long that no elapsed time reaches one.
        let now = elapsed.checked_shr(self.shift).unwrap_or(0);
        let tat = if tat.saturating_sub(now) > self.span {
            now
        } else {
            tat
        };
        let next = tat.max(now).saturating_add(self.interval);
        let ahead = next - now;
        if ahead <= self.span {
            Ok(next)
        } else {
            let wait = u128::from(ahead - self.span) << self.shift.min(64);
            Err(u64::try_from(wait).unwrap_or(u64::MAX))
        }
    }

    /// The arrival time `tat` of this bucket at `elapsed`, carried into bucket `to`: the
    /// tokens used stay used, up to `to`'s capacity, rounded up (a reload never gives a
    /// fraction of a token back). A full bucket stays full.
    pub(crate) fn rescale(self, tat: u64, elapsed: u64, to: TokenBucket) -> u64 {
        let now = elapsed.checked_shr(self.shift).unwrap_or(0);
        if tat.saturating_sub(now) > self.span {
            // A clock gone back, which `admit` starts over from full.
            return 0;
        }
        let ahead = tat.saturating_sub(now);
        let now_to = elapsed.checked_shr(to.shift).unwrap_or(0);
        if ahead == 0 {
            return now_to.min(tat);
        }
        // Tokens used, `ahead / interval`, at `to`'s interval.
        let ahead_to = (u128::from(ahead) * u128::from(to.interval))
            .div_ceil(u128::from(self.interval))
            .min(u128::from(to.span));
        now_to.saturating_add(u64::try_from(ahead_to).unwrap_or(to.span))
    }

    /// Whether the bucket is full at `elapsed`: every token back, so the arrival time
    /// carries nothing a fresh bucket would not. A time beyond the span is a clock gone
    /// back, which [`admit`](Self::admit) starts over from full too.
    pub(crate) fn is_full(self, tat: u64, elapsed: u64) -> bool {
        let now = elapsed.checked_shr(self.shift).unwrap_or(0);
        tat <= now || tat - now > self.span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_full_bucket_admits_its_capacity_then_one_token_per_interval() {
        let bucket = TokenBucket::new(4, Duration::from_secs(1), 4);
        let mut tat = 0;
        for _ in 0..4 {
            tat = bucket.admit(tat, 0).unwrap();
        }
        assert_eq!(bucket.admit(tat, 0), Err(250 * MS));
        assert_eq!(bucket.admit(tat, 249 * MS), Err(MS));
        tat = bucket.admit(tat, 250 * MS).unwrap();
        assert_eq!(bucket.admit(tat, 250 * MS), Err(250 * MS));
    }

    #[test]
    fn a_reload_keeps_the_tokens_used_clamped_to_the_new_capacity() {
        let four = TokenBucket::new(4, Duration::from_secs(1), 4);
        let mut tat = 0;
        for _ in 0..3 {
            tat = four.admit(tat, 0).unwrap();
        }
        // Three used of four; a bucket of eight at the same rate has five left.
        let eight = TokenBucket::new(8, Duration::from_secs(2), 8);
        let mut carried = four.rescale(tat, 0, eight);
        for _ in 0..5 {
            carried = eight.admit(carried, 0).unwrap();
        }
        assert!(eight.admit(carried, 0).is_err(), "only five were left");
        // A bucket of two: the three used are clamped to two, so it is empty, and the
        // next token comes one interval of the new rate later.
        let two = TokenBucket::new(2, Duration::from_secs(1), 2);
        let carried = four.rescale(tat, 0, two);
        assert_eq!(two.admit(carried, 0), Err(500 * MS));
        // A full bucket stays full.
        assert_eq!(four.rescale(0, 7 * MS, two), 0);
        assert!(two.is_full(four.rescale(tat, 3000 * MS, two), 3000 * MS));
    }

    #[test]
    fn burst_sets_the_capacity_apart_from_the_rate() {
        let bucket = TokenBucket::new(10, Duration::from_secs(1), 2);
        let tat = bucket.admit(0, 0).unwrap();
        let tat = bucket.admit(tat, 0).unwrap();
        assert_eq!(bucket.admit(tat, 0), Err(100 * MS));
    }

    #[test]
    fn an_idle_bucket_refills_only_up_to_capacity() {
        let bucket = TokenBucket::new(2, Duration::from_secs(1), 2);
        let mut tat = bucket.admit(0, 0).unwrap();
        let later = 3600 * 1000 * MS;
        for _ in 0..2 {
            tat = bucket.admit(tat, later).unwrap();
        }
        assert!(bucket.admit(tat, later).is_err());
    }

    #[test]
    fn the_slowest_bucket_with_the_largest_burst_still_counts() {
        let bucket = TokenBucket::new(1, Duration::MAX, u32::MAX);
        assert!(bucket.shift >= 64);
        assert_eq!(bucket.admit(0, u64::MAX), Ok(bucket.interval));
        assert!(
            bucket.admit(u64::MAX, 0).is_ok(),
            "a tat beyond the span starts over"
        );
    }

    #[test]
    fn a_bucket_is_full_again_once_its_last_token_is_back() {
        let bucket = TokenBucket::new(2, Duration::from_secs(1), 2);
        assert!(bucket.is_full(0, 0));
        let tat = bucket.admit(0, 0).unwrap();
        assert!(!bucket.is_full(tat, 0));
        assert!(!bucket.is_full(tat, 499 * MS));
        assert!(bucket.is_full(tat, 500 * MS));
        assert!(
            bucket.is_full(u64::MAX, 0),
            "a clock gone back starts over full"
        );
    }

    #[test]
    fn the_interval_rounds_up() {
        let bucket = TokenBucket::new(3, Duration::from_secs(1), 1);
        assert_eq!((bucket.shift, bucket.interval), (0, 333_333_334));
    }

    #[test]
    fn a_bucket_slower_than_the_arithmetic_counts_in_coarser_units_and_still_limits() {
        const YEAR: u64 = 365 * 24 * 3600;
        let cases = [
            (1, Duration::from_secs(600 * YEAR), 1),
            (1, Duration::from_secs(YEAR), 1000),
            (1, Duration::MAX, 1),
            (1, Duration::MAX, 64),
        ];
        for (max_requests, window, capacity) in cases {
            let bucket = TokenBucket::new(max_requests, window, capacity);
            assert!(bucket.span <= 1 << 62, "{window:?}");
            let mut tat = 0;
            for _ in 0..capacity {
                tat = bucket.admit(tat, 0).expect("the bucket starts full");
            }
            let wait = bucket.admit(tat, 0).expect_err("then it is empty");
            let interval = window.as_nanos() / u128::from(max_requests);
            assert!(
                u128::from(wait) >= interval.min(u128::from(u64::MAX)),
                "{window:?}"
            );
        }
    }
}
