//! The atomics and locks of the lock-free state machines; loom's under `--cfg loom`, so the
//! model checker explores every interleaving of them (see the `loom` tests beside each
//! policy).

#[cfg(all(test, loom))]
pub(crate) use loom::sync::{
    atomic::{AtomicI64, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize},
    Mutex, MutexGuard,
};
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::{
    atomic::{AtomicI64, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize},
    Mutex, MutexGuard,
};

/// Lets another thread run while this one waits for it (a window being rolled on).
pub(crate) fn spin() {
    #[cfg(all(test, loom))]
    loom::thread::yield_now();
    #[cfg(not(all(test, loom)))]
    std::thread::yield_now();
}

/// What the concurrency tests run on: loom's model checker under `--cfg loom`, which tries
/// every interleaving of a case; otherwise real threads, with each case repeated.
#[cfg(test)]
pub(crate) mod model {
    #[cfg(loom)]
    pub(crate) use loom::{future::block_on, model, sync::Arc, thread};
    #[cfg(not(loom))]
    pub(crate) use std::{sync::Arc, thread};

    /// Runs `case` two thousand times on real threads: a quick check in the default suite.
    #[cfg(not(loom))]
    pub(crate) fn model(case: impl Fn() + Sync + Send + 'static) {
        for _ in 0..2000 {
            case();
        }
    }

    /// Polls `future` to completion on this thread, parking between polls.
    #[cfg(not(loom))]
    pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
        use std::sync::Arc;
        use std::task::{Context, Poll, Wake};
        use std::thread::Thread;

        struct Unpark(Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Arc::new(Unpark(std::thread::current())).into();
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                return output;
            }
            std::thread::park();
        }
    }
}
