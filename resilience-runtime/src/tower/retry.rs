//! The retry as a tower layer: each attempt calls the inner service with a clone of the
//! request.

use std::future::poll_fn;
use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tower_layer::Layer;
use tower_service::Service;

use super::{failure, outcome, BoxError, ResponseFuture};
use crate::pipeline::{display, finish};
use crate::{registry, ConfigError, Retry};

/// Wraps a service in a [`RetryService`]: a failed call is sent again, with a clone of its
/// request, by the retry's backoff and limits.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use resilience::tower::{BoxError, RetryLayer};
/// use resilience::{Retry, RetryConfig};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), BoxError> {
/// let calls = Arc::new(AtomicU32::new(0));
/// let counted = calls.clone();
/// let mut flaky = ServiceBuilder::new()
///     .layer(RetryLayer::new(Retry::new("flaky", RetryConfig::DEFAULT.max_attempts(3))?.into()))
///     .service(service_fn(move |name: String| {
///         let n = counted.fetch_add(1, Ordering::Relaxed);
///         async move { if n < 2 { Err::<String, BoxError>("busy".into()) } else { Ok(name) } }
///     }));
/// assert_eq!(flaky.ready().await?.call("report".to_string()).await?, "report");
/// assert_eq!(calls.load(Ordering::Relaxed), 3);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RetryLayer {
    retry: Arc<Retry>,
    retry_if: fn(&BoxError) -> bool,
    retry_after: fn(&BoxError) -> Option<Duration>,
}

impl RetryLayer {
    /// A layer over the registry's retry `name`, the one attributes naming it use.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Undeclared`] when no attribute declares a retry `name` and none was
    /// created by that name.
    ///
    /// ```
    /// use resilience::tower::RetryLayer;
    /// use resilience::{registry, RetryConfig};
    /// registry().get_or_create("docs::tower::fetch", RetryConfig::default()).unwrap();
    /// assert!(RetryLayer::named("docs::tower::fetch").is_ok());
    /// assert!(RetryLayer::named("docs::tower::nothing").is_err());
    /// ```
    pub fn named(name: &str) -> Result<Self, ConfigError> {
        registry().named(name).map(Self::new)
    }

    /// A layer over `retry`, shared with whoever else holds it. Every error of the inner
    /// service is retried, as in [`Retry::call`]; see [`retry_if`](Self::retry_if).
    ///
    /// ```
    /// use resilience::tower::RetryLayer;
    /// use resilience::{Retry, RetryConfig};
    /// let layer = RetryLayer::new(Retry::new("fetch", RetryConfig::default()).unwrap().into());
    /// assert_eq!(layer.retry().name(), "fetch");
    /// ```
    pub fn new(retry: Arc<Retry>) -> Self {
        Self {
            retry,
            retry_if: |_| true,
            retry_after: |_| None,
        }
    }

    /// Retries only the inner service's errors for which `retry_if` returns `true`.
    /// Rejections of inner layers are read as the attributes read them: a `CircuitOpen`
    /// is never retried, a `RateLimited` or `BulkheadFull` is retried after its
    /// `retry_after`, a `Timeout` when `retry_if` says so.
    ///
    /// ```
    /// use resilience::tower::{BoxError, RetryLayer};
    /// use resilience::{Retry, RetryConfig};
    /// fn is_transient(error: &BoxError) -> bool { error.to_string() == "busy" }
    /// let layer = RetryLayer::new(Retry::new("fetch", RetryConfig::default()).unwrap().into()).retry_if(is_transient);
    /// # drop(layer);
    /// ```
    pub fn retry_if(mut self, retry_if: fn(&BoxError) -> bool) -> Self {
        self.retry_if = retry_if;
        self
    }

    /// Reads the wait before the next attempt from the inner service's error (a server's
    /// `Retry-After`, see [`parse_retry_after`](crate::parse_retry_after)); capped at
    /// `max_delay`, and used instead of the backoff's when it gives one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience::tower::{BoxError, RetryLayer};
    /// use resilience::{Retry, RetryConfig};
    /// fn hinted(error: &BoxError) -> Option<Duration> {
    ///     error.to_string().strip_prefix("retry in ")?.parse().ok().map(Duration::from_secs)
    /// }
    /// let layer = RetryLayer::new(Retry::new("fetch", RetryConfig::default()).unwrap().into()).retry_after(hinted);
    /// # drop(layer);
    /// ```
    pub fn retry_after(mut self, retry_after: fn(&BoxError) -> Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The retry this layer's services share.
    ///
    /// ```
    /// use resilience::tower::RetryLayer;
    /// use resilience::{Retry, RetryConfig};
    /// let layer = RetryLayer::new(Retry::new("fetch", RetryConfig::DEFAULT.max_attempts(4)).unwrap().into());
    /// assert_eq!(layer.retry().config().max_attempts, 4);
    /// ```
    pub fn retry(&self) -> &Arc<Retry> {
        &self.retry
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            retry: Arc::clone(&self.retry),
            retry_if: self.retry_if,
            retry_after: self.retry_after,
        }
    }
}

/// A service whose failed calls are sent again; made by [`RetryLayer`].
///
/// Needs `Req: Clone`: each attempt sends a clone of the request, as tower's
/// `Policy::clone_request` does, since the inner service takes its request by value.
/// (A request that cannot be cloned, such as a streamed body, cannot be sent twice;
/// buffer it first.) The first attempt calls the inner service made ready by `poll_ready`;
/// each later one calls a clone of it, made ready first, so a clone whose readiness failed
/// is not used again (that failure is read as the attempt's error, by `retry_if`).
/// `S: Clone` for that, as in tower's `Retry`.
///
/// ```
/// use resilience::tower::{BoxError, RetryLayer};
/// use resilience::{Retry, RetryConfig};
/// use tower::{service_fn, Layer, Service, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), BoxError> {
/// let layer = RetryLayer::new(Retry::new("fetch", RetryConfig::default())?.into());
/// let mut fetch = layer.layer(service_fn(|path: &'static str| async move { Ok::<_, BoxError>(path.len()) }));
/// assert_eq!(fetch.ready().await?.call("/users").await?, 6);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RetryService<S> {
    inner: S,
    retry: Arc<Retry>,
    retry_if: fn(&BoxError) -> bool,
    retry_after: fn(&BoxError) -> Option<Duration>,
}

impl<S, Req> Service<Req> for RetryService<S>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    S::Response: Send + 'static,
    Req: Clone + Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        // The service made ready for this call goes with it; a clone takes its place.
        let clone = self.inner.clone();
        let ready = mem::replace(&mut self.inner, clone);
        let retry = Arc::clone(&self.retry);
        let (retry_if, retry_after) = (self.retry_if, self.retry_after);
        Box::pin(async move {
            // Each attempt gets `ready` back with its outcome. The first calls it, as made
            // ready by `poll_ready`; a later one calls a clone of it, made ready first, so
            // a clone whose readiness failed is dropped rather than polled again, and a
            // call that succeeds at once clones nothing.
            let attempt = move |(mut ready, first): (S, bool)| {
                let request = request.clone();
                let retried = (!first).then(|| ready.clone());
                async move {
                    let outcome = match retried {
                        None => outcome(ready.call(request).await),
                        Some(mut service) => {
                            let readiness = poll_fn(|cx| service.poll_ready(cx)).await;
                            match readiness.map_err(Into::into) {
                                Ok(()) => outcome(service.call(request).await),
                                Err(error) => Err(failure(error)),
                            }
                        }
                    };
                    ((ready, false), outcome)
                }
            };
            let (lent, describe) = ((ready, true), display);
            let outcome = retry.layer(lent, retry_if, retry_after, describe, attempt);
            finish(outcome.await)
        })
    }
}
