//! The one door to the clock.
//!
//! Every clock read and every wait in the runtime goes through here. A reading is a [`Tick`]:
//! nanoseconds on one process-wide timeline, so policies keep times as plain `u64`s in their
//! atomic state words.
//!
//! Two sources feed that timeline:
//!
//! - the CPU's time-stamp counter through `quanta` (a few nanoseconds, against 20 to 50 for
//!   `Instant::now` on the hosts we measured), wherever time runs normally;
//! - tokio's clock, wherever it may be paused (`#[tokio::test(start_paused = true)]`,
//!   `tokio::time::pause()` under tokio's `test-util`), so such tests drive every policy
//!   exactly.
//!
//! Which one a thread uses is decided at its first reading inside a runtime and remembered
//! in a thread-local: two readings of tokio's clock in a row are equal only when it is
//! paused (or so coarse that reading it is no slower than the counter). A paused clock
//! never runs again, so that choice sticks; a running one is the counter's from then on.
//! Outside any runtime tokio's clock is std's, so the counter serves there without asking.
//! A thread that read the clock in a running current-thread runtime and pauses it later
//! keeps the counter: pause before the first call (or use `start_paused`).
//!
//! A plain (non-async) guarded fn waits by blocking its thread, on the real clock
//! (`blocking.rs`): nothing can advance a paused clock while the thread that would have to
//! is blocked. Its policies read the real clock too, through [`on_real_clock`], wherever
//! they are called from.
//!
//! Both sources are std instants underneath (tokio's paused clock starts at std's "now"
//! and moves by `advance`), anchored once at one shared instant, so readings from
//! different threads and runtimes land on the same timeline. Only differences between
//! readings are used, and waits go to tokio as durations, never as instants: the counter's
//! drift from the OS clock over a long uptime never shifts a deadline.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::task::Poll;
use std::time::Duration;

/// Nanoseconds on the runtime's timeline. Only differences mean anything.
pub(crate) type Tick = u64;

/// Where the anchor instant lies on the timeline: far enough from zero that a paused
/// tokio clock started before the anchor (a runtime built before our first reading) still
/// reads as a positive tick, and far enough from `u64::MAX` for four centuries of uptime.
const ANCHOR_TICK: Tick = 1 << 62;

struct Anchor {
    std: std::time::Instant,
    counter: quanta::Clock,
    raw: u64,
}

fn anchor() -> &'static Anchor {
    static ANCHOR: OnceLock<Anchor> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        // `quanta::Clock::new` calibrates the counter against the OS clock once per process.
        let counter = quanta::Clock::new();
        let raw = counter.raw();
        Anchor {
            std: std::time::Instant::now(),
            counter,
            raw,
        }
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Not decided on this thread yet.
    Unknown,
    /// The time-stamp counter.
    Counter,
    /// tokio's clock, which is paused on this thread's runtime.
    Tokio,
}

thread_local! {
    static SOURCE: Cell<Source> = const { Cell::new(Source::Unknown) };
}

/// Now, on the timeline.
#[inline]
pub(crate) fn now() -> Tick {
    match SOURCE.get() {
        Source::Counter => counter_now(),
        Source::Tokio => from_tokio(tokio::time::Instant::now()),
        Source::Unknown => decide(),
    }
}

/// Runs `f` with every clock reading on this thread taken from the real clock, even
/// inside a runtime whose clock is paused; the thread's choice of source is restored
/// afterwards, also when `f` panics.
///
/// For the policies' work on behalf of a plain fn: its waits are real (see
/// `blocking.rs`), so the times they are measured against must be real too. A rate
/// limiter that slept for its next permit on the real clock and then read a paused one
/// would find no permit, however long it slept.
#[inline]
pub(crate) fn on_real_clock<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Source);
    impl Drop for Restore {
        fn drop(&mut self) {
            SOURCE.set(self.0);
        }
    }
    let _restore = Restore(SOURCE.replace(Source::Counter));
    f()
}

#[inline]
fn counter_now() -> Tick {
    let anchor = anchor();
    let since = anchor
        .counter
        .delta_as_nanos(anchor.raw, anchor.counter.raw());
    ANCHOR_TICK.saturating_add(since)
}

#[cold]
fn decide() -> Tick {
    if tokio::runtime::Handle::try_current().is_err() {
        // Outside a runtime tokio's clock is std's: the counter is the same clock, cheaper.
        // Nothing is remembered, as this thread may enter a paused runtime later.
        return counter_now();
    }
    let first = tokio::time::Instant::now();
    let paused = tokio::time::Instant::now() == first;
    SOURCE.set(if paused {
        Source::Tokio
    } else {
        Source::Counter
    });
    if paused {
        from_tokio(first)
    } else {
        counter_now()
    }
}

fn from_tokio(instant: tokio::time::Instant) -> Tick {
    let anchor = anchor().std;
    let instant = instant.into_std();
    match instant.checked_duration_since(anchor) {
        Some(after) => ANCHOR_TICK.saturating_add(nanos(after)),
        None => ANCHOR_TICK.saturating_sub(nanos(anchor - instant)),
    }
}

/// Where an instance's times start, for times kept as nanoseconds since it.
///
/// Each `#[tokio::test]` has its own clock, and a paused one starts at the moment its
/// runtime was built, whatever an earlier test advanced its own to. An instance used in
/// one test and again in the next sees the clock go back. A reading behind the origin is
/// a new start, never "no time passed": the origin moves to it. Times an instance recorded
/// in its state can be ahead of the new clock too, without the origin being so; each state
/// machine treats a reading behind what it recorded as a new start as well (see
/// `TokenBucket::admit`, `SlidingLog::admit`, `CircuitBreaker::elapsed`).
#[derive(Debug)]
pub(crate) struct Origin(AtomicU64);

impl Origin {
    pub(crate) fn new(at: Tick) -> Self {
        Self(AtomicU64::new(at))
    }

    /// Nanoseconds from the origin to `now`; zero, and a new origin, when `now` is behind.
    #[inline]
    pub(crate) fn elapsed(&self, now: Tick) -> u64 {
        match now.checked_sub(self.0.load(Relaxed)) {
            Some(elapsed) => elapsed,
            None => self.rebase(now),
        }
    }

    #[cold]
    fn rebase(&self, now: Tick) -> u64 {
        // Racing callers each move the origin no later than their own reading.
        let origin = self.0.fetch_min(now, Relaxed).min(now);
        now - origin
    }

    /// Moves the origin so that `now` reads as `elapsed`: a new start, for a state machine
    /// whose recorded times lie ahead of the clock.
    pub(crate) fn restart(&self, now: Tick, elapsed: u64) {
        self.0.store(now.saturating_sub(elapsed), Relaxed);
    }
}

pub(crate) async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// A timer that fires `after` from now, for a policy that keeps one across polls (a hedge
/// waiting to start its next attempt) and re-arms it with `Pin::set`.
pub(crate) fn timer(after: Duration) -> tokio::time::Sleep {
    tokio::time::sleep(after)
}

/// Runs `future` until `limit` after the moment of this call; `None` when time ran out
/// (the future is dropped).
///
/// The deadline counts from before the first poll, so synchronous work the future does
/// before its first `.await` counts against it. A future ready on its first poll costs one
/// clock read and no timer; one found pending past its deadline is not polled again.
pub(crate) async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let start = now();
    let mut future = std::pin::pin!(future);
    let first = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await;
    if let Poll::Ready(output) = first {
        return Some(output);
    }
    let deadline = start.saturating_add(nanos(limit));
    let left = deadline.saturating_sub(now());
    if left == 0 {
        return None;
    }
    // The timer gets the time left, not an instant: tokio measures it on its own clock, so
    // however far the counter has drifted from tokio's clock since the anchor, only the
    // drift over this one wait counts.
    let mut sleep = std::pin::pin!(tokio::time::sleep(Duration::from_nanos(left)));
    // The deadline is checked before each poll, not only when the timer fires: the timer
    // wheel notices time only when the runtime gets control back, which a future that
    // blocked past its deadline did not give it.
    std::future::poll_fn(|cx| {
        if sleep.as_mut().poll(cx).is_ready() || now() >= deadline {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
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

    #[test]
    fn an_origin_reads_a_clock_behind_it_as_a_new_start() {
        let origin = Origin::new(ANCHOR_TICK + 1_000);
        assert_eq!(origin.elapsed(ANCHOR_TICK + 1_500), 500);
        assert_eq!(origin.elapsed(ANCHOR_TICK + 200), 0);
        assert_eq!(origin.elapsed(ANCHOR_TICK + 300), 100);
        origin.restart(ANCHOR_TICK + 300, 7_000);
        assert_eq!(origin.elapsed(ANCHOR_TICK + 400), 7_100);
    }

    #[test]
    fn the_counter_and_an_unpaused_tokio_clock_agree() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let tokio = from_tokio(tokio::time::Instant::now());
            let ours = now();
            assert!(ours.abs_diff(tokio) < 50_000_000, "{ours} vs {tokio}");
        });
    }

    #[test]
    fn on_the_real_clock_time_runs_in_a_paused_runtime_and_the_choice_is_restored() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let paused = now();
            let real = on_real_clock(now);
            std::thread::sleep(Duration::from_millis(5));
            assert!(on_real_clock(now) - real >= 5_000_000, "the real clock ran");
            assert_eq!(now(), paused, "the paused clock did not, and is read again");
            let unwound = std::panic::catch_unwind(|| on_real_clock(|| panic!("inside")));
            assert!(unwound.is_err());
            assert_eq!(now(), paused, "restored after a panic too");
        });
    }

    #[test]
    fn a_paused_clock_is_followed_exactly() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let start = now();
            tokio::time::advance(Duration::from_secs(150)).await;
            assert_eq!(now() - start, 150_000_000_000);
            assert_eq!(now(), from_tokio(tokio::time::Instant::now()));
        });
    }
}
