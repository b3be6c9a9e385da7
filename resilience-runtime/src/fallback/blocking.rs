//! A chain of fallbacks for plain (non-async) code: each step runs as it is added, so the
//! chain holds only how the steps so far ended.

use super::chain::{self, Step};
use super::policy::Fallback;
use crate::pipeline::{self, Outcome};
use crate::Error;

/// A primary and the fallbacks tried after it, in order, for plain (non-async) code; made
/// by [`Fallback::call_blocking`] (by hand) or [`Fallback::layer_blocking`] (in a stack).
/// Each step runs when it is added, and only if every step before it failed with an error
/// that falls back; the counters are those of [`FallbackChain`](crate::FallbackChain).
///
/// ```
/// use resilience::{Error, Fallback, FallbackConfig};
/// let fallback = Fallback::new("prices", FallbackConfig::DEFAULT).unwrap();
/// let busy = |name: &str| Error::BulkheadFull { name: name.into(), max_concurrent: 1 };
/// let price = fallback
///     .call_blocking(|| Err::<u32, _>(busy("live")))
///     .or(|live_error| { assert_eq!(live_error.name(), "live"); Ok(9) })
///     .or(|_| unreachable!("an earlier step answered"))
///     .run();
/// assert_eq!(price, Ok(9));
/// assert_eq!(fallback.stats().recovered_by(1), 1);
/// ```
#[must_use = "a chain's outcome is read with `run` or `outcome`"]
pub struct BlockingFallbackChain<'a, P, C, T, E> {
    policy: &'a Fallback,
    fallback_if: P,
    step: Step<C, T, E>,
    /// Fallbacks so far, which numbers the next one.
    len: usize,
}

impl<'a, P, C, T, E> BlockingFallbackChain<'a, P, C, T, E>
where
    P: Fn(&E) -> bool,
    E: From<Error>,
{
    /// The chain whose primary ended with `primary`, already counted.
    pub(super) fn new(policy: &'a Fallback, fallback_if: P, primary: Step<C, T, E>) -> Self {
        Self {
            policy,
            fallback_if,
            step: primary,
            len: 0,
        }
    }

    /// Runs `fallback` now if every step so far failed with an error that falls back,
    /// lending it what the primary was lent: see [`Fallback::layer_blocking`].
    ///
    /// ```
    /// use resilience::pipeline::body_blocking;
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let outcome = fallback
    ///     .layer_blocking((), |_: &Error| true, |()| ((), body_blocking(|| Err(Error::BulkheadFull { name: "db".into(), max_concurrent: 1 }))))
    ///     .or_lent(|(), _error| ((), Ok(0u8)))
    ///     .outcome();
    /// assert_eq!(outcome, Ok(0));
    /// ```
    pub fn or_lent<G>(self, fallback: G) -> Self
    where
        G: FnOnce(C, E) -> (C, Outcome<T, E>),
    {
        let Self {
            policy,
            fallback_if,
            step,
            len,
        } = self;
        let at = len + 1;
        let step = match chain::falls_back(policy, step, &fallback_if, at) {
            Ok((lent, error)) => chain::after_fallback(policy, at, fallback(lent, error)),
            Err(done) => done,
        };
        Self {
            policy,
            fallback_if,
            step,
            len: at,
        }
    }

    /// The chain's answer as one layer of a stack: its [`Outcome`] keeps a rejection apart
    /// from the body's errors. When all failed, the last fallback's error.
    ///
    /// ```
    /// use resilience::pipeline::{body_blocking, Failure};
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let busy = Error::BulkheadFull { name: "db".into(), max_concurrent: 1 };
    /// let outcome = fallback
    ///     .layer_blocking((), |_: &Error| false, |()| ((), body_blocking(|| Err::<u8, _>(busy))))
    ///     .or_lent(|(), _| ((), Ok(0)))
    ///     .outcome();
    /// assert!(matches!(outcome, Err(Failure::Inner(_))), "`fallback_if` said no");
    /// ```
    pub fn outcome(self) -> Outcome<T, E> {
        chain::last(self.policy, self.step)
    }
}

impl<P, T, E> BlockingFallbackChain<'_, P, (), T, E>
where
    P: Fn(&E) -> bool,
    E: From<Error>,
{
    /// Runs `fallback` now if every step so far failed; it is given the error of the step
    /// right before it.
    ///
    /// ```
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let busy = Error::BulkheadFull { name: "live".into(), max_concurrent: 1 };
    /// let quote = fallback.call_blocking(|| Err(busy)).or(|_| Ok(0u8)).run();
    /// assert_eq!(quote, Ok(0));
    /// ```
    pub fn or<G>(self, fallback: G) -> Self
    where
        G: FnOnce(E) -> Result<T, E>,
    {
        self.or_lent(move |(), error| ((), pipeline::body_blocking(|| fallback(error))))
    }

    /// The chain's answer: the first success, or the last fallback's error when all
    /// failed.
    ///
    /// # Errors
    ///
    /// The last error of the chain: the last fallback's, or one that `fallback_if` kept
    /// from falling back.
    ///
    /// ```
    /// # use resilience::{Error, Fallback, FallbackConfig};
    /// let fallback = Fallback::new("quotes", FallbackConfig::DEFAULT).unwrap();
    /// let quote: Result<u8, Error> = fallback.call_blocking(|| Ok(1)).run();
    /// assert_eq!(quote, Ok(1));
    /// ```
    pub fn run(self) -> Result<T, E> {
        pipeline::finish(self.outcome())
    }
}
