//! Keyed instances: one circuit breaker or rate limiter per key (per user, per host) under
//! one name and one config, in bounded memory.
//!
//! Cut by concern: `config` (the bound and what to do at it), `key` (what may key an
//! instance, and how it is stored), `shard` (the bounded map and its eviction order),
//! `policy` (the keyed instance's API and its pipeline layers), `stats` (what it reports).

mod config;
mod key;
mod policy;
mod shard;
mod stats;

pub use config::{KeyedConfig, WhenFull};
pub use key::InstanceKey;
#[doc(hidden)]
pub use key::{KeyOf, KeyOfOwned, KeyOfRef};
pub use policy::{Keyed, KeyedCircuitBreaker, KeyedRateLimiter, PerKey};
pub use stats::KeyedStats;
