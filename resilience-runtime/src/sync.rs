//! The atomics of the lock-free state machines; loom's under `--cfg loom`, so the model
//! checker explores every interleaving of them (see the `loom` tests beside each policy).

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::AtomicU64;
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::AtomicU64;

/// What the concurrency tests run on: loom's model checker under `--cfg loom`, which tries
/// every interleaving of a case; otherwise real threads, with each case repeated.
#[cfg(test)]
pub(crate) mod model {
    #[cfg(loom)]
    pub(crate) use loom::{model, sync::Arc, thread};
    #[cfg(not(loom))]
    pub(crate) use std::{sync::Arc, thread};

    /// Runs `case` two thousand times on real threads: a quick check in the default suite.
    #[cfg(not(loom))]
    pub(crate) fn model(case: impl Fn() + Sync + Send + 'static) {
        for _ in 0..2000 {
            case();
        }
    }
}
