//! The runtime of [`resilience`](https://docs.rs/resilience): the policies, the
//! registry of named instances, the error type and the pipeline that stacks policies.
//!
//! Depend on `resilience`, which re-exports all of this together with the attributes.

#![warn(missing_docs)]

mod blocking;
mod bulkhead;
mod circuit_breaker;
#[cfg(feature = "config")]
pub mod config;
mod counter;
mod error;
pub mod events;
mod fallback;
mod hedge;
mod keyed;
mod kind;
mod live;
pub mod metrics;
pub mod pipeline;
mod rate_limit;
mod registry;
mod retry;
mod setters;
pub mod shared;
mod sync;
mod time;
mod timeout;
#[cfg(feature = "tower")]
pub mod tower;

pub use bulkhead::{Bulkhead, BulkheadConfig, BulkheadPermit, BulkheadStats, OwnedBulkheadPermit};
pub use circuit_breaker::{
    CallPermit, CircuitBreaker, CircuitBreakerConfig, CircuitBreakerStats, CircuitState,
    OwnedCallPermit, SlidingWindow, WindowStats,
};
pub use error::{AsRejection, ConfigError, Error, InvalidConfig};
pub use fallback::{BlockingFallbackChain, Fallback, FallbackChain, FallbackConfig, FallbackStats};
pub use hedge::{Hedge, HedgeConfig, HedgeStats};
#[doc(hidden)]
pub use inventory;
pub use keyed::{
    InstanceKey, Keyed, KeyedCircuitBreaker, KeyedConfig, KeyedRateLimiter, KeyedStats, PerKey,
    WhenFull,
};
#[doc(hidden)]
pub use keyed::{KeyOf, KeyOfOwned, KeyOfRef};
pub use kind::Kind;
pub use rate_limit::{Algorithm, RateLimiter, RateLimiterConfig, RateLimiterStats};
pub use registry::{registry, Conflict, Instance, Policy, PolicyConfig, Registry, Snapshot, Stats};
#[doc(hidden)]
pub use registry::{CallSite, Declaration, Declarations, Location};
pub use retry::{parse_retry_after, Backoff, Jitter, Retry, RetryConfig, RetryStats};
pub use timeout::{Timeout, TimeoutConfig, TimeoutStats};
