//! A chain of fallbacks, built one step at a time so that each step keeps its own closure
//! and future types: nothing is boxed, and a call whose primary succeeds allocates nothing.
//!
//! Each step is an inherent `async fn` wrapping the future of the steps before it, not a
//! trait implemented by nested step types: proving a trait's `async fn` future `Send`
//! makes rustc prove its impl's closure bounds again with the lifetimes erased, which
//! fails for closures lent references ("implementation of `FnOnce` is not general
//! enough"), while an inherent `async fn`'s future is `Send` whenever what it holds is.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;

use super::policy::Fallback;
use crate::pipeline::{self, Failure, Outcome};
use crate::Error;

/// A primary and the fallbacks to try after it, in order; made by [`Fallback::call`] (by
/// hand) or [`Fallback::layer`] (in a stack). `S` is the future of the steps so far.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use resilience::{Error, Fallback, FallbackConfig};
/// let fallback = Fallback::new("prices", FallbackConfig::DEFAULT).unwrap();
/// let busy = |name: &str| Error::BulkheadFull { name: name.into(), max_concurrent: 1 };
/// let price = fallback
///     .call(|| async { Err::<u32, _>(busy("live")) })
///     .or(|live_error| async move { assert_eq!(live_error.name(), "live"); Err(busy("cache")) })
///     .run()
///     .await;
/// assert_eq!(price.unwrap_err().name(), "cache", "all failed: the last fallback's error");
/// # }
/// ```
#[must_use = "a chain does nothing until it is run"]
pub struct FallbackChain<'a, P, S> {
    policy: &'a Fallback,
    fallback_if: P,
    steps: S,
    /// Fallbacks so far, which numbers the next one.
    len: usize,
}

/// How a chain's steps so far ended.
#[doc(hidden)]
pub enum Step<C, T, E> {
    /// A value, or an error that does not fall back: the chain's answer.
    Done(Outcome<T, E>),
    /// An error for the next fallback, if `fallback_if` lets it fall back; the lent
    /// references are handed back with it.
    Failed(C, Failure<E>),
}

impl<'a, P, S> FallbackChain<'a, P, S> {
    pub(super) fn new(policy: &'a Fallback, fallback_if: P, steps: S) -> Self {
        Self {
            policy,
            fallback_if,
            steps,
            len: 0,
        }
    }

    /// Adds a fallback that is lent what the primary was lent and hands it back, as the
    /// attributes build a chain: see [`Fallback::layer`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use resilience::pipeline::body;
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let outcome = fallback
    ///     .layer((), |_: &Error| true, |()| async { ((), body(async { Err(Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }) }).await) })
    ///     .or_lent(|(), _error| async { ((), Ok(0u8)) })
    ///     .outcome()
    ///     .await;
    /// assert_eq!(outcome, Ok(0));
    /// # }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn or_lent<C, T, E, G, Fut>(
        self,
        fallback: G,
    ) -> FallbackChain<'a, P, impl Future<Output = Step<C, T, E>> + use<'a, C, T, E, G, Fut, P, S>>
    where
        E: From<Error>,
        P: Fn(&E) -> bool + Clone,
        S: Future<Output = Step<C, T, E>>,
        G: FnOnce(C, E) -> Fut,
        Fut: Future<Output = (C, Outcome<T, E>)>,
    {
        let step = self.len + 1;
        let steps = then(
            self.policy,
            self.steps,
            self.fallback_if.clone(),
            step,
            fallback,
        );
        FallbackChain {
            policy: self.policy,
            fallback_if: self.fallback_if,
            steps,
            len: step,
        }
    }

    /// Runs the chain as one layer of a stack: its [`Outcome`] keeps a rejection apart
    /// from the body's errors. When all fail, the last fallback's error is the outcome.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use resilience::pipeline::{body, Failure};
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let busy = Error::BulkheadFull { name: "db".into(), max_concurrent: 1 };
    /// let outcome = fallback
    ///     .layer((), |_: &Error| false, |()| async { ((), body(async { Err::<u8, _>(busy) }).await) })
    ///     .or_lent(|(), _| async { ((), Ok(0)) })
    ///     .outcome()
    ///     .await;
    /// assert!(matches!(outcome, Err(Failure::Inner(_))), "`fallback_if` said no");
    /// # }
    /// ```
    pub async fn outcome<C, T, E>(self) -> Outcome<T, E>
    where
        S: Future<Output = Step<C, T, E>>,
    {
        last(self.policy, self.steps.await)
    }
}

impl<'a, P, S> FallbackChain<'a, P, S> {
    /// Adds a fallback, tried when every step before it failed; it is given the error of
    /// the step right before it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let busy = Error::BulkheadFull { name: "live".into(), max_concurrent: 1 };
    /// let quote = fallback.call(|| async { Err(busy) }).or(|_| async { Ok(0u8) }).run().await;
    /// assert_eq!(quote, Ok(0));
    /// # }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn or<T, E, G, Fut>(
        self,
        fallback: G,
    ) -> FallbackChain<'a, P, impl Future<Output = Step<(), T, E>> + use<'a, T, E, G, Fut, P, S>>
    where
        E: From<Error>,
        P: Fn(&E) -> bool + Clone,
        S: Future<Output = Step<(), T, E>>,
        G: FnOnce(E) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.or_lent(move |(), error| async move { ((), pipeline::body(fallback(error)).await) })
    }

    /// Runs the chain: the first success, or the last fallback's error when all fail.
    ///
    /// # Errors
    ///
    /// The last error of the chain: the last fallback's, or one that `fallback_if` kept
    /// from falling back.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let quote: Result<u8, Error> = fallback.call(|| async { Ok(1) }).run().await;
    /// assert_eq!(quote, Ok(1));
    /// # }
    /// ```
    pub async fn run<T, E>(self) -> Result<T, E>
    where
        E: From<Error>,
        S: Future<Output = Step<(), T, E>>,
    {
        pipeline::finish(self.outcome().await)
    }
}

/// The first step: the call itself.
pub(super) async fn primary<C, T, E, F, Fut>(
    policy: &Fallback,
    lent: C,
    primary: F,
) -> Step<C, T, E>
where
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = (C, Outcome<T, E>)>,
{
    policy.calls.increment();
    after_primary(policy, primary(lent).await)
}

/// How the primary ended, counted.
pub(super) fn after_primary<C, T, E>(
    policy: &Fallback,
    ended: (C, Outcome<T, E>),
) -> Step<C, T, E> {
    match ended {
        (_, Ok(value)) => {
            policy.primary_succeeded.increment();
            Step::Done(Ok(value))
        }
        (lent, Err(failure)) => Step::Failed(lent, failure),
    }
}

/// The steps `before`, then the fallback at position `step` if they failed with an error
/// that `fallback_if` lets fall back.
async fn then<C, T, E, P, S, G, Fut>(
    policy: &Fallback,
    before: S,
    fallback_if: P,
    step: usize,
    fallback: G,
) -> Step<C, T, E>
where
    E: From<Error>,
    P: Fn(&E) -> bool,
    S: Future<Output = Step<C, T, E>>,
    G: FnOnce(C, E) -> Fut,
    Fut: Future<Output = (C, Outcome<T, E>)>,
{
    let (lent, error) = match falls_back(policy, before.await, fallback_if, step) {
        Ok(next) => next,
        Err(done) => return done,
    };
    after_fallback(policy, step, fallback(lent, error).await)
}

/// What the next fallback, at position `step`, is given after the steps that ended
/// `before`: the lent references and the error, when they failed with an error that
/// `fallback_if` lets fall back; otherwise the chain's answer.
pub(super) fn falls_back<C, T, E>(
    policy: &Fallback,
    before: Step<C, T, E>,
    fallback_if: impl Fn(&E) -> bool,
    step: usize,
) -> Result<(C, E), Step<C, T, E>>
where
    E: From<Error>,
{
    let (lent, failure) = match before {
        Step::Failed(lent, failure) => (lent, failure),
        done => return Err(done),
    };
    // A rejection reaches the fallback converted into `E`, as it would reach the caller;
    // one that does not fall back goes on as the rejection it was.
    let rejection = failure.rejection().cloned();
    let error = failure.into_error();
    if !fallback_if(&error) {
        policy.declined.fetch_add(1, Relaxed);
        return Err(Step::Done(Err(match rejection {
            Some(rejection) => Failure::Carried { error, rejection },
            None => Failure::Inner(error),
        })));
    }
    policy.fallbacks.fetch_add(1, Relaxed);
    policy
        .events
        .fell_back(u32::try_from(step).unwrap_or(u32::MAX));
    Ok((lent, error))
}

/// How the fallback at position `step` ended, counted.
pub(super) fn after_fallback<C, T, E>(
    policy: &Fallback,
    step: usize,
    ended: (C, Outcome<T, E>),
) -> Step<C, T, E> {
    match ended {
        (_, Ok(value)) => {
            policy.count_recovered(step);
            Step::Done(Ok(value))
        }
        (lent, Err(failure)) => Step::Failed(lent, failure),
    }
}

/// The chain's outcome once its last step ended: when that step failed, every step did.
pub(super) fn last<C, T, E>(policy: &Fallback, step: Step<C, T, E>) -> Outcome<T, E> {
    match step {
        Step::Done(outcome) => outcome,
        Step::Failed(_, failure) => {
            policy.all_failed.fetch_add(1, Relaxed);
            Err(failure)
        }
    }
}
