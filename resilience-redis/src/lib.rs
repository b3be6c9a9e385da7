//! Circuit breakers and rate limiters of [`resilience`](https://docs.rs/resilience) shared
//! by every process of a service through Redis: one breaker that opens for the whole
//! fleet, one quota for the whole fleet. The attributes do not change; at start-up, each
//! process makes names shared:
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
//! #[resilience::circuit_breaker(name = "payments", failure_threshold = 20)]
//! async fn charge() -> Result<(), resilience::Error> { Ok(()) }
//!
//! #[resilience::rate_limit(name = "partner-api", max_requests = 100, window = "1s")]
//! async fn call_partner() -> Result<(), resilience::Error> { Ok(()) }
//!
//! let redis = resilience::redis::Backend::connect("redis://127.0.0.1:6379").await?;
//! redis.share_circuit_breaker("payments")?; // every replica: one breaker
//! redis.share_rate_limiter("partner-api")?; // every replica: one quota
//! # Ok(()) }
//! ```
//!
//! - **Breaker.** Failures are counted for the fleet by a Lua script; at
//!   `failure_threshold` it opens for everyone, until a deadline on Redis's own clock
//!   (`TIME`). Each process keeps a view of the fleet's state: a closed breaker with no
//!   failure counted sends nothing to Redis on success. Transitions are pushed through
//!   pub/sub and read again every [`Settings::refresh`] as a backstop. Half-open admits at
//!   most `half_open_max_calls` probes across the fleet, each holding a lease that expires
//!   after [`Settings::probe_lease`]; a lease belongs to its episode, so a late outcome
//!   never lands in a later one.
//! - **Limiter.** One GCRA script per admission: the token bucket's exact equivalent in
//!   one integer per quota, on Redis's clock. Every path of a shared limiter draws on the
//!   fleet's quota: async calls and the tower layer await the script; plain fns block
//!   their thread for it, at most [`Settings::timeout`]; `try_acquire`, which must not
//!   wait, hands out permits leased from the fleet ahead of time (see
//!   [`Backend::share_limiter`] for the lease's bound). A keyed limiter is shared key by
//!   key, one quota per user key ([`Backend::share_keyed_limiter`]).
//! - **When Redis is slow or gone.** No call waits on Redis longer than
//!   [`Settings::timeout`] (50ms by default); a name then follows its [`WhenUnavailable`]
//!   mode, with one event and one `tracing` warning, and goes back to shared state by
//!   itself once Redis answers.
//!
//! Keys are `<prefix>{<name>}:<what>`: a prefix per service, the name as a Redis Cluster
//! hash tag (one instance's keys share a slot), and a TTL on every key; a keyed limiter's
//! are `<prefix>{<name>:<key>}:keyed-quota`, one per user key.
//!
//! With the feature `tls` (`redis-tls` on `resilience`), `rediss://` URLs connect over
//! TLS (rustls), trusting the public roots or, with [`Settings::tls`], a CA of your own,
//! and showing a client certificate to a server that asks for one.

#![warn(missing_docs)]

mod backend;
mod breaker;
mod error;
mod health;
mod keys;
mod lease;
mod limiter;
mod scripts;
mod settings;
#[cfg(feature = "tls")]
mod tls;

pub use backend::Backend;
pub use error::{Error, ErrorKind};
pub use settings::{Settings, WhenUnavailable};
#[cfg(feature = "tls")]
pub use tls::Tls;
