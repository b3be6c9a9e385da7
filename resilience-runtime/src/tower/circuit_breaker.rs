//! The circuit breaker as a tower layer: decides in `call`, reports when the response
//! future ends.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::{BoxError, Held};
use crate::circuit_breaker::Call;
use crate::pipeline::Verdict;
use crate::{registry, AsRejection, CircuitBreaker, CircuitState, ConfigError, Error};

/// Wraps a service in a [`CircuitBreakerService`]: calls go through the breaker, and an
/// open breaker answers [`Error::CircuitOpen`] without calling the inner service.
///
/// ```
/// use resilience::tower::{BoxError, CircuitBreakerLayer};
/// use resilience::{CircuitBreaker, CircuitBreakerConfig};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
/// let breaker = CircuitBreaker::new("search", CircuitBreakerConfig::DEFAULT.failure_threshold(1))?;
/// let mut search = ServiceBuilder::new()
///     .layer(CircuitBreakerLayer::new(breaker.into()))
///     .service(service_fn(|q: &'static str| async move { Err::<(), BoxError>(format!("{q}: down").into()) }));
///
/// assert_eq!(search.ready().await?.call("rust").await.unwrap_err().to_string(), "rust: down");
/// let open = search.ready().await?.call("rust").await.unwrap_err();
/// assert!(matches!(open.downcast_ref(), Some(resilience::Error::CircuitOpen { .. })));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct CircuitBreakerLayer {
    breaker: Held<CircuitBreaker>,
    failure_if: fn(&BoxError) -> bool,
}

impl CircuitBreakerLayer {
    /// A layer over the registry's breaker `name`, the one attributes naming it use.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Undeclared`] when no attribute declares a breaker `name` and none was
    /// created by that name (see [the module](super) for why that is not a new instance).
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// use resilience::{registry, CircuitBreakerConfig};
    ///
    /// registry().get_or_create("docs::tower::search", CircuitBreakerConfig::default()).unwrap();
    /// let layer = CircuitBreakerLayer::named("docs::tower::search").unwrap();
    /// assert_eq!(layer.breaker().name(), "docs::tower::search");
    /// let typo = CircuitBreakerLayer::named("docs::tower::serach").err().unwrap();
    /// assert_eq!(typo.to_string(), "no circuit breaker named `docs::tower::serach` is declared; did you mean `docs::tower::search`?");
    /// ```
    pub fn named(name: &str) -> Result<Self, ConfigError> {
        registry()
            .named(name)
            .map(|breaker| Self::held(Held::Forever(breaker)))
    }

    /// A layer over `breaker`, shared with whoever else holds it. Every error of the inner
    /// service counts as a failure, as in [`CircuitBreaker::call`]; see
    /// [`failure_if`](Self::failure_if).
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let breaker = CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap();
    /// let layer = CircuitBreakerLayer::new(breaker.into());
    /// assert!(layer.breaker().is_closed());
    /// ```
    pub fn new(breaker: Arc<CircuitBreaker>) -> Self {
        Self::held(Held::Counted(breaker))
    }

    fn held(breaker: Held<CircuitBreaker>) -> Self {
        Self {
            breaker,
            failure_if: |_| true,
        }
    }

    /// Counts as failures only the inner service's errors for which `failure_if` returns
    /// `true`; the others count as successes (the downstream did answer). Rejections of
    /// inner layers are read as the attributes read them whatever it says: a `Timeout` is
    /// a failure, the others are neither.
    ///
    /// ```
    /// use resilience::tower::{BoxError, CircuitBreakerLayer};
    /// use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
    ///
    /// fn is_outage(error: &BoxError) -> bool { error.to_string() != "not found" }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
    /// let breaker = std::sync::Arc::new(CircuitBreaker::new("users", CircuitBreakerConfig::DEFAULT.failure_threshold(1))?);
    /// let mut users = ServiceBuilder::new()
    ///     .layer(CircuitBreakerLayer::new(breaker.clone()).failure_if(is_outage))
    ///     .service(service_fn(|_: u32| async { Err::<(), BoxError>("not found".into()) }));
    /// let _ = users.ready().await?.call(7).await;
    /// assert!(breaker.is_closed());
    /// # Ok(()) }
    /// ```
    pub fn failure_if(mut self, failure_if: fn(&BoxError) -> bool) -> Self {
        self.failure_if = failure_if;
        self
    }

    /// The breaker this layer's services share.
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// let layer = CircuitBreakerLayer::new(CircuitBreaker::new("search", CircuitBreakerConfig::default()).unwrap().into());
    /// assert_eq!(layer.breaker().name(), "search");
    /// ```
    pub fn breaker(&self) -> &Arc<CircuitBreaker> {
        self.breaker.arc()
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreakerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreakerService {
            inner,
            breaker: self.breaker.clone(),
            failure_if: self.failure_if,
            refused: false,
        }
    }
}

/// A service behind a circuit breaker; made by [`CircuitBreakerLayer`].
///
/// The breaker decides in `call`, not in `poll_ready`: a service made ready and called
/// later (a pooled connection, a `Buffer`'s worker) would otherwise be pinned to a
/// decision taken before the breaker last changed state, and a permit held by a ready
/// service nobody calls would hold one of a half-open breaker's probe slots. A rejected
/// call never reaches the inner service.
///
/// Readiness follows the breaker: while it is open (or forced open), `poll_ready` answers
/// ready at once without asking the inner service, and the call that follows is answered
/// [`Error::CircuitOpen`] without reaching it, even if the breaker lets calls through
/// again by then (the inner service was not made ready for it; that rejection takes no
/// probe slot). So the layers below reserve nothing for a call the breaker will reject:
/// a bulkhead below an open breaker neither takes a slot nor waits `max_wait` for one.
/// (What they reserved while the breaker was still closed stays theirs until a call
/// reaches them again or the service is dropped, as any reservation of a service made
/// ready and not called.) Otherwise the service is ready when the inner one is.
/// `poll_ready` asks the breaker again each time, and a clone starts unasked.
///
/// The call's outcome is reported when its response future ends; a response future
/// dropped first counts the call as abandoned, as a dropped guarded call does.
///
/// ```
/// use resilience::tower::{BoxError, CircuitBreakerLayer};
/// use resilience::{CircuitBreaker, CircuitBreakerConfig};
/// use tower::{service_fn, Layer, Service, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
/// let breaker = std::sync::Arc::new(CircuitBreaker::new("search", CircuitBreakerConfig::default())?);
/// let layer = CircuitBreakerLayer::new(breaker.clone());
/// let mut search = layer.layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
/// let ready = search.ready().await?;
/// breaker.force_open();
/// assert!(ready.call(1).await.is_err(), "decided at the call");
///
/// let refused = search.ready().await?; // open: the inner service is not asked
/// breaker.reset();
/// assert!(refused.call(2).await.is_err(), "not made ready, so not called");
/// assert_eq!(search.ready().await?.call(3).await?, 3);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CircuitBreakerService<S> {
    inner: S,
    breaker: Held<CircuitBreaker>,
    failure_if: fn(&BoxError) -> bool,
    /// `poll_ready` answered without asking the inner service, the breaker being open:
    /// the next call is rejected.
    refused: bool,
}

impl<S: Clone> Clone for CircuitBreakerService<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            breaker: self.breaker.clone(),
            failure_if: self.failure_if,
            // Readiness is the original's, for its own next call.
            refused: false,
        }
    }
}

impl<S, Req> Service<Req> for CircuitBreakerService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = CircuitBreakerFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Asked again before every call, so a service refused once is not pinned to it.
        self.refused = matches!(
            self.breaker.state(),
            CircuitState::Open | CircuitState::ForcedOpen
        );
        if self.refused {
            return Poll::Ready(Ok(()));
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        if mem::take(&mut self.refused) {
            // The inner service was not made ready, so it cannot be called, even if the
            // breaker would admit the call by now.
            let rejection = self.breaker.refuse();
            return CircuitBreakerFuture {
                state: State::Rejected { rejection },
            };
        }
        let state = match CircuitBreaker::try_acquire_held(self.breaker.clone()) {
            Ok(permit) => State::Admitted {
                inner: self.inner.call(request),
                permit: Some(permit),
                failure_if: self.failure_if,
            },
            Err(rejection) => State::Rejected { rejection },
        };
        CircuitBreakerFuture { state }
    }
}

pin_project! {
    /// The response future of a [`CircuitBreakerService`].
    ///
    /// ```
    /// use resilience::tower::{BoxError, CircuitBreakerFuture, CircuitBreakerLayer};
    /// use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// use tower::{service_fn, Layer, Service};
    /// let layer = CircuitBreakerLayer::new(CircuitBreaker::new("a", CircuitBreakerConfig::default()).unwrap().into());
    /// let mut service = layer.layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    /// let _future: CircuitBreakerFuture<_> = service.call(1);
    /// ```
    pub struct CircuitBreakerFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = Projection]
    enum State<F> {
        /// Admitted: the inner service's future, and the permit its outcome is reported on.
        Admitted {
            #[pin]
            inner: F,
            permit: Option<Call<Held<CircuitBreaker>>>,
            failure_if: fn(&BoxError) -> bool,
        },
        /// Rejected at the call; the inner service was not called.
        Rejected { rejection: Error },
    }
}

impl<F, T, E> Future for CircuitBreakerFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projection::Admitted {
                inner,
                permit,
                failure_if,
            } => {
                let result = ready!(inner.poll(cx)).map_err(Into::into);
                // The error is read in place, not unboxed: it goes back to the caller
                // as the inner service returned it.
                let verdict = match &result {
                    Ok(_) => Verdict::Success,
                    Err(error) => Verdict::of_error(error.as_rejection(), || failure_if(error)),
                };
                match (permit.take(), verdict) {
                    (Some(permit), Verdict::Success) => permit.success(),
                    (Some(permit), Verdict::Failure) => permit.failure(),
                    // Dropped unreported: abandoned, neither a success nor a failure.
                    (Some(_), Verdict::Neither) | (None, _) => {}
                }
                Poll::Ready(result)
            }
            Projection::Rejected { rejection } => Poll::Ready(Err(rejection.clone().into())),
        }
    }
}
