//! Rate limit: at most `max_requests` calls per `window`.

mod config;
mod policy;
mod stats;
mod token_bucket;
mod window;

pub use config::{Algorithm, RateLimiterConfig};
pub use policy::RateLimiter;
pub use stats::RateLimiterStats;
