//! The rate limiter as a tower layer: a permit taken in `call`, so readiness spends none.

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::{BoxError, Held};
use crate::{registry, ConfigError, RateLimiter};

/// Wraps a service in a [`RateLimitService`]: calls beyond the limiter's quota wait up to
/// its `max_wait`, then are answered [`Error::RateLimited`](crate::Error::RateLimited)
/// without calling the inner service.
///
/// ```
/// use std::time::Duration;
/// use resilience::tower::{BoxError, RateLimitLayer};
/// use resilience::{RateLimiter, RateLimiterConfig};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), BoxError> {
/// let quota = RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(1));
/// let mut geo = ServiceBuilder::new()
///     .layer(RateLimitLayer::new(RateLimiter::new("geo", quota)?.into()))
///     .service(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
/// assert_eq!(geo.ready().await?.call(1).await?, 1);
/// let limited = geo.ready().await?.call(2).await.unwrap_err();
/// assert_eq!(limited.downcast_ref::<resilience::Error>().unwrap().retry_after(), Some(Duration::from_secs(1)));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    limiter: Held<RateLimiter>,
}

impl RateLimitLayer {
    /// A layer over the registry's rate limiter `name`, the one attributes naming it use.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Undeclared`] when no attribute declares a rate limiter `name` and
    /// none was created by that name.
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use resilience::{registry, RateLimiterConfig};
    /// registry().get_or_create("docs::tower::geo", RateLimiterConfig::default()).unwrap();
    /// assert!(RateLimitLayer::named("docs::tower::geo").is_ok());
    /// assert!(RateLimitLayer::named("docs::tower::nothing").is_err());
    /// ```
    pub fn named(name: &str) -> Result<Self, ConfigError> {
        registry().named(name).map(|limiter| Self {
            limiter: Held::Forever(limiter),
        })
    }

    /// A layer over `limiter`, shared with whoever else holds it.
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use resilience::{RateLimiter, RateLimiterConfig};
    /// let layer = RateLimitLayer::new(RateLimiter::new("geo", RateLimiterConfig::default()).unwrap().into());
    /// assert_eq!(layer.limiter().name(), "geo");
    /// ```
    pub fn new(limiter: Arc<RateLimiter>) -> Self {
        Self {
            limiter: Held::Counted(limiter),
        }
    }

    /// The limiter this layer's services share.
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use resilience::{RateLimiter, RateLimiterConfig};
    /// let layer = RateLimitLayer::new(RateLimiter::new("geo", RateLimiterConfig::default()).unwrap().into());
    /// assert_eq!(layer.limiter().stats().admitted, 0);
    /// ```
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        self.limiter.arc()
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            limiter: self.limiter.clone(),
        }
    }
}

/// A service behind a rate limiter; made by [`RateLimitLayer`].
///
/// Ready when the inner service is: the permit is taken in `call`, not reserved in
/// `poll_ready` (tower's own `RateLimit` takes it there). A rate-limit permit is spent the
/// moment it is taken and cannot be given back, so a permit taken for a service that is
/// made ready and then dropped or cloned without a call (a router's readiness probe, a
/// balancer choosing among ready services, a cancelled request) would be quota spent on no
/// call. Taken in `call`, every permit is one call to the inner service.
///
/// A call that finds no permit waits for one, up to the limiter's `max_wait`, in its
/// response future, holding the inner service made ready for it (a clone takes its place,
/// which is why `S: Clone`); past `max_wait` it is answered
/// [`Error::RateLimited`](crate::Error::RateLimited) with the wait it would have needed,
/// and the inner service is not called. An admitted call is the inner future, unboxed.
///
/// A [shared](crate::RateLimiter::share) limiter's permits are its fleet's: every call
/// asks the store for its permit in that same waiting future (the round trip is the wait),
/// so readiness spends nothing of the fleet's quota either, and a call dropped before its
/// future is polled takes nothing from it.
///
/// ```
/// use std::time::Duration;
/// use resilience::tower::{BoxError, RateLimitLayer};
/// use resilience::{RateLimiter, RateLimiterConfig};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), BoxError> {
/// let limiter = std::sync::Arc::new(RateLimiter::new("geo", RateLimiterConfig::DEFAULT.max_requests(1))?);
/// let mut geo = RateLimitLayer::new(limiter.clone()).layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
/// geo.ready().await?;
/// assert_eq!(limiter.stats().admitted, 0, "readiness spends nothing");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RateLimitService<S> {
    inner: S,
    limiter: Held<RateLimiter>,
}

impl<S: fmt::Debug> fmt::Debug for RateLimitService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitService")
            .field("inner", &self.inner)
            .field("limiter", &self.limiter.name())
            .finish()
    }
}

impl<S, Req> Service<Req> for RateLimitService<S>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = RateLimitFuture<S::Future, S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        if self.limiter.try_admit() {
            let inner = self.inner.call(request);
            return RateLimitFuture {
                state: State::Admitted { inner },
            };
        }
        // The service made ready for this call goes with it; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = mem::replace(&mut self.inner, clone);
        let limiter = self.limiter.clone();
        let waiting: Waiting<S::Response> = Box::pin(async move {
            // Asks again when first polled: the wait known at the call may be stale.
            limiter.acquire().await?;
            inner.call(request).await.map_err(Into::into)
        });
        RateLimitFuture {
            state: State::Waiting { waiting },
        }
    }
}

/// A call waiting for a permit, then calling the inner service. Boxed: only a call that
/// finds no permit pays for it, and that call waits on a timer anyway.
type Waiting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

pin_project! {
    /// The response future of a [`RateLimitService`].
    ///
    /// ```
    /// use resilience::tower::{BoxError, RateLimitFuture, RateLimitLayer};
    /// use resilience::{RateLimiter, RateLimiterConfig};
    /// use tower::{service_fn, Layer, Service};
    /// let layer = RateLimitLayer::new(RateLimiter::new("geo", RateLimiterConfig::default()).unwrap().into());
    /// let mut service = layer.layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    /// let _future: RateLimitFuture<_, u8> = service.call(1);
    /// ```
    pub struct RateLimitFuture<F, T> {
        #[pin]
        state: State<F, T>,
    }
}

pin_project! {
    #[project = Projection]
    enum State<F, T> {
        /// Admitted at once: the inner service's future.
        Admitted {
            #[pin]
            inner: F,
        },
        /// Waiting for a permit, then calling the inner service; or rejected.
        Waiting { waiting: Waiting<T> },
    }
}

impl<F, T, E> Future for RateLimitFuture<F, T>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projection::Admitted { inner } => inner.poll(cx).map_err(Into::into),
            Projection::Waiting { waiting } => waiting.as_mut().poll(cx),
        }
    }
}
