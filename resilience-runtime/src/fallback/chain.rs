//! A chain of fallbacks, built one step at a time so that each step keeps its own closure
//! and future types: nothing is boxed, and a call whose primary succeeds allocates nothing.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::Relaxed;

use super::policy::Fallback;
use crate::pipeline::{self, Failure, Outcome};
use crate::Error;

/// A primary and the fallbacks to try after it, in order; made by [`Fallback::call`] (by
/// hand) or [`Fallback::layer`] (in a stack).
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
pub struct FallbackChain<'a, C, P, S> {
    policy: &'a Fallback,
    lent: C,
    fallback_if: P,
    steps: S,
    /// Fallbacks so far, which numbers the next one.
    len: usize,
}

/// The first step of a chain: the call itself.
#[doc(hidden)]
pub struct Primary<F, Fut>(F, PhantomData<fn() -> Fut>);

/// A chain, then one more fallback.
#[doc(hidden)]
pub struct Then<S, G, Fut> {
    before: S,
    fallback: G,
    /// Its position: 1 for the first fallback.
    step: usize,
    future: PhantomData<fn() -> Fut>,
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

/// The steps of a [`FallbackChain`]: a primary and the fallbacks added to it. Implemented
/// by the chain's own step types only.
///
/// ```
/// use resilience::{ChainSteps, Error, Fallback, FallbackChain, FallbackConfig};
/// fn with_cache<'a, S: ChainSteps<(), u32, Error>>(
///     chain: FallbackChain<'a, (), fn(&Error) -> bool, S>,
/// ) -> FallbackChain<'a, (), fn(&Error) -> bool, impl ChainSteps<(), u32, Error>> {
///     chain.or(|_| async { Ok(0) })
/// }
/// let fallback = Fallback::new("prices", FallbackConfig::DEFAULT).unwrap();
/// let _chain = with_cache(fallback.call(|| async { Ok(3) }));
/// ```
pub trait ChainSteps<C, T, E>: sealed::Sealed {
    #[doc(hidden)]
    fn run<P: Fn(&E) -> bool>(
        self,
        policy: &Fallback,
        lent: C,
        fallback_if: &P,
    ) -> impl Future<Output = Step<C, T, E>>;
}

mod sealed {
    pub trait Sealed {}
    impl<F, Fut> Sealed for super::Primary<F, Fut> {}
    impl<S, G, Fut> Sealed for super::Then<S, G, Fut> {}
}

impl<C, T, E, F, Fut> ChainSteps<C, T, E> for Primary<F, Fut>
where
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = (C, Outcome<T, E>)>,
{
    async fn run<P: Fn(&E) -> bool>(self, policy: &Fallback, lent: C, _: &P) -> Step<C, T, E> {
        policy.calls.increment();
        match (self.0)(lent).await {
            (_, Ok(value)) => {
                policy.primary_succeeded.increment();
                Step::Done(Ok(value))
            }
            (lent, Err(failure)) => Step::Failed(lent, failure),
        }
    }
}

impl<C, T, E, S, G, Fut> ChainSteps<C, T, E> for Then<S, G, Fut>
where
    E: From<Error>,
    S: ChainSteps<C, T, E>,
    G: FnOnce(C, E) -> Fut,
    Fut: Future<Output = (C, Outcome<T, E>)>,
{
    async fn run<P: Fn(&E) -> bool>(
        self,
        policy: &Fallback,
        lent: C,
        fallback_if: &P,
    ) -> Step<C, T, E> {
        let (lent, failure) = match self.before.run(policy, lent, fallback_if).await {
            Step::Failed(lent, failure) => (lent, failure),
            done => return done,
        };
        // A rejection reaches the fallback converted into `E`, as it would reach the
        // caller; one that does not fall back goes on as the rejection it was.
        let rejection = failure.rejection().cloned();
        let error = failure.into_error();
        if !fallback_if(&error) {
            policy.declined.fetch_add(1, Relaxed);
            return Step::Done(Err(match rejection {
                Some(rejection) => Failure::Carried { error, rejection },
                None => Failure::Inner(error),
            }));
        }
        policy.fallbacks.fetch_add(1, Relaxed);
        match (self.fallback)(lent, error).await {
            (_, Ok(value)) => {
                policy.count_recovered(self.step);
                Step::Done(Ok(value))
            }
            (lent, Err(failure)) => Step::Failed(lent, failure),
        }
    }
}

impl<'a, C, P, F, Fut> FallbackChain<'a, C, P, Primary<F, Fut>> {
    pub(super) fn new(policy: &'a Fallback, lent: C, fallback_if: P, primary: F) -> Self {
        FallbackChain {
            policy,
            lent,
            fallback_if,
            steps: Primary(primary, PhantomData),
            len: 0,
        }
    }
}

impl<'a, C, P, S> FallbackChain<'a, C, P, S> {
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
    pub fn or_lent<T, E, G, Fut>(self, fallback: G) -> FallbackChain<'a, C, P, Then<S, G, Fut>>
    where
        S: ChainSteps<C, T, E>,
        G: FnOnce(C, E) -> Fut,
        Fut: Future<Output = (C, Outcome<T, E>)>,
    {
        FallbackChain {
            policy: self.policy,
            lent: self.lent,
            fallback_if: self.fallback_if,
            steps: Then {
                before: self.steps,
                fallback,
                step: self.len + 1,
                future: PhantomData,
            },
            len: self.len + 1,
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
    /// let outcome = fallback
    /// let busy = Error::BulkheadFull { name: "db".into(), max_concurrent: 1 };
    /// let outcome = fallback
    ///     .layer((), |_: &Error| false, |()| async { ((), body(async { Err::<u8, _>(busy) }).await) })
    ///     .or_lent(|(), _| async { ((), Ok(0)) })
    ///     .outcome()
    ///     .await;
    /// assert!(matches!(outcome, Err(Failure::Inner(_))), "`fallback_if` said no");
    /// # }
    /// ```
    pub async fn outcome<T, E>(self) -> Outcome<T, E>
    where
        S: ChainSteps<C, T, E>,
        P: Fn(&E) -> bool,
    {
        match self
            .steps
            .run(self.policy, self.lent, &self.fallback_if)
            .await
        {
            Step::Done(outcome) => outcome,
            Step::Failed(_, failure) => {
                self.policy.all_failed.fetch_add(1, Relaxed);
                Err(failure)
            }
        }
    }
}

impl<'a, P, S> FallbackChain<'a, (), P, S> {
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
    pub fn or<T, E, G, Fut>(
        self,
        fallback: G,
    ) -> FallbackChain<'a, (), P, impl ChainSteps<(), T, E>>
    where
        E: From<Error>,
        S: ChainSteps<(), T, E>,
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
        S: ChainSteps<(), T, E>,
        P: Fn(&E) -> bool,
    {
        pipeline::finish(self.outcome().await)
    }
}
