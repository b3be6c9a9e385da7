//! A call the breaker let through, held until its outcome is known: the guard every call
//! runs under, and the public permits for code that is not one future.

use super::policy::CircuitBreaker;
use super::state::{Permit, Report};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The right to report one admitted call's outcome, given back as "abandoned" if it is
/// dropped unreported (the caller's future was dropped, or the body panicked). It carries
/// the generation or episode it was admitted in, so a late report never counts against a
/// state it never saw. `B` is how the breaker is held: borrowed or shared.
pub(crate) struct Call<B: Deref<Target = CircuitBreaker>> {
    breaker: B,
    permit: Permit,
}

impl<B: Deref<Target = CircuitBreaker>> Call<B> {
    pub(super) fn new(breaker: B, permit: Permit) -> Self {
        Self { breaker, permit }
    }

    fn finish(&mut self, report: Report) {
        if let Some(permit) = self.permit.spend() {
            self.breaker.report(permit, report);
        }
    }

    /// Reports the call as a success.
    #[cfg(feature = "tower")]
    pub(crate) fn success(mut self) {
        self.finish(Report::Success);
    }

    /// Reports the call as a failure.
    #[cfg(feature = "tower")]
    pub(crate) fn failure(mut self) {
        self.finish(Report::Failure);
    }

    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("breaker", &self.breaker.name())
            .field("probe", &self.permit.probe())
            .finish()
    }
}

impl<B: Deref<Target = CircuitBreaker>> Drop for Call<B> {
    fn drop(&mut self) {
        self.finish(Report::Abandoned);
    }
}

/// One call admitted by [`CircuitBreaker::try_acquire`], for code that is not one future:
/// a streamed response that ends with its last chunk, a pooled connection, a step of a
/// hand-written state machine.
///
/// Report its outcome with [`success`](Self::success) or [`failure`](Self::failure); a
/// permit dropped unreported counts as abandoned, exactly as a dropped call does: neither
/// a success nor a failure, and a half-open breaker gets its probe slot back. A permit
/// taken before the breaker opened, closed again, or was reset or forced open reports into
/// the stats only, never into the state that followed.
///
/// ```
/// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
/// let breaker = CircuitBreaker::new("search", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
/// let permit = breaker.try_acquire().unwrap();
/// permit.failure();
/// assert!(breaker.is_open());
/// ```
#[must_use = "a permit dropped at once counts its call as abandoned"]
pub struct CallPermit<'a>(Call<&'a CircuitBreaker>);

impl<'a> CallPermit<'a> {
    pub(super) fn new(breaker: &'a CircuitBreaker, permit: Permit) -> Self {
        Self(Call::new(breaker, permit))
    }

    /// Reports the call as a success: the downstream answered.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap();
    /// breaker.try_acquire().unwrap().success();
    /// assert_eq!(breaker.stats().successes, 1);
    /// ```
    pub fn success(mut self) {
        self.0.finish(Report::Success);
    }

    /// Reports the call as a failure; may open the breaker.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap();
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.stats().failures, 1);
    /// ```
    pub fn failure(mut self) {
        self.0.finish(Report::Failure);
    }

    /// Reports `report`: how [`CircuitBreaker::layer`] ends the call it guards.
    pub(super) fn finish(mut self, report: Report) {
        self.0.finish(report);
    }
}

impl fmt::Debug for CallPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("CallPermit", f)
    }
}

/// A [`CallPermit`] that holds its breaker by `Arc`, from
/// [`CircuitBreaker::try_acquire_owned`], so it can move into a spawned task or a stream's
/// state. It ends as a `CallPermit` does.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # use std::sync::Arc;
/// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
/// let breaker = Arc::new(CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap());
/// let permit = Arc::clone(&breaker).try_acquire_owned().unwrap();
/// tokio::spawn(async move { permit.success() }).await.unwrap();
/// assert_eq!(breaker.stats().successes, 1);
/// # }
/// ```
#[must_use = "a permit dropped at once counts its call as abandoned"]
pub struct OwnedCallPermit(Call<Arc<CircuitBreaker>>);

impl OwnedCallPermit {
    pub(super) fn new(breaker: Arc<CircuitBreaker>, permit: Permit) -> Self {
        Self(Call::new(breaker, permit))
    }

    /// Reports the call as a success: the downstream answered.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = Arc::new(CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap());
    /// Arc::clone(&breaker).try_acquire_owned().unwrap().success();
    /// assert_eq!(breaker.stats().successes, 1);
    /// ```
    pub fn success(mut self) {
        self.0.finish(Report::Success);
    }

    /// Reports the call as a failure; may open the breaker.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = Arc::new(CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap());
    /// Arc::clone(&breaker).try_acquire_owned().unwrap().failure();
    /// assert_eq!(breaker.stats().failures, 1);
    /// ```
    pub fn failure(mut self) {
        self.0.finish(Report::Failure);
    }

    /// The breaker this permit was taken from.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = Arc::new(CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap());
    /// let permit = Arc::clone(&breaker).try_acquire_owned().unwrap();
    /// assert_eq!(permit.breaker().name(), "search");
    /// ```
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        &self.0.breaker
    }
}

impl fmt::Debug for OwnedCallPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("OwnedCallPermit", f)
    }
}
