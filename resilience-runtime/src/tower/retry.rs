//! The retry as a tower layer: each attempt calls the inner service with a clone of the
//! request.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower_layer::Layer;
use tower_service::Service;

use super::{failure, BoxError, Held};
use crate::pipeline::{display, finish};
use crate::retry::Budget;
use crate::time::{self, Tick};
use crate::{registry, ConfigError, Retry, RetryConfig};

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
    retry: Held<Retry>,
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
        let retry = registry().named(name)?;
        Ok(Self::held(Held::Forever(retry)))
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
        Self::held(Held::Counted(retry))
    }

    fn held(retry: Held<Retry>) -> Self {
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
        self.retry.arc()
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = RetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            retry: self.retry.clone(),
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
/// buffer it first.) The first attempt calls the inner service made ready by `poll_ready`,
/// in `call` itself as tower's own services do; each later one calls a clone of it, made
/// ready first, so a clone whose readiness failed is not used again (that failure is read
/// as the attempt's error, by `retry_if`). `S: Clone` for that, as in tower's `Retry`.
/// The response future is a [`RetryFuture`]: it allocates nothing unless a failed
/// attempt has to wait for the next one.
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
    retry: Held<Retry>,
    retry_if: fn(&BoxError) -> bool,
    retry_after: fn(&BoxError) -> Option<Duration>,
}

impl<S, Req> Service<Req> for RetryService<S>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    Req: Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = RetryFuture<S, Req>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        // The service made ready for this call goes with it; a clone takes its place.
        let clone = self.inner.clone();
        let mut ready = mem::replace(&mut self.inner, clone);
        let future = ready.call(request.clone());
        RetryFuture {
            attempt: Attempt::Called { future },
            ready,
            request,
            start: self.retry.start(self.retry.config()),
            failures: 0,
            config: None,
            retry: self.retry.clone(),
            retry_if: self.retry_if,
            retry_after: self.retry_after,
        }
    }
}

pin_project! {
    /// The response future of a [`RetryService`]: the attempt under way, or the wait
    /// before the next one, with what each attempt needs (the request to clone, the
    /// service to clone).
    ///
    /// ```
    /// use resilience::tower::{BoxError, RetryFuture, RetryLayer};
    /// use resilience::{Retry, RetryConfig};
    /// use tower::{service_fn, Layer, Service};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
    /// let layer = RetryLayer::new(Retry::new("fetch", RetryConfig::default())?.into());
    /// let mut service = layer.layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    /// let future: RetryFuture<_, u8> = service.call(1);
    /// assert_eq!(future.await?, 1);
    /// assert_eq!(layer.retry().stats().succeeded_first_try, 1);
    /// # Ok(()) }
    /// ```
    pub struct RetryFuture<S, Req>
    where
        S: Service<Req>,
    {
        #[pin]
        attempt: Attempt<S::Future, S>,
        // The service `poll_ready` made ready, called by the first attempt; each later
        // one calls a clone of it.
        ready: S,
        request: Req,
        start: Option<Tick>,
        failures: u32,
        // The config the call's failures are weighed by, taken at its first failure and
        // kept for the rest of the call, so a reload meanwhile never mixes two. Boxed:
        // only a call that failed holds one.
        config: Option<Box<RetryConfig>>,
        retry: Held<Retry>,
        retry_if: fn(&BoxError) -> bool,
        retry_after: fn(&BoxError) -> Option<Duration>,
    }
}

pin_project! {
    #[project = AttemptProjection]
    enum Attempt<F, S> {
        /// An attempt's call, under way.
        Called {
            #[pin]
            future: F,
        },
        /// The wait before the next attempt: a timer, or none for a wait of zero, which
        /// yields once so that a retry loop does not hold its thread. The timer is boxed:
        /// tokio's is larger than everything else here, and every call would move it
        /// around, while only a call that failed waits.
        Backoff { timer: Option<Pin<Box<Sleep>>> },
        /// A clone of the service, being made ready for the next attempt. One whose
        /// readiness fails is dropped with this state rather than polled again, and that
        /// failure is read as the attempt's error.
        Readying { service: S },
    }
}

impl<S, Req> Future for RetryFuture<S, Req>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    Req: Clone,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let failure = match this.attempt.as_mut().project() {
                AttemptProjection::Called { future } => match ready!(future.poll(cx)) {
                    Ok(response) => {
                        this.retry.count_success(*this.failures);
                        return Poll::Ready(Ok(response));
                    }
                    Err(error) => failure(error.into()),
                },
                AttemptProjection::Backoff { timer } => {
                    if let Some(timer) = timer {
                        ready!(timer.as_mut().poll(cx));
                    }
                    this.retry.retried();
                    let service = this.ready.clone();
                    this.attempt.set(Attempt::Readying { service });
                    continue;
                }
                AttemptProjection::Readying { service } => match ready!(service.poll_ready(cx)) {
                    Ok(()) => {
                        let future = service.call(this.request.clone());
                        this.attempt.set(Attempt::Called { future });
                        continue;
                    }
                    Err(error) => failure(error.into()),
                },
            };
            *this.failures += 1;
            let (retry_if, retry_after) = (*this.retry_if, *this.retry_after);
            let retry = &**this.retry;
            let config = this
                .config
                .get_or_insert_with(|| Box::new(retry.config().clone()));
            let budget = Budget {
                config,
                start: *this.start,
            };
            let wait = retry.after_failure(
                budget,
                &failure,
                *this.failures,
                retry_if,
                retry_after,
                display,
            );
            let Some(wait) = wait else {
                return Poll::Ready(finish(Err(failure)));
            };
            if wait.is_zero() {
                this.attempt.set(Attempt::Backoff { timer: None });
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let timer = Some(Box::pin(time::timer(wait)));
            this.attempt.set(Attempt::Backoff { timer });
        }
    }
}
