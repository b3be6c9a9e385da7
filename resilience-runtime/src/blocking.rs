//! The waits of plain (non-async) guarded fns: they block the thread, on the real clock.
//!
//! A plain fn cannot await, so its retry backoff, its rate limiter's `max_wait` and its
//! bulkhead's queue block the calling thread: [`sleep`] with `std::thread::sleep`, and
//! [`wait`] by polling the same future an async caller awaits, parking the thread between
//! polls. Sync and async callers of one instance therefore wait in one queue and are
//! served in one order.
//!
//! Called from async code, these waits block the runtime's thread: a bulkhead slot held
//! by a task of a current-thread runtime cannot come back while its only thread waits, so
//! that wait ends at `max_wait`. There is no cheap way to tell such a thread from one of
//! the runtime's `spawn_blocking` threads, which is where a plain guarded fn belongs in
//! async code (both have the runtime's context), so this is documented, not refused.
//!
//! These waits run on std's clock, never on tokio's: a paused tokio clock moves only when
//! every task of its runtime waits, which a blocked thread never lets happen. The policies'
//! own clock readings on these paths are real too (`time::on_real_clock`).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// Blocks the thread for `duration`.
pub(crate) fn sleep(duration: Duration) {
    if !duration.is_zero() {
        thread::sleep(duration);
    }
}

/// Polls `future` on this thread until it is ready or `limit` has passed, parked between
/// polls; `None` when time ran out, after dropping the future (which is how a queued
/// waiter leaves its queue).
pub(crate) fn wait<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    // A limit too far to represent is no limit.
    let deadline = Instant::now().checked_add(limit);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match deadline {
            None => thread::park(),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                // A spurious or stale wake-up only costs one more poll.
                thread::park_timeout(left);
            }
        }
    }
}

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}
