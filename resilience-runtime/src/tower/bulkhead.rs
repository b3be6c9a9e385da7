//! The bulkhead as a tower layer: a slot reserved in `poll_ready`, held by the response
//! future.

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::{BoxError, Held};
use crate::{registry, Bulkhead, BulkheadPermit, ConfigError, Error};

/// Wraps a service in a [`BulkheadService`]: at most `max_concurrent` calls in the inner
/// service at once, across every service of the same bulkhead.
///
/// ```
/// use resilience::tower::{BoxError, BulkheadLayer};
/// use resilience::{Bulkhead, BulkheadConfig};
/// use tower::{service_fn, Service, ServiceBuilder, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
/// let pool = std::sync::Arc::new(Bulkhead::new("pool", BulkheadConfig::DEFAULT.max_concurrent(2))?);
/// let mut export = ServiceBuilder::new()
///     .layer(BulkheadLayer::new(pool.clone()))
///     .service(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
/// let ready = export.ready().await?;
/// assert_eq!(pool.available(), 1, "reserved by `poll_ready`");
/// assert_eq!(ready.call(1).await?, 1);
/// assert_eq!(pool.available(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct BulkheadLayer {
    bulkhead: Held<Bulkhead>,
}

impl BulkheadLayer {
    /// A layer over the registry's bulkhead `name`, the one attributes naming it use.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Undeclared`] when no attribute declares a bulkhead `name` and none
    /// was created by that name.
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// use resilience::{registry, BulkheadConfig};
    /// registry().get_or_create("docs::tower::pool", BulkheadConfig::default()).unwrap();
    /// assert!(BulkheadLayer::named("docs::tower::pool").is_ok());
    /// assert!(BulkheadLayer::named("docs::tower::nothing").is_err());
    /// ```
    pub fn named(name: &str) -> Result<Self, ConfigError> {
        registry().named(name).map(|bulkhead| Self {
            bulkhead: Held::Forever(bulkhead),
        })
    }

    /// A layer over `bulkhead`, shared with whoever else holds it.
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// use resilience::{Bulkhead, BulkheadConfig};
    /// let layer = BulkheadLayer::new(Bulkhead::new("pool", BulkheadConfig::default()).unwrap().into());
    /// assert_eq!(layer.bulkhead().name(), "pool");
    /// ```
    pub fn new(bulkhead: Arc<Bulkhead>) -> Self {
        Self {
            bulkhead: Held::Counted(bulkhead),
        }
    }

    /// The bulkhead this layer's services share.
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// use resilience::{Bulkhead, BulkheadConfig};
    /// let layer = BulkheadLayer::new(Bulkhead::new("pool", BulkheadConfig::default()).unwrap().into());
    /// assert_eq!(layer.bulkhead().available(), 10);
    /// ```
    pub fn bulkhead(&self) -> &Arc<Bulkhead> {
        self.bulkhead.arc()
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = BulkheadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService {
            inner,
            bulkhead: self.bulkhead.clone(),
            permit: None,
            slot: Slot::None,
        }
    }
}

/// A service behind a bulkhead; made by [`BulkheadLayer`].
///
/// `poll_ready` reserves a slot, queueing for it as [`Bulkhead::acquire`] does (for up to
/// `max_wait`, behind at most `max_queued` others), then waits for the inner service; the
/// slot is held by the response future until the inner one ends, or until it is dropped. A service dropped
/// while reserved or queued gives its slot or its place back, and a clone starts without
/// one, as tower's `ConcurrencyLimit` does.
///
/// When the bulkhead rejects (no slot within `max_wait`, or the queue full), `poll_ready`
/// still returns ready, and `call` answers [`Error::BulkheadFull`] without calling the
/// inner service: a readiness error would tell tower the service is broken for good,
/// while a full bulkhead is a verdict on one call (tower's `LoadShed` answers the same
/// way). A `call` made without `poll_ready`, against tower's contract, takes a free slot
/// or is rejected the same way, so the limit holds either way. A reservation counts in the
/// bulkhead's stats when it is taken, as a permit does: in `admitted` (dropped before its
/// call or not) or `rejections`.
///
/// ```
/// use resilience::tower::{BoxError, BulkheadLayer};
/// use resilience::{Bulkhead, BulkheadConfig};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), BoxError> {
/// let pool = std::sync::Arc::new(Bulkhead::new("pool", BulkheadConfig::DEFAULT.max_concurrent(1))?);
/// let mut service = BulkheadLayer::new(pool.clone()).layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
/// service.ready().await?;
/// let clone = service.clone();
/// assert_eq!(pool.available(), 0, "the reservation stays with the original");
/// drop(service);
/// assert_eq!(pool.available(), 1, "and goes back when it is dropped");
/// # drop(clone);
/// # Ok(()) }
/// ```
pub struct BulkheadService<S> {
    inner: S,
    bulkhead: Held<Bulkhead>,
    /// The slot reserved for the next call. Apart from `slot`, so that the common path
    /// moves a pointer, not the larger enum.
    permit: Option<Reserved>,
    slot: Slot,
}

/// A slot reserved for a call or held by one, given back when dropped.
struct Reserved(Held<Bulkhead>);

impl Reserved {
    fn new(bulkhead: &Held<Bulkhead>, permit: BulkheadPermit<'_>) -> Self {
        permit.disarm(bulkhead);
        Self(bulkhead.clone())
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Where a service's reservation stands while it holds no slot.
enum Slot {
    /// None asked for since the last call, or the slot taken (in `permit`).
    None,
    /// Queued for a slot.
    Queued(Pin<Box<dyn Future<Output = Result<Reserved, Error>> + Send + Sync>>),
    /// The bulkhead's refusal, for the next call.
    Rejected(Error),
}

impl<S: Clone> Clone for BulkheadService<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            bulkhead: self.bulkhead.clone(),
            // A reservation is for one call, the original's.
            permit: None,
            slot: Slot::None,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for BulkheadService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadService")
            .field("inner", &self.inner)
            .field("bulkhead", &self.bulkhead.name())
            .field("reserved", &self.permit.is_some())
            .finish()
    }
}

impl<S, Req> Service<Req> for BulkheadService<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BulkheadFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.permit.is_none() && !self.try_reserve() {
            let reserved = ready!(self.poll_reserve(cx));
            if !reserved {
                // Rejected: the call that follows is answered without the inner service.
                return Poll::Ready(Ok(()));
            }
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let permit = match self.permit.take() {
            Some(permit) => permit,
            None => match self.take_unreserved() {
                Ok(permit) => permit,
                Err(rejection) => {
                    let state = State::Rejected { rejection };
                    return BulkheadFuture { state };
                }
            },
        };
        let state = State::Admitted {
            inner: self.inner.call(request),
            permit: Some(permit),
        };
        BulkheadFuture { state }
    }
}

/// The common path (a free slot, nothing queued) inline; queueing, rejections and calls
/// made without `poll_ready` out of line, so the service's own code stays small enough
/// for the caller's loop to inline.
impl<S> BulkheadService<S> {
    /// Takes a free slot when nothing is queued or decided yet, without boxing anything.
    #[inline]
    fn try_reserve(&mut self) -> bool {
        if !matches!(self.slot, Slot::None) {
            return false;
        }
        let Some(permit) = self.bulkhead.try_take() else {
            return false;
        };
        self.permit = Some(Reserved::new(&self.bulkhead, permit));
        true
    }

    /// Queues for a slot (only a caller that has to queue pays for a boxed future); ready
    /// with `true` once one is reserved, with `false` once the bulkhead rejected.
    #[cold]
    #[inline(never)]
    fn poll_reserve(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        while self.permit.is_none() {
            match &mut self.slot {
                Slot::None => match self.bulkhead.try_take() {
                    Some(permit) => self.permit = Some(Reserved::new(&self.bulkhead, permit)),
                    None => {
                        let bulkhead = self.bulkhead.clone();
                        self.slot = Slot::Queued(Box::pin(async move {
                            let permit = bulkhead.acquire().await?;
                            Ok(Reserved::new(&bulkhead, permit))
                        }));
                    }
                },
                Slot::Queued(wait) => match ready!(wait.as_mut().poll(cx)) {
                    Ok(permit) => {
                        self.slot = Slot::None;
                        self.permit = Some(permit);
                    }
                    Err(rejection) => self.slot = Slot::Rejected(rejection),
                },
                Slot::Rejected(_) => return Poll::Ready(false),
            }
        }
        Poll::Ready(true)
    }

    /// A call without a reservation: the bulkhead's rejection from `poll_ready`, or, for a
    /// call made without `poll_ready`, a free slot or a rejection now.
    #[cold]
    #[inline(never)]
    fn take_unreserved(&mut self) -> Result<Reserved, Error> {
        match mem::replace(&mut self.slot, Slot::None) {
            Slot::Rejected(rejection) => Err(rejection),
            Slot::None | Slot::Queued(_) => self
                .bulkhead
                .try_acquire()
                .map(|permit| Reserved::new(&self.bulkhead, permit)),
        }
    }
}

pin_project! {
    /// The response future of a [`BulkheadService`]; holds the call's slot.
    ///
    /// ```
    /// use resilience::tower::{BoxError, BulkheadFuture, BulkheadLayer};
    /// use resilience::{Bulkhead, BulkheadConfig};
    /// use tower::{service_fn, Layer, Service};
    /// let layer = BulkheadLayer::new(Bulkhead::new("pool", BulkheadConfig::default()).unwrap().into());
    /// let mut service = layer.layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    /// let future: BulkheadFuture<_> = service.call(1);
    /// assert_eq!(layer.bulkhead().active(), 1);
    /// drop(future);
    /// assert_eq!(layer.bulkhead().active(), 0);
    /// ```
    pub struct BulkheadFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = Projection]
    enum State<F> {
        /// Admitted: the inner service's future and the slot it runs in.
        Admitted {
            #[pin]
            inner: F,
            permit: Option<Reserved>,
        },
        /// Rejected; the inner service was not called.
        Rejected { rejection: Error },
    }
}

impl<F, T, E> Future for BulkheadFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            Projection::Admitted { inner, permit } => {
                let result = ready!(inner.poll(cx));
                // The slot goes back as the call ends, not when its future is dropped.
                drop(permit.take());
                Poll::Ready(result.map_err(Into::into))
            }
            Projection::Rejected { rejection } => Poll::Ready(Err(rejection.clone().into())),
        }
    }
}
