//! Retry: run the call again after a failure, waiting longer each time.

mod backoff;
mod config;
mod policy;
mod retry_after;
mod stats;

pub use backoff::{Backoff, Jitter};
pub use config::RetryConfig;
#[cfg(feature = "tower")]
pub(crate) use policy::Budget;
pub use policy::Retry;
pub use retry_after::parse_retry_after;
pub use stats::RetryStats;
