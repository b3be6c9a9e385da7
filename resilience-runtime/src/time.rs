//! The one door to the clock.
//!
//! Every clock read and every wait in the runtime goes through here, and from here through
//! `tokio::time`, so `#[tokio::test(start_paused = true)]` drives all of it exactly.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

pub(crate) use tokio::time::Instant;

#[inline]
pub(crate) fn now() -> Instant {
    Instant::now()
}

pub(crate) async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// Runs `future` for at most `limit`; `None` when time ran out (the future is dropped).
///
/// A future that is ready on its first poll costs no clock read and no timer: the timer is
/// armed only once the future has to wait, from that moment, which is the moment it was
/// called (its first poll took no time on any clock that could interrupt it).
pub(crate) async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(output) => Some(output),
        Poll::Pending => tokio::time::timeout(limit, future).await.ok(),
    }
}

/// Whole milliseconds in `duration`, rounded up.
pub(crate) fn millis_ceil(duration: Duration) -> u64 {
    let millis = duration.as_millis();
    let rounded = if duration.subsec_nanos() % 1_000_000 == 0 {
        millis
    } else {
        millis + 1
    };
    u64::try_from(rounded).unwrap_or(u64::MAX)
}

/// Nanoseconds in `duration`, saturating at `u64::MAX` (584 years).
#[inline]
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_up() {
        assert_eq!(millis_ceil(Duration::from_millis(30)), 30);
        assert_eq!(millis_ceil(Duration::from_micros(30_001)), 31);
        assert_eq!(millis_ceil(Duration::ZERO), 0);
    }
}
