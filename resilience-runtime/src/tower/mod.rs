//! tower [`Layer`](tower_layer::Layer)s over the registry's named instances (feature
//! `tower`).
//!
//! Each policy is also a layer for tower's `ServiceBuilder` (axum, tonic, hyper,
//! reqwest-middleware style clients), built from the instance an attribute of the same
//! name uses, so a route and an annotated fn naming `"payments"` share one breaker, one
//! snapshot row, one set of counters:
//!
//! ```
//! use std::time::Duration;
//! use resilience::tower::{CircuitBreakerLayer, TimeoutLayer};
//! use resilience::{circuit_breaker, registry, Kind, Timeout, TimeoutConfig};
//! use tower::{service_fn, BoxError, Service, ServiceBuilder, ServiceExt};
//!
//! #[circuit_breaker(name = "docs::tower::payments", failure_threshold = 5)]
//! async fn refund(cents: u64) -> Result<u64, resilience::Error> { Ok(cents) }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
//! let timeout = Timeout::new("charge", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2)))?;
//! let mut charge = ServiceBuilder::new()
//!     .layer(CircuitBreakerLayer::named("docs::tower::payments")?) // the attribute's instance
//!     .layer(TimeoutLayer::new(timeout.into()))                    // an instance by hand
//!     .service(service_fn(|cents: u64| async move { Ok::<_, BoxError>(cents) }));
//!
//! assert_eq!(charge.ready().await?.call(250).await?, 250);
//! assert_eq!(refund(100).await?, 100);
//! let shared = registry().snapshot();
//! assert!(shared.get(Kind::CircuitBreaker, "docs::tower::payments").is_some());
//! let breaker = registry().circuit_breaker("docs::tower::payments").unwrap();
//! assert_eq!(breaker.stats().calls, 2, "one instance, counting both");
//! # Ok(()) }
//! ```
//!
//! # Building a layer
//!
//! - `XLayer::named(name)` takes the registry's instance `name`: one an attribute
//!   declares (known from the start of `main`), or one created by
//!   [`Registry::get_or_create`](crate::Registry::get_or_create) or
//!   [`Registry::configure`](crate::Registry::configure)d before. A name nothing declared
//!   or created is an error, [`ConfigError::Undeclared`](crate::ConfigError::Undeclared)
//!   with the nearest declared name, not a fresh instance: a typo must not give a route a
//!   breaker of its own that no attribute shares and no operator looks for. For an
//!   instance only layers use, create it first (`registry().get_or_create(name, config)?`),
//!   then name it.
//! - `XLayer::new(instance)` takes any `Arc` of an instance: made by hand (`X::new(name,
//!   config)?.into()`, outside the registry) or from the registry.
//!
//! A layer built by name borrows the registry's instance for good, since the process-wide
//! registry never lets one go: its calls copy a reference and count nothing. One built with
//! `new` holds the `Arc`, and each call that needs the instance past `call` (a breaker's,
//! a retry's, a bulkhead's slot, a timeout's, a rate-limited call while it waits) clones
//! it, so that the instance goes with its last holder: two atomic read-modify-writes a
//! call more.
//!
//! # Order and rejections
//!
//! Layers apply in the order written, the first outermost, as the attributes do, and by
//! the same rules: each layer reads an inner layer's rejection as the attributes read one,
//! whether it arrives as the inner service's error itself or anywhere in its
//! [`source`](std::error::Error::source) chain ([`AsRejection`]). A
//! retry above a breaker does not retry `CircuitOpen`; a breaker above a timeout counts
//! its `Timeout` as a failure but not an inner `RateLimited` or `BulkheadFull`.
//!
//! # tower's conventions
//!
//! - Every service's error is [`BoxError`]: a rejection is a boxed
//!   [`resilience::Error`](crate::Error) (`error.downcast_ref::<resilience::Error>()`), and
//!   the inner service's error is passed through as it was, converted with `Into<BoxError>`
//!   (a `BoxError` stays the same box).
//! - Readiness: a [`BulkheadService`] reserves its slot in `poll_ready`, as tower's
//!   `ConcurrencyLimit` does; the reservation is given back if the service is dropped
//!   before `call`, and a clone starts without one. A breaker and a rate limiter decide in
//!   `call` (see their types for why), so a service made ready is never pinned to a
//!   decision taken before it was called. An open breaker answers ready without asking
//!   the services below it, and rejects the call that follows: a bulkhead below it
//!   reserves no slot for a call it would reject.
//! - Services are `Clone` when the inner one is, and clones share the instance.
//! - [`RetryService`] needs `Req: Clone` to send the request again, as tower's
//!   `Policy::clone_request` does.
//! - On the axum side, a layer's errors become responses through axum's
//!   `HandleErrorLayer`; see the README's "tower" section for a 503 with `Retry-After` for
//!   an open breaker and a 429 for a rate limit.

mod bulkhead;
mod circuit_breaker;
mod rate_limit;
mod retry;
mod timeout;

pub use bulkhead::{BulkheadFuture, BulkheadLayer, BulkheadService};
pub use circuit_breaker::{CircuitBreakerFuture, CircuitBreakerLayer, CircuitBreakerService};
pub use rate_limit::{RateLimitFuture, RateLimitLayer, RateLimitService};
pub use retry::{RetryFuture, RetryLayer, RetryService};
pub use timeout::{TimeoutFuture, TimeoutLayer, TimeoutService};

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::pipeline::Failure;
use crate::{AsRejection, Error};

/// An instance as a layer, its services and their response futures hold it.
///
/// A layer built by name borrows the process-wide registry's instance for good (the
/// registry never lets one go), so a call copies a reference and counts nothing; one built
/// from an `Arc` clones the `Arc` into each call that holds the instance past `call`, two
/// atomic read-modify-writes a call, so that the instance goes when its last holder does.
enum Held<P: 'static> {
    Forever(&'static Arc<P>),
    Counted(Arc<P>),
}

impl<P> Held<P> {
    fn arc(&self) -> &Arc<P> {
        match self {
            Held::Forever(instance) => instance,
            Held::Counted(instance) => instance,
        }
    }
}

impl<P> Clone for Held<P> {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Held::Forever(instance) => Held::Forever(instance),
            Held::Counted(instance) => Held::Counted(Arc::clone(instance)),
        }
    }
}

impl<P> Deref for Held<P> {
    type Target = P;

    #[inline]
    fn deref(&self) -> &P {
        self.arc()
    }
}

impl<P: fmt::Debug> fmt::Debug for Held<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.arc().fmt(f)
    }
}

/// The error of every service here, tower's `BoxError`: a rejection is a boxed
/// [`resilience::Error`](crate::Error), any other error is the inner service's.
///
/// ```
/// use resilience::tower::BoxError;
/// let error: BoxError = resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 2 }.into();
/// assert!(error.downcast_ref::<resilience::Error>().is_some());
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads an inner service's error as the pipeline does: a rejection of an inner layer
/// (the error itself is a `resilience::Error`) is that rejection, one carried in its
/// source chain is read as it but kept, anything else is the inner service's own.
fn failure(error: BoxError) -> Failure<BoxError> {
    match error.downcast::<Error>() {
        Ok(rejection) => Failure::Rejected(*rejection),
        Err(error) => Failure::of(error, AsRejection::as_rejection),
    }
}
