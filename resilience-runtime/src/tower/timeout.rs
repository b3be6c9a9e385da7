//! The timeout as a tower layer: the inner future is dropped when time runs out.

use std::sync::Arc;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use super::{BoxError, ResponseFuture};
use crate::pipeline::{finish, Failure};
use crate::{registry, ConfigError, Timeout};

/// Wraps a service in a [`TimeoutService`]: a call that does not finish in time is
/// answered [`Error::Timeout`](crate::Error::Timeout), and the inner service's future is
/// dropped.
///
/// ```
/// use std::time::Duration;
/// use resilience::tower::{BoxError, TimeoutLayer};
/// use resilience::{Timeout, TimeoutConfig};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), BoxError> {
/// let timeout = Timeout::new("report", TimeoutConfig::DEFAULT.duration(Duration::from_secs(1)))?;
/// let mut report = ServiceBuilder::new()
///     .layer(TimeoutLayer::new(timeout.into()))
///     .service(service_fn(|secs: u64| async move {
///         tokio::time::sleep(Duration::from_secs(secs)).await;
///         Ok::<_, BoxError>(secs)
///     }));
/// let late = report.ready().await?.call(5).await.unwrap_err();
/// assert_eq!(late.to_string(), "`report` timed out after 1s");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TimeoutLayer {
    timeout: Arc<Timeout>,
}

impl TimeoutLayer {
    /// A layer over the registry's timeout `name`, the one attributes naming it use.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Undeclared`] when no attribute declares a timeout `name` and none was
    /// created by that name.
    ///
    /// ```
    /// use resilience::tower::TimeoutLayer;
    /// use resilience::{registry, TimeoutConfig};
    /// registry().get_or_create("docs::tower::report", TimeoutConfig::default()).unwrap();
    /// assert!(TimeoutLayer::named("docs::tower::report").is_ok());
    /// assert!(TimeoutLayer::named("docs::tower::nothing").is_err());
    /// ```
    pub fn named(name: &str) -> Result<Self, ConfigError> {
        registry().named(name).map(Self::new)
    }

    /// A layer over `timeout`, shared with whoever else holds it.
    ///
    /// ```
    /// use resilience::tower::TimeoutLayer;
    /// use resilience::{Timeout, TimeoutConfig};
    /// let layer = TimeoutLayer::new(Timeout::new("report", TimeoutConfig::default()).unwrap().into());
    /// assert_eq!(layer.timeout().name(), "report");
    /// ```
    pub fn new(timeout: Arc<Timeout>) -> Self {
        Self { timeout }
    }

    /// The timeout this layer's services share.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience::tower::TimeoutLayer;
    /// use resilience::{Timeout, TimeoutConfig};
    /// let layer = TimeoutLayer::new(Timeout::new("report", TimeoutConfig::DEFAULT.duration(Duration::from_secs(3))).unwrap().into());
    /// assert_eq!(layer.timeout().duration(), Duration::from_secs(3));
    /// ```
    pub fn timeout(&self) -> &Arc<Timeout> {
        &self.timeout
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService {
            inner,
            timeout: Arc::clone(&self.timeout),
        }
    }
}

/// A service whose calls have a time limit; made by [`TimeoutLayer`].
///
/// Ready when the inner service is; readiness itself is not timed (tower's `Timeout`
/// does not time it either). The limit counts from the response future's first poll, as
/// [`Timeout::call`]'s does; when it runs out the inner future is dropped, which cancels
/// the inner service's work, and the error is
/// [`Error::Timeout`](crate::Error::Timeout). The inner service's own errors come back
/// as they were.
///
/// ```
/// use std::time::Duration;
/// use resilience::tower::{BoxError, TimeoutLayer};
/// use resilience::{Timeout, TimeoutConfig};
/// use tower::{service_fn, Layer, Service, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), BoxError> {
/// let layer = TimeoutLayer::new(Timeout::new("db", TimeoutConfig::DEFAULT.duration(Duration::from_secs(1)))?.into());
/// let mut db = layer.layer(service_fn(|_: ()| async { Err::<(), BoxError>("constraint".into()) }));
/// assert_eq!(db.ready().await?.call(()).await.unwrap_err().to_string(), "constraint");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TimeoutService<S> {
    inner: S,
    timeout: Arc<Timeout>,
}

impl<S, Req> Service<Req> for TimeoutService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let inner = self.inner.call(request);
        let timeout = Arc::clone(&self.timeout);
        Box::pin(async move {
            // The inner error goes through as `Inner`, so `finish` hands back the same box.
            let outcome = timeout
                .layer(|| async { inner.await.map_err(|error| Failure::Inner(error.into())) })
                .await;
            finish(outcome)
        })
    }
}
