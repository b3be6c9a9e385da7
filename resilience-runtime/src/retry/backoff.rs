//! The delay before each retry: the DESIGN's formula, then jitter.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How the delay grows from one retry to the next.
///
/// ```
/// use std::time::Duration;
/// use resilience::{Backoff, Jitter, RetryConfig};
/// let linear = RetryConfig::DEFAULT.backoff(Backoff::Linear).base_delay(Duration::from_secs(1)).jitter(Jitter::None);
/// assert_eq!(linear.delay(2), Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backoff {
    /// `base_delay · exponential_base^n` for the wait after the `n`-th failure (0-based).
    #[default]
    Exponential,
    /// `base_delay · (n + 1)`.
    Linear,
    /// `base_delay` every time.
    Constant,
}

/// How the delay is randomised, so that many clients do not retry in step.
///
/// ```
/// use resilience::{Jitter, RetryConfig};
/// let exact = RetryConfig::DEFAULT.jitter(Jitter::None);
/// assert_eq!(RetryConfig::default().jitter, Jitter::Full);
/// assert!(exact.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// Uniform in `[0, d]`.
    #[default]
    Full,
    /// `d · uniform[0.5, 1.5]`.
    Equal,
    /// Exactly `d`.
    None,
}

/// The delay before retry `n` (the wait after the `n`-th failure, 0-based) before jitter:
/// grown by `backoff`, capped at `max`.
pub(crate) fn delay(
    backoff: Backoff,
    base: Duration,
    exponential_base: f64,
    max: Duration,
    n: u32,
) -> Duration {
    let grown = match backoff {
        Backoff::Constant => Some(base),
        Backoff::Linear => base.checked_mul(n.saturating_add(1)),
        // 0 · ∞ is NaN in floating point; the formula says 0.
        Backoff::Exponential if base.is_zero() => Some(Duration::ZERO),
        Backoff::Exponential => {
            let factor = exponential_base.powi(i32::try_from(n).unwrap_or(i32::MAX));
            // Past 2^23 s (97 days) an `f64` of seconds is coarser than a nanosecond: the
            // growth (a factor of at least 1) never goes below the base for it.
            Duration::try_from_secs_f64(base.as_secs_f64() * factor)
                .ok()
                .map(|grown| grown.max(base))
        }
    };
    grown.map_or(max, |d| d.min(max))
}

/// Applies `jitter` to `delay`, drawing from `random`; saturates at `Duration::MAX`.
pub(crate) fn jitter(jitter: Jitter, delay: Duration, random: &Random) -> Duration {
    let factor = match jitter {
        Jitter::None => return delay,
        Jitter::Full => random.unit(),
        Jitter::Equal => 0.5 + random.unit(),
    };
    // `Duration::mul_f64` panics past `Duration::MAX`; a huge configured delay must not.
    Duration::try_from_secs_f64(delay.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// A seedable, lock-free source of uniform numbers (SplitMix64 over an atomic counter).
///
/// Every draw advances the counter with one `fetch_add`, so concurrent retries never block
/// each other, and a seeded retry produces the same delays in the same order.
pub(crate) struct Random {
    state: AtomicU64,
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl Random {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// A seed that differs between processes and between instances.
    pub(crate) fn entropy() -> u64 {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::ptr::from_ref(&GOLDEN_GAMMA) as usize)
    }

    pub(crate) fn reseed(&self, seed: u64) {
        self.state.store(seed, Relaxed);
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&self) -> f64 {
        let mut z = self
            .state
            .fetch_add(GOLDEN_GAMMA, Relaxed)
            .wrapping_add(GOLDEN_GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits fill an f64's mantissa exactly.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn formula_per_backoff_kind() {
        let max = Duration::from_secs(60);
        let exp: Vec<_> = (0..5)
            .map(|n| delay(Backoff::Exponential, MS * 100, 2.0, max, n))
            .collect();
        assert_eq!(exp, [MS * 100, MS * 200, MS * 400, MS * 800, MS * 1600]);
        let lin: Vec<_> = (0..3)
            .map(|n| delay(Backoff::Linear, MS * 100, 2.0, max, n))
            .collect();
        assert_eq!(lin, [MS * 100, MS * 200, MS * 300]);
        assert_eq!(delay(Backoff::Constant, MS * 100, 2.0, max, 9), MS * 100);
        assert_eq!(delay(Backoff::Exponential, MS * 100, 3.0, max, 2), MS * 900);
    }

    #[test]
    fn capped_at_max_even_when_the_growth_overflows() {
        let max = Duration::from_secs(5);
        assert_eq!(
            delay(Backoff::Exponential, Duration::from_secs(1), 2.0, max, 3),
            max
        );
        assert_eq!(
            delay(
                Backoff::Exponential,
                Duration::from_secs(1),
                2.0,
                max,
                u32::MAX
            ),
            max
        );
        assert_eq!(delay(Backoff::Linear, Duration::MAX, 2.0, max, 7), max);
    }

    #[test]
    fn a_base_too_long_for_an_f64_is_where_exponential_growth_starts() {
        let base = Duration::new(40_469_218, 719_055_475);
        assert_eq!(
            delay(Backoff::Exponential, base, 1.0, Duration::MAX, 0),
            base
        );
        assert_eq!(
            delay(Backoff::Exponential, base, 1.0, Duration::MAX, 9),
            base
        );
        let doubled = delay(Backoff::Exponential, base, 2.0, Duration::MAX, 1);
        assert!((base..=base * 2 + Duration::from_nanos(16)).contains(&doubled));
    }

    #[test]
    fn a_zero_base_stays_zero_however_large_the_growth() {
        let max = Duration::from_secs(10);
        let delays: Vec<_> = (0..4)
            .map(|n| delay(Backoff::Exponential, Duration::ZERO, f64::MAX, max, n))
            .collect();
        assert_eq!(delays, [Duration::ZERO; 4]);
    }

    #[test]
    fn seeded_draws_repeat_and_stay_in_unit_range() {
        let a = Random::new(7);
        let b = Random::new(7);
        for _ in 0..1000 {
            let (x, y) = (a.unit(), b.unit());
            assert_eq!(x.to_bits(), y.to_bits());
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn jitter_saturates_instead_of_overflowing() {
        let random = Random::new(3);
        for _ in 0..100 {
            assert!(jitter(Jitter::Equal, Duration::MAX, &random) >= Duration::MAX / 2);
            assert!(jitter(Jitter::Full, Duration::MAX, &random) <= Duration::MAX);
        }
    }

    #[test]
    fn jitter_envelopes() {
        let random = Random::new(1);
        let d = Duration::from_secs(2);
        for _ in 0..1000 {
            assert!(jitter(Jitter::Full, d, &random) <= d);
            let equal = jitter(Jitter::Equal, d, &random);
            assert!(equal >= d / 2 && equal <= d * 3 / 2, "{equal:?}");
            assert_eq!(jitter(Jitter::None, d, &random), d);
        }
    }
}
