//! Bulkhead: cap how many calls run at once, and how long and how many of the others queue.

mod config;
mod permit;
mod policy;
mod slots;
mod stats;

pub use config::BulkheadConfig;
pub use permit::{BulkheadPermit, OwnedBulkheadPermit};
pub use policy::Bulkhead;
pub use stats::BulkheadStats;
