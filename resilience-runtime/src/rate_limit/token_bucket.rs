//! The token bucket as a GCRA: one number, the theoretical arrival time, in one atomic.
//!
//! A bucket of `capacity` tokens refilled one token every `interval` admits a call at `now`
//! when the call's arrival time `max(tat, now) + interval` is at most `capacity · interval`
//! ahead of `now`. That is exactly a token bucket, kept as a single `u64` (nanoseconds
//! since the limiter's epoch) so admission is one compare-and-swap.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenBucket {
    /// Nanoseconds per token, rounded up so the rate never exceeds the quota.
    interval: u64,
    /// `capacity · interval`: how far ahead of now the arrival time may run.
    span: u64,
}

impl TokenBucket {
    pub(crate) fn new(max_requests: u32, window: Duration, capacity: u32) -> Self {
        let window = crate::time::nanos(window);
        let interval = window.div_ceil(u64::from(max_requests.max(1))).max(1);
        Self {
            interval,
            span: interval.saturating_mul(u64::from(capacity.max(1))),
        }
    }

    /// Admits a call at `now` against arrival time `tat`: the new arrival time, or how many
    /// nanoseconds until a token is free.
    #[inline]
    pub(crate) fn admit(self, tat: u64, now: u64) -> Result<u64, u64> {
        let next = tat.max(now).saturating_add(self.interval);
        let ahead = next - now;
        if ahead <= self.span {
            Ok(next)
        } else {
            Err(ahead - self.span)
        }
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
    fn the_interval_rounds_up() {
        let bucket = TokenBucket::new(3, Duration::from_secs(1), 1);
        assert_eq!(bucket.interval, 333_333_334);
    }
}
