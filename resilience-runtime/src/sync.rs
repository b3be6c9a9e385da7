//! The atomics of the lock-free state machines; loom's under `--cfg loom`, so the model
//! checker explores every interleaving of them (see the `loom` tests beside each policy).

#[cfg(all(test, loom))]
pub(crate) use loom::sync::atomic::AtomicU64;
#[cfg(not(all(test, loom)))]
pub(crate) use std::sync::atomic::AtomicU64;
