//! The timeout as a tower layer: the inner future is dropped when time runs out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower_layer::Layer;
use tower_service::Service;

use super::{BoxError, Held};
use crate::time::{self, Tick};
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
    timeout: Held<Timeout>,
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
        registry().named(name).map(|timeout| Self {
            timeout: Held::Forever(timeout),
        })
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
        Self {
            timeout: Held::Counted(timeout),
        }
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
        self.timeout.arc()
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService {
            inner,
            timeout: self.timeout.clone(),
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
    timeout: Held<Timeout>,
}

impl<S, Req> Service<Req> for TimeoutService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        TimeoutFuture {
            inner: Inner::Running {
                future: self.inner.call(request),
            },
            timer: None,
            deadline: None,
            timeout: self.timeout.clone(),
        }
    }
}

pin_project! {
    /// The response future of a [`TimeoutService`]: the inner service's future, and the
    /// timer it races, armed only if that future is not ready on its first poll. The
    /// timer is boxed: tokio's is larger than the rest of this future, which every call
    /// would move around, while only a call that waits needs one (and pays for its
    /// registration with tokio's timer anyway).
    ///
    /// ```
    /// use resilience::tower::{BoxError, TimeoutFuture, TimeoutLayer};
    /// use resilience::{Timeout, TimeoutConfig};
    /// use tower::{service_fn, Layer, Service};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
    /// let layer = TimeoutLayer::new(Timeout::new("db", TimeoutConfig::default())?.into());
    /// let mut service = layer.layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    /// let future: TimeoutFuture<_> = service.call(1);
    /// assert_eq!(layer.timeout().stats().calls, 0, "counted, and timed, from its first poll");
    /// assert_eq!(future.await?, 1);
    /// # Ok(()) }
    /// ```
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: Inner<F>,
        timer: Option<Pin<Box<Sleep>>>,
        // Set at the first poll, which starts the clock: the deadline, and the limit it
        // was read from (a reload meanwhile does not change this call's).
        deadline: Option<(Tick, Duration)>,
        timeout: Held<Timeout>,
    }
}

pin_project! {
    #[project = InnerProjection]
    enum Inner<F> {
        /// The inner service's future, until it answers or time runs out.
        Running {
            #[pin]
            future: F,
        },
        /// Dropped when time ran out.
        Dropped,
    }
}

impl<F, T, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let InnerProjection::Running { mut future } = this.inner.as_mut().project() else {
            panic!("`TimeoutFuture` polled after it answered");
        };
        // The deadline rules of `Timeout::call` (`time::timeout`), polled by hand rather
        // than through an `async` block, which would have to be boxed to be named.
        let (deadline, limit) = match *this.deadline {
            Some(started) => started,
            None => {
                this.timeout.started();
                let start = time::now();
                // A future ready at once costs one clock read and no timer.
                if let Poll::Ready(result) = future.as_mut().poll(cx) {
                    this.timeout.completed();
                    return Poll::Ready(result.map_err(Into::into));
                }
                let limit = this.timeout.duration();
                let deadline = start.saturating_add(time::nanos(limit));
                *this.deadline = Some((deadline, limit));
                let left = deadline.saturating_sub(time::now());
                if left == 0 {
                    this.inner.set(Inner::Dropped);
                    return Poll::Ready(Err(this.timeout.timed_out(limit).into()));
                }
                // The time left, not an instant: tokio measures it on its own clock.
                *this.timer = Some(Box::pin(time::timer(Duration::from_nanos(left))));
                (deadline, limit)
            }
        };
        // The deadline is checked before each poll, not only when the timer fires: the
        // timer wheel notices time only when the runtime gets control back, which an
        // inner future that blocked past its deadline did not give it.
        let fired = this
            .timer
            .as_mut()
            .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
        if fired || time::now() >= deadline {
            // Dropped now, as `Timeout::call` drops it, not whenever the caller drops
            // this future: that cancels the inner service's work at the deadline.
            this.inner.set(Inner::Dropped);
            return Poll::Ready(Err(this.timeout.timed_out(limit).into()));
        }
        let result = ready!(future.poll(cx));
        this.timeout.completed();
        Poll::Ready(result.map_err(Into::into))
    }
}
