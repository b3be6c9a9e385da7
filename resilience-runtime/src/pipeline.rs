//! How policies stack: rejections travel beside the body's errors until the outermost layer.
//!
//! A stacked call is a chain of layers, each a policy calling the next. Inside the chain the
//! body's error `E` and a policy's [`Error`] stay apart in [`Failure`], so that a retry can
//! tell a `CircuitOpen` (do not retry) from a user error, and a breaker can count an inner
//! `Timeout` but not an inner `RateLimited`. A body's error that carries a rejection from a
//! guarded fn it called ([`AsRejection`](crate::AsRejection), read by [`body_with`]) is
//! [`Failure::Carried`]: the layers read the rejection, the caller gets the error. Only the
//! outermost layer turns a rejection into the caller's `E` through `From<Error>`
//! ([`finish`]).
//!
//! Each layer's `layer` method takes the next layer as a closure that makes its future:
//! `FnOnce() -> impl Future<Output = Outcome<T, E>>`. A retry calls its closure once per
//! attempt, so it takes `FnMut(C) -> impl Future<Output = (C, Outcome<T, E>)>`: `C` holds
//! the exclusive references the body needs (`&mut self`, `&mut` arguments), moved into each
//! attempt and handed back at its end, because a closure cannot lend out what it captured.
//! Inside an attempt the layers below the retry get reborrows, so a timeout below a retry
//! can drop an attempt without losing what the next attempt must borrow.
//!
//! Plain (non-async) code stacks the same way with each policy's `layer_blocking`, whose
//! closures return the `Outcome` itself ([`body_blocking`] runs the body); every policy but
//! the timeout has one, since a thread cannot be cancelled.
//!
//! ```
//! use std::time::Duration;
//! use resilience::pipeline::{body, display, finish};
//! use resilience::{CircuitBreaker, CircuitBreakerConfig, Retry, RetryConfig, Timeout, TimeoutConfig};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), resilience::ConfigError> {
//! let breaker = CircuitBreaker::new("api", CircuitBreakerConfig::default())?;
//! let retry = Retry::new("api", RetryConfig::default())?;
//! let timeout = Timeout::new("api", TimeoutConfig::DEFAULT.duration(Duration::from_secs(1)))?;
//!
//! // #[circuit_breaker] #[retry] #[timeout("1s")], by hand: outermost first.
//! let answer: Result<u32, resilience::Error> = finish(
//!     breaker
//!         .layer(|_| true, || {
//!             retry.layer((), |_| true, |_| None, display, |()| async {
//!                 let outcome = timeout.layer(|| body(async { Ok(7) })).await;
//!                 ((), outcome)
//!             })
//!         })
//!         .await,
//! );
//! assert_eq!(answer, Ok(7));
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::Error;

/// Why a layer's call did not produce a value.
///
/// ```
/// use resilience::pipeline::Failure;
/// let rejected: Failure<std::io::Error> = Failure::Rejected(resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 2 });
/// assert!(matches!(rejected, Failure::Rejected(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure<E> {
    /// A policy turned the call away or cut it short.
    Rejected(Error),
    /// The body returned this error.
    Inner(E),
    /// The body returned `error`, which carries `rejection` from a guarded fn it called
    /// (see [`AsRejection`](crate::AsRejection)): the layers read it as that rejection, the
    /// caller receives `error` unchanged.
    Carried {
        /// The body's error, as it returned it.
        error: E,
        /// The rejection it carries.
        rejection: Error,
    },
}

impl<E> Failure<E> {
    /// The body's error, as [`Inner`](Failure::Inner) or, when it carries a rejection that
    /// `rejection` finds, as [`Carried`](Failure::Carried).
    ///
    /// ```
    /// use resilience::pipeline::Failure;
    /// use resilience::AsRejection;
    /// let full = resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 2 };
    /// let failure = Failure::of(anyhow::Error::from(full), AsRejection::as_rejection);
    /// assert!(matches!(failure, Failure::Carried { .. }));
    /// let failure = Failure::of(anyhow::anyhow!("disk full"), AsRejection::as_rejection);
    /// assert!(matches!(failure, Failure::Inner(_)));
    /// ```
    pub fn of(error: E, rejection: impl FnOnce(&E) -> Option<&Error>) -> Self {
        match rejection(&error).cloned() {
            Some(rejection) => Failure::Carried { error, rejection },
            None => Failure::Inner(error),
        }
    }

    /// The rejection the layers read this failure as: a policy's own, or the one the body's
    /// error carries.
    ///
    /// ```
    /// use resilience::pipeline::Failure;
    /// let inner: Failure<&str> = Failure::Inner("disk full");
    /// assert_eq!(inner.rejection(), None);
    /// ```
    pub fn rejection(&self) -> Option<&Error> {
        match self {
            Failure::Rejected(rejection) | Failure::Carried { rejection, .. } => Some(rejection),
            Failure::Inner(_) => None,
        }
    }

    /// The caller's error: the body's own, or the rejection converted with `From`.
    ///
    /// ```
    /// use resilience::pipeline::Failure;
    /// let failure: Failure<anyhow::Error> = Failure::Rejected(resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 2 });
    /// assert_eq!(failure.into_error().to_string(), "bulkhead `db` is full (max_concurrent = 2)");
    /// ```
    pub fn into_error(self) -> E
    where
        E: From<Error>,
    {
        match self {
            Failure::Rejected(error) => E::from(error),
            Failure::Inner(error) | Failure::Carried { error, .. } => error,
        }
    }
}

/// A value or the reason there is none, as it travels between layers.
pub type Outcome<T, E> = Result<T, Failure<E>>;

/// The return type of a guarded function: `Result<T, E>` where `E` can carry a rejection.
#[diagnostic::on_unimplemented(
    message = "a guarded fn must return `Result<T, E>` where `E: From<resilience::Error>`, not `{Self}`",
    label = "this return type cannot carry a rejection",
    note = "`anyhow::Error`, `Box<dyn std::error::Error + Send + Sync>` and `resilience::Error` work as they are; an error enum adds a variant with `#[from] resilience::Error`"
)]
///
/// ```
/// use resilience::pipeline::Guarded;
/// fn carries_rejections<R: Guarded>() {}
/// carries_rejections::<Result<u8, resilience::Error>>();
/// carries_rejections::<anyhow::Result<String>>();
/// ```
pub trait Guarded {
    /// The value of a successful call.
    type Ok;
    /// The caller's error type.
    type Err: From<Error>;
    /// Splits into the two cases.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// The outermost layer's conversion: a rejection becomes the caller's error.
    fn from_outcome(outcome: Outcome<Self::Ok, Self::Err>) -> Self;
}

impl<T, E: From<Error>> Guarded for Result<T, E> {
    type Ok = T;
    type Err = E;

    fn into_result(self) -> Result<T, E> {
        self
    }

    fn from_outcome(outcome: Outcome<T, E>) -> Self {
        finish(outcome)
    }
}

/// Runs the body of a guarded call, keeping its error apart from rejections.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use resilience::pipeline::{body, Failure};
/// let outcome = body(async { Err::<(), _>("disk full") }).await;
/// assert_eq!(outcome, Err(Failure::Inner("disk full")));
/// # }
/// ```
pub async fn body<T, E>(body: impl Future<Output = Result<T, E>>) -> Outcome<T, E> {
    body.await.map_err(Failure::Inner)
}

/// Runs the body of a guarded call like [`body`], and reads each error with `rejection`: one
/// that carries a rejection becomes [`Failure::Carried`], so the layers above treat it as
/// that rejection. The attributes pass what [`AsRejection`](crate::AsRejection) says where
/// the error type implements it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use resilience::pipeline::{body_with, Failure};
/// use resilience::AsRejection;
/// let open = resilience::Error::CircuitOpen { name: "db".into(), state: resilience::CircuitState::Open, retry_after: std::time::Duration::from_secs(1) };
/// let outcome = body_with(async { Err::<(), _>(anyhow::Error::from(open)) }, AsRejection::as_rejection).await;
/// assert!(matches!(outcome, Err(Failure::Carried { .. })));
/// # }
/// ```
pub async fn body_with<T, E>(
    body: impl Future<Output = Result<T, E>>,
    rejection: impl FnOnce(&E) -> Option<&Error>,
) -> Outcome<T, E> {
    body.await.map_err(|error| Failure::of(error, rejection))
}

/// Runs the body of a guarded plain (non-async) call, keeping its error apart from
/// rejections: [`body`] for the policies' `layer_blocking` methods.
///
/// ```
/// use resilience::pipeline::{body_blocking, Failure};
/// let outcome = body_blocking(|| Err::<(), _>("disk full"));
/// assert_eq!(outcome, Err(Failure::Inner("disk full")));
/// ```
pub fn body_blocking<T, E>(body: impl FnOnce() -> Result<T, E>) -> Outcome<T, E> {
    body().map_err(Failure::Inner)
}

/// Runs the body of a guarded plain (non-async) call like [`body_blocking`], and reads each
/// error with `rejection`, as [`body_with`] does.
///
/// ```
/// use resilience::pipeline::{body_with_blocking, Failure};
/// use resilience::AsRejection;
/// let full = resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 2 };
/// let outcome = body_with_blocking(|| Err::<(), _>(anyhow::Error::from(full)), AsRejection::as_rejection);
/// assert!(matches!(outcome, Err(Failure::Carried { .. })));
/// ```
pub fn body_with_blocking<T, E>(
    body: impl FnOnce() -> Result<T, E>,
    rejection: impl FnOnce(&E) -> Option<&Error>,
) -> Outcome<T, E> {
    body().map_err(|error| Failure::of(error, rejection))
}

/// The outermost layer's conversion: a rejection becomes the caller's error.
///
/// ```
/// use resilience::pipeline::{finish, Failure};
/// let rejected: Result<(), resilience::Error> = finish(Err(Failure::Rejected(resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 1 })));
/// assert!(rejected.is_err());
/// ```
pub fn finish<T, E: From<Error>>(outcome: Outcome<T, E>) -> Result<T, E> {
    outcome.map_err(Failure::into_error)
}

/// A predicate as a function pointer of the guarded fn's error type, so that a `failure_if`
/// or `retry_if` of the wrong type is reported once, at its path.
///
/// ```
/// use resilience::pipeline::predicate;
/// fn is_timeout(e: &resilience::Error) -> bool { matches!(e, resilience::Error::Timeout { .. }) }
/// let f = predicate::<Result<(), resilience::Error>>(is_timeout);
/// assert!(!f(&resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }));
/// ```
pub fn predicate<R: Guarded>(f: fn(&R::Err) -> bool) -> fn(&R::Err) -> bool {
    f
}

/// A `retry_after` hook as a function pointer of the guarded fn's error type, so that a hook
/// of the wrong type is reported once, at its path.
///
/// ```
/// use std::time::Duration;
/// use resilience::pipeline::hint;
/// fn wait_on(e: &resilience::Error) -> Option<Duration> { e.retry_after() }
/// let f = hint::<Result<(), resilience::Error>>(wait_on);
/// assert_eq!(f(&resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }), None);
/// ```
pub fn hint<R: Guarded>(f: fn(&R::Err) -> Option<Duration>) -> fn(&R::Err) -> Option<Duration> {
    f
}

/// Writes an error with its `Display`: the `describe` of a hand-built
/// [`Retry::layer`](crate::Retry::layer), for the `error` of its [events](crate::events).
///
/// ```
/// use std::fmt;
/// struct Shown<'a>(&'a anyhow::Error);
/// impl fmt::Display for Shown<'_> {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { resilience::pipeline::display(self.0, f) }
/// }
/// assert_eq!(Shown(&anyhow::anyhow!("disk full")).to_string(), "disk full");
/// ```
///
/// # Errors
///
/// The error of the formatter it writes to.
pub fn display<E: fmt::Display>(error: &E, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Display::fmt(error, f)
}

/// How a breaker reads the outcome of a call it let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The downstream answered: counts towards closing.
    Success,
    /// The downstream failed: counts towards opening.
    Failure,
    /// Says nothing of the downstream (shed locally, or dropped): counts as neither.
    Neither,
}

impl Verdict {
    pub(crate) fn of<T, E>(outcome: &Outcome<T, E>, is_failure: impl Fn(&E) -> bool) -> Self {
        match outcome {
            Ok(_) => Verdict::Success,
            // Only `Inner` carries no rejection, so the predicate is asked of it alone.
            Err(failure) => Verdict::of_error(failure.rejection(), || match failure {
                Failure::Inner(error) => is_failure(error),
                Failure::Rejected(_) | Failure::Carried { .. } => true,
            }),
        }
    }

    /// The verdict on an error that carries `rejection`, or none; `is_failure` says
    /// whether an error that carries none counts as a failure.
    pub(crate) fn of_error(rejection: Option<&Error>, is_failure: impl FnOnce() -> bool) -> Self {
        match rejection {
            Some(Error::Timeout { .. }) => Verdict::Failure,
            Some(_) => Verdict::Neither,
            None if is_failure() => Verdict::Failure,
            None => Verdict::Success,
        }
    }
}
