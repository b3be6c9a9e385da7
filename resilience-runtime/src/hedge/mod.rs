//! Hedging: when a call is slow to answer, start another one, and take the first success.

mod config;
mod policy;
mod stats;

pub use config::HedgeConfig;
pub use policy::Hedge;
pub use stats::HedgeStats;
