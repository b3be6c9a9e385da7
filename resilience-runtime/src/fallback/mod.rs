//! Fallback: answer from somewhere else when a call fails, trying a chain of alternatives
//! in order.

mod blocking;
mod chain;
mod config;
mod policy;
mod stats;

pub use blocking::BlockingFallbackChain;
pub use chain::FallbackChain;
pub use config::FallbackConfig;
pub use policy::Fallback;
pub use stats::FallbackStats;
