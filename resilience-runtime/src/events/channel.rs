//! The channels events travel on, and the count of subscriptions that keeps them free
//! while nobody listens.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use tokio::sync::broadcast;

use super::{Event, RecvError, TryRecvError};

/// How many events a channel holds for a subscriber that has not read them yet; beyond
/// that the oldest are dropped and the subscriber is told how many it missed.
///
/// ```
/// assert!(resilience::events::CAPACITY >= 1024);
/// ```
pub const CAPACITY: usize = 1024;

/// Live subscriptions in the process, to any channel: zero keeps every emission point at
/// one relaxed load. Relaxed is enough: a subscription made before a call (in the
/// happens-before sense: on the same task, or handed over through a channel or a join) is
/// seen by that call's load, by coherence; one made concurrently may miss the call's
/// events, as it would have missed them a moment earlier.
static SUBSCRIPTIONS: AtomicUsize = AtomicUsize::new(0);

/// Whether any subscription exists anywhere.
#[inline]
pub(super) fn anyone() -> bool {
    SUBSCRIPTIONS.load(Relaxed) != 0
}

/// One instance's events (or every instance's, for the process-wide one).
#[derive(Debug)]
pub(crate) struct Channel {
    sender: broadcast::Sender<Event>,
    /// Live subscriptions to this channel; shared with them, so that one outliving the
    /// instance still has a count to take itself off.
    subscriptions: Arc<AtomicUsize>,
}

impl Channel {
    fn new() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
            subscriptions: Arc::default(),
        }
    }

    pub(super) fn listened(&self) -> bool {
        self.subscriptions.load(Relaxed) != 0
    }

    /// Hands `event` to every subscriber, never waiting: a full buffer drops its oldest.
    pub(super) fn send(&self, event: Event) {
        // An error means every receiver went away since `listened`: nobody to tell.
        let _ = self.sender.send(event);
    }

    /// A subscription to the channel in `cell`, made on first use.
    pub(crate) fn subscribe(cell: &OnceLock<Channel>) -> Subscription {
        let channel = cell.get_or_init(Channel::new);
        Subscription::new(channel)
    }
}

/// The process-wide channel, which every instance's events also go to.
pub(super) fn everyone() -> &'static OnceLock<Channel> {
    static EVERYONE: OnceLock<Channel> = OnceLock::new();
    &EVERYONE
}

/// A subscription to every instance's events.
pub(crate) fn subscribe_all() -> Subscription {
    Channel::subscribe(everyone())
}

/// The receiving end of a stream of [`Event`]s: from [`Registry::subscribe`](crate::Registry::subscribe)
/// (every instance) or an instance's `subscribe()`.
///
/// It holds up to [`CAPACITY`] events it has not read; a call never waits for it. Dropping
/// it ends the subscription, and once none is left events are not built at all.
///
/// ```
/// use resilience::events::{Detail, RecvError};
/// use resilience::{RateLimiter, RateLimiterConfig};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let limiter = RateLimiter::new("api", RateLimiterConfig::DEFAULT.max_requests(1).window(Duration::from_secs(1))).unwrap();
/// let mut events = limiter.subscribe();
/// // Read them on a task of their own, as an operator's dashboard would.
/// let reader = tokio::spawn(async move {
///     let mut rejections = 0;
///     loop {
///         match events.recv().await {
///             Ok(event) if matches!(event.detail, Detail::Rejected { .. }) => rejections += 1,
///             Ok(_) => {}
///             Err(RecvError::Lagged(missed)) => eprintln!("missed {missed} events"),
///             Err(RecvError::Closed) => return rejections,
///         }
///     }
/// });
/// assert!(limiter.try_acquire().is_ok());
/// assert!(limiter.try_acquire().is_err());
/// drop(limiter); // the instance is gone: the subscription ends
/// assert_eq!(reader.await.unwrap(), 1);
/// # }
/// ```
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<Event>,
    /// Taken off when the subscription is dropped.
    counted: Arc<AtomicUsize>,
}

impl Subscription {
    fn new(channel: &Channel) -> Self {
        // Counted before the receiver exists, so no event sent to it is skipped by a
        // count that does not show it yet.
        channel.subscriptions.fetch_add(1, Relaxed);
        SUBSCRIPTIONS.fetch_add(1, Relaxed);
        Self {
            receiver: channel.sender.subscribe(),
            counted: Arc::clone(&channel.subscriptions),
        }
    }

    /// The next event, waiting for one.
    ///
    /// Cancel safe: dropping the future before it completes loses no event.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] with the number of events this subscription missed because
    /// it fell [`CAPACITY`] behind; the next call returns the oldest event still held.
    /// [`RecvError::Closed`] when the instance is gone and every event was read.
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let breaker = CircuitBreaker::new("db", CircuitBreakerConfig::DEFAULT.failure_threshold(1)).unwrap();
    /// let mut events = breaker.subscribe();
    /// breaker.force_open();
    /// assert_eq!(events.recv().await.unwrap().to_string(), "circuit breaker `db` went from closed to forced-open");
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        self.receiver.recv().await
    }

    /// The next event if one is waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when no event is waiting; `Lagged` and `Closed` as
    /// [`recv`](Self::recv).
    ///
    /// ```
    /// # use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// use resilience::events::TryRecvError;
    /// let breaker = CircuitBreaker::new("db", CircuitBreakerConfig::default()).unwrap();
    /// let mut events = breaker.subscribe();
    /// assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&mut self) -> Result<Event, TryRecvError> {
        self.receiver.try_recv()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.counted.fetch_sub(1, Relaxed);
        SUBSCRIPTIONS.fetch_sub(1, Relaxed);
    }
}
