//! What the policies report as it happens: breaker transitions, rejections, retries,
//! timeouts and waits, as [`Event`]s to subscribers and as `tracing` events.
//!
//! # Subscribing
//!
//! [`registry().subscribe()`](crate::Registry::subscribe) receives the events of every
//! instance in the process; each policy's `subscribe()` (for example
//! [`CircuitBreaker::subscribe`](crate::CircuitBreaker::subscribe)) those of that instance
//! alone. A [`Subscription`] is the receiving end of a `tokio::sync::broadcast` channel of
//! [`CAPACITY`] events:
//!
//! - a call never waits for a subscriber: sending to a full channel overwrites its oldest
//!   event, and a subscriber that fell behind is told how many it missed
//!   ([`RecvError::Lagged`]) before it reads on from the oldest event still held;
//! - a callback would run on the caller's task, inside the call it reports on, where a
//!   slow or panicking callback is the caller's delay or crash; a channel moves that work
//!   to a task the subscriber owns, read as tokio's own channels are read (`recv().await`
//!   in a loop, `try_recv()` to drain);
//! - every subscriber receives every event, in the order the instance emitted them.
//!
//! # Cost
//!
//! An event is built only for a subscriber of its instance or of the registry: each
//! emission point first loads one process-wide count of live subscriptions (a relaxed
//! atomic load) and stops there when it is zero, then looks for a subscriber of its own
//! instance or of the registry before it builds anything. Emission points are on the paths where a
//! policy already does more than on success (a transition, a rejection, a retry's wait, a
//! timeout, a wait for a slot or a permit), so a call that succeeds at once emits nothing.
//!
//! # tracing
//!
//! The same events are `tracing` events, whatever subscribes here, with the fields `name`
//! and `kind` and, by event, `from`, `to`, `attempt`, `delay_ms`, `error`,
//! `retry_after_ms`, `after_ms` and `waited_ms` (`kind`, `from` and `to` as the `Display`
//! of [`Kind`](crate::Kind) and [`CircuitState`](crate::CircuitState) write them:
//! `circuit breaker`, `half-open`). Each kind has its own target, so an
//! `EnvFilter` can select them (`RUST_LOG=resilience=debug`,
//! `resilience::circuit_breaker=info`):
//!
//! | target | event | level |
//! |---|---|---|
//! | `resilience::circuit_breaker` | opened (or forced open) | `WARN` |
//! | `resilience::circuit_breaker` | half-open, closed, disabled | `INFO` |
//! | `resilience::circuit_breaker` | call rejected | `DEBUG` |
//! | `resilience::retry` | attempt failed, retrying after `delay_ms` | `DEBUG` |
//! | `resilience::timeout` | call timed out | `DEBUG` |
//! | `resilience::bulkhead` | call rejected | `DEBUG` |
//! | `resilience::bulkhead` | call waited for a slot | `TRACE` |
//! | `resilience::rate_limit` | call rejected | `DEBUG` |
//! | `resilience::rate_limit` | call waited for a permit | `TRACE` |
//! | the kind's target | reconfigured, with the `changes` field | `INFO` |
//!
//! A transition or a reload is rare and changes what every caller sees, so it is logged
//! where an operator looks by default; the others happen per call, as often as the traffic, and
//! stay below `INFO`. Their fields are computed only when a `tracing` subscriber is
//! interested in the event (the error's text included).
//!
//! ```
//! use resilience::events::{Detail, Event};
//! use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let breaker = CircuitBreaker::new("inventory", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
//! let mut events = breaker.subscribe();
//! breaker.record_failure();
//! let event = events.recv().await.unwrap();
//! assert_eq!(&*event.name, "inventory");
//! assert_eq!(event.detail, Detail::StateChanged { from: CircuitState::Closed, to: CircuitState::Open });
//! # }
//! ```

mod channel;
mod emitter;
mod event;
pub(crate) mod trace;

pub(crate) use channel::subscribe_all;
pub use channel::{Subscription, CAPACITY};
pub(crate) use emitter::Emitter;
pub use event::{Detail, Event};
pub use tokio::sync::broadcast::error::{RecvError, TryRecvError};
