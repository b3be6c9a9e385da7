//! How policies stack: rejections travel beside the body's errors until the outermost layer.
//!
//! A stacked call is a chain of layers, each a policy calling the next. Inside the chain the
//! body's error `E` and a policy's [`Error`] stay apart in [`Failure`], so that a retry can
//! tell a `CircuitOpen` (do not retry) from a user error, and a breaker can count an inner
//! `Timeout` but not an inner `RateLimited`. Only the outermost layer turns a rejection into
//! the caller's `E` through `From<Error>` ([`finish`]).
//!
//! Each layer takes the next one as a closure from an input `I` to an [`Attempt`]. For most
//! calls `I` is `()`. Under a retry whose body needs `&mut` access (a `&mut self` method),
//! `I` carries those exclusive references and every attempt hands them back, so the next
//! attempt can borrow them again: a closure cannot lend out what it captured.

use std::future::Future;

use crate::Error;

/// Why a layer's call did not produce a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure<E> {
    /// A policy turned the call away or cut it short.
    Rejected(Error),
    /// The body returned this error.
    Inner(E),
}

impl<E> Failure<E> {
    /// The caller's error: the body's own, or the rejection converted with `From`.
    pub fn into_error(self) -> E
    where
        E: From<Error>,
    {
        match self {
            Failure::Rejected(error) => E::from(error),
            Failure::Inner(error) => error,
        }
    }
}

/// A value or the reason there is none, as it travels between layers.
pub type Outcome<T, E> = Result<T, Failure<E>>;

/// What one layer hands to the layer above it.
///
/// `Outcome<T, E>` is the attempt of a call that lends nothing (`I = ()`); `(C, Outcome<T, E>)`
/// hands back the references `C` that the attempt borrowed, so a retry can lend them again.
pub trait Attempt<I>: Sized {
    /// The body's value.
    type Ok;
    /// The body's error.
    type Err;
    /// The attempt of a call that a policy refused before it ran.
    fn rejected(input: I, error: Error) -> Self;
    /// The outcome, to be classified.
    fn outcome(&self) -> &Outcome<Self::Ok, Self::Err>;
    /// The references lent to the attempt, and its outcome.
    fn into_parts(self) -> (I, Outcome<Self::Ok, Self::Err>);
}

impl<T, E> Attempt<()> for Outcome<T, E> {
    type Ok = T;
    type Err = E;

    fn rejected((): (), error: Error) -> Self {
        Err(Failure::Rejected(error))
    }

    fn outcome(&self) -> &Outcome<T, E> {
        self
    }

    fn into_parts(self) -> ((), Outcome<T, E>) {
        ((), self)
    }
}

impl<C, T, E> Attempt<C> for (C, Outcome<T, E>) {
    type Ok = T;
    type Err = E;

    fn rejected(input: C, error: Error) -> Self {
        (input, Err(Failure::Rejected(error)))
    }

    fn outcome(&self) -> &Outcome<T, E> {
        &self.1
    }

    fn into_parts(self) -> (C, Outcome<T, E>) {
        self
    }
}

/// The return type of a guarded function: `Result<T, E>` where `E` can carry a rejection.
#[diagnostic::on_unimplemented(
    message = "a guarded fn must return `Result<T, E>` where `E: From<resilience::Error>`, not `{Self}`",
    label = "this return type cannot carry a rejection",
    note = "`anyhow::Error`, `Box<dyn std::error::Error + Send + Sync>` and `resilience::Error` work as they are; an error enum adds a variant with `#[from] resilience::Error`"
)]
pub trait Guarded {
    /// The value of a successful call.
    type Ok;
    /// The caller's error type.
    type Err: From<Error>;
    /// Splits into the two cases.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
}

impl<T, E: From<Error>> Guarded for Result<T, E> {
    type Ok = T;
    type Err = E;

    fn into_result(self) -> Result<T, E> {
        self
    }
}

/// Runs the body of a guarded call, keeping its error apart from rejections.
pub async fn body<R: Guarded, F: Future<Output = R>>(body: F) -> Outcome<R::Ok, R::Err> {
    body.await.into_result().map_err(Failure::Inner)
}

/// The outermost layer's conversion: a rejection becomes the caller's error.
pub fn finish<T, E: From<Error>>(outcome: Outcome<T, E>) -> Result<T, E> {
    outcome.map_err(Failure::into_error)
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
            Err(Failure::Inner(error)) if is_failure(error) => Verdict::Failure,
            Err(Failure::Inner(_)) => Verdict::Success,
            Err(Failure::Rejected(Error::Timeout { .. })) => Verdict::Failure,
            Err(Failure::Rejected(_)) => Verdict::Neither,
        }
    }
}
