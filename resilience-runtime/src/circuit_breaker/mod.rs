//! The circuit breaker: stop calling a downstream that keeps failing, probe it after a while.

mod config;
mod permit;
mod policy;
mod state;
mod stats;
mod window;

pub use config::{CircuitBreakerConfig, SlidingWindow};
#[cfg(feature = "tower")]
pub(crate) use permit::Call;
pub use permit::{CallPermit, OwnedCallPermit};
pub use policy::CircuitBreaker;
pub use stats::{CircuitBreakerStats, CircuitState, WindowStats};
