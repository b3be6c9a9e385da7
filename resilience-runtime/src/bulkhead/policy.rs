//! The bulkhead itself: slots, the queue's limits, and its pipeline layer.

use super::config::BulkheadConfig;
use super::permit::{BulkheadPermit, OwnedBulkheadPermit};
use super::slots::{Permit, Slots, Wait};
use super::stats::BulkheadStats;
use crate::counter::Counter;
use crate::events::{Emitter, Subscription};
use crate::live::Live;
use crate::pipeline::{self, Failure, Outcome};
use crate::{blocking, time, ConfigError, Error, Kind};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

/// Runs at most `max_concurrent` calls at once; the others queue in arrival order for up
/// to `max_wait`, then are rejected with [`Error::BulkheadFull`]. So is a call that finds
/// `max_queued` calls queued already.
///
/// A slot comes back when its call finishes, is dropped (while running or while queued),
/// or panics. For work that is not one future, [`try_acquire`](Self::try_acquire) and
/// [`acquire`](Self::acquire) hand out the slot itself as a [`BulkheadPermit`]. Plain
/// (non-async) code takes slots with [`acquire_blocking`](Self::acquire_blocking) and
/// [`call_blocking`](Self::call_blocking), parked in the same queue as async callers.
///
/// Taking a free slot and giving it back while nobody queues are one atomic operation
/// each; the queue's lock is touched only when every slot is taken.
///
/// ```
/// use resilience::{Bulkhead, BulkheadConfig};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bulkhead = Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(2)).unwrap();
/// let seen = bulkhead.call(|| async { Ok::<_, resilience::Error>(bulkhead.active()) }).await;
/// assert_eq!(seen, Ok(1));
/// assert_eq!(bulkhead.available(), 2);
/// # }
/// ```
pub struct Bulkhead {
    name: Arc<str>,
    config: Live<BulkheadConfig>,
    slots: Slots,
    admitted: Counter,
    rejections: AtomicU64,
    events: Emitter,
}

impl Bulkhead {
    /// A bulkhead named `name`, every slot free.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`BulkheadConfig::validate`].
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::DEFAULT.max_concurrent(4)).unwrap();
    /// assert_eq!(bulkhead.available(), 4);
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: BulkheadConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let name = name.into();
        Ok(Self {
            events: Emitter::new(&name, Kind::Bulkhead),
            name,
            slots: Slots::new(config.max_concurrent),
            config: Live::new(config),
            admitted: Counter::default(),
            rejections: AtomicU64::new(0),
        })
    }

    /// The bulkhead's name.
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// assert_eq!(Bulkhead::new("db", BulkheadConfig::default()).unwrap().name(), "db");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bulkhead's configuration.
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// assert_eq!(bulkhead.config().max_concurrent, 10);
    /// ```
    pub fn config(&self) -> &BulkheadConfig {
        self.config.get()
    }

    /// Sets a new configuration from now on, keeping the calls running and queued.
    ///
    /// A larger `max_concurrent` frees the new slots at once, to the callers queued first.
    /// A smaller one takes the free slots away at once and the others as the calls holding
    /// them end: no call starts until fewer than the new limit run, and no running call
    /// is cut short. No slot is lost either way, and at no moment do more calls run than
    /// the larger of the two limits. `max_wait` and `max_queued` apply to callers that
    /// arrive from now on. Emits [`Detail::Reconfigured`](crate::events::Detail::Reconfigured)
    /// when the config changes.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`BulkheadConfig::validate`]; the bulkhead is unchanged.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::DEFAULT.max_concurrent(2)).unwrap();
    /// let running = bulkhead.try_acquire().unwrap();
    /// bulkhead.reconfigure(BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap();
    /// assert!(bulkhead.try_acquire().is_err(), "one runs, the new limit");
    /// drop(running);
    /// assert!(bulkhead.try_acquire().is_ok());
    /// # }
    /// ```
    pub fn reconfigure(&self, config: BulkheadConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let resize = |previous: &BulkheadConfig, next: &BulkheadConfig| {
            // Both limits are at most `usize::MAX >> 3` (see `validate`): no overflow.
            let by = next.max_concurrent as isize - previous.max_concurrent as isize;
            self.slots.resize(by);
        };
        if let Some((previous, next)) = self.config.reload(config, resize) {
            self.events.reconfigured(previous.changes(next));
        }
        Ok(())
    }

    /// Calls running now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// let inside = bulkhead.call(|| async { Ok::<_, Error>(bulkhead.active()) }).await;
    /// assert_eq!((inside, bulkhead.active()), (Ok(1), 0));
    /// # }
    /// ```
    pub fn active(&self) -> usize {
        // Read apart, so a reload between the reads could make this negative: clamped.
        let max = self.config().max_concurrent as isize;
        usize::try_from(max - self.slots.balance()).unwrap_or(0)
    }

    /// Free slots now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::DEFAULT.max_concurrent(2)).unwrap();
    /// let inside = bulkhead.call(|| async { Ok::<_, Error>(bulkhead.available()) }).await;
    /// assert_eq!((inside, bulkhead.available()), (Ok(1), 2));
    /// # }
    /// ```
    pub fn available(&self) -> usize {
        self.slots.free()
    }

    /// Calls waiting for a slot now.
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// assert_eq!(Bulkhead::new("db", BulkheadConfig::default()).unwrap().queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.slots.queued()
    }

    /// Runs `f` once a slot is free.
    ///
    /// # Errors
    ///
    /// [`Error::BulkheadFull`], converted into `E`, when no slot frees within `max_wait`;
    /// otherwise what `f` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// let rows: Result<u32, anyhow::Error> = bulkhead.call(|| async { Ok(3) }).await;
    /// assert_eq!(rows.unwrap(), 3);
    /// # }
    /// ```
    pub async fn call<T, E, F, Fut>(&self, f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        pipeline::finish(self.layer(|| pipeline::body(f())).await)
    }

    /// The bulkhead as one layer of a stack: see [`pipeline`](crate::pipeline).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// use resilience::pipeline::{body, finish};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// let outcome = bulkhead.layer(|| body(async { Ok::<_, Error>(1) })).await;
    /// assert_eq!(finish(outcome), Ok(1));
    /// # }
    /// ```
    pub async fn layer<T, E, F, Fut>(&self, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        // `acquire`, written out: awaiting it would nest its future in this one, and a
        // free slot would pay for the nesting.
        let slot = match self.slots.try_acquire() {
            Some(slot) => Some(slot),
            None => self.wait_for_slot().await,
        };
        let _permit = match self.admit(slot) {
            Ok(permit) => permit,
            Err(full) => return Err(Failure::Rejected(full)),
        };
        next().await
    }

    /// Runs `f` on this thread once a slot is free, blocking it while it queues: the
    /// blocking counterpart of [`call`](Self::call), for plain (non-async) code. Async and
    /// blocking callers share the slots, the queue and its order.
    ///
    /// The wait is measured on the real clock, even inside a runtime whose clock is paused.
    /// Called on a runtime's thread it blocks that thread, and a slot held by one of that
    /// runtime's tasks cannot come back meanwhile: from async code, call it through
    /// `tokio::task::spawn_blocking`.
    ///
    /// # Errors
    ///
    /// [`Error::BulkheadFull`], converted into `E`, when no slot frees within `max_wait`;
    /// otherwise what `f` returns.
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// # use resilience::Error;
    /// let bulkhead = Bulkhead::new("files", BulkheadConfig::DEFAULT.max_concurrent(2)).unwrap();
    /// let inside = bulkhead.call_blocking(|| Ok::<_, Error>(bulkhead.active()));
    /// assert_eq!((inside, bulkhead.available()), (Ok(1), 2));
    /// ```
    pub fn call_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnOnce() -> Result<T, E>,
    {
        pipeline::finish(self.layer_blocking(|| pipeline::body_blocking(f)))
    }

    /// The bulkhead as one layer of a stack of plain (non-async) code, blocking while it
    /// queues: see [`call_blocking`](Self::call_blocking) and [`pipeline`](crate::pipeline).
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// use resilience::pipeline::{body_blocking, finish};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// let outcome = bulkhead.layer_blocking(|| body_blocking(|| Ok::<_, Error>(1)));
    /// assert_eq!(finish(outcome), Ok(1));
    /// ```
    pub fn layer_blocking<T, E, F>(&self, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Outcome<T, E>,
    {
        // Held across `next`, so a panic in it gives the slot back as it unwinds.
        let _permit = match self.acquire_blocking() {
            Ok(permit) => permit,
            Err(full) => return Err(Failure::Rejected(full)),
        };
        next()
    }

    /// Takes a free slot now, without queueing; the slot is given back when the permit is
    /// dropped. Counted as a call: in [`active`](Self::active) while held, in the stats'
    /// `admitted` or `rejections`.
    ///
    /// # Errors
    ///
    /// [`Error::BulkheadFull`] when no slot is free. It never jumps the queue: a slot given
    /// back while callers queue goes to the first of them.
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap();
    /// let permit = bulkhead.try_acquire()?;
    /// assert!(matches!(bulkhead.try_acquire(), Err(Error::BulkheadFull { .. })));
    /// drop(permit);
    /// assert!(bulkhead.try_acquire().is_ok());
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<BulkheadPermit<'_>, Error> {
        self.admit(self.slots.try_acquire())
    }

    /// Takes a slot, queueing for up to `max_wait` (behind at most `max_queued` others)
    /// when none is free, exactly as [`call`](Self::call) does; the slot is given back when
    /// the permit is dropped.
    ///
    /// Cancel-safe: dropped while queued, the future leaves the queue, and a slot handed
    /// to it in that moment passes on to the next caller.
    ///
    /// # Errors
    ///
    /// [`Error::BulkheadFull`] when no slot frees within `max_wait`, or `max_queued`
    /// callers queue already.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), resilience::Error> {
    /// # use std::time::Duration;
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let config = BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(Duration::from_secs(1));
    /// let bulkhead = Bulkhead::new("exports", config).unwrap();
    /// let held = bulkhead.acquire().await?;
    /// let start = tokio::time::Instant::now();
    /// assert!(matches!(bulkhead.acquire().await, Err(Error::BulkheadFull { .. })));
    /// assert_eq!(start.elapsed(), Duration::from_secs(1), "queued for `max_wait`");
    /// drop(held);
    /// assert!(bulkhead.acquire().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn acquire(&self) -> Result<BulkheadPermit<'_>, Error> {
        // A free slot is taken before the first await: the common case stays one
        // compare-and-swap.
        let slot = match self.slots.try_acquire() {
            Some(slot) => Some(slot),
            None => self.wait_for_slot().await,
        };
        self.admit(slot)
    }

    /// [`try_acquire`](Self::try_acquire) on a shared bulkhead: the permit holds the `Arc`,
    /// so it can move into a spawned task or a stream's state.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Arc::new(Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap());
    /// let permit = Arc::clone(&bulkhead).try_acquire_owned().unwrap();
    /// assert!(Arc::clone(&bulkhead).try_acquire_owned().is_err());
    /// drop(permit);
    /// assert_eq!(bulkhead.available(), 1);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedBulkheadPermit, Error> {
        let permit = self.try_acquire()?;
        Ok(permit.into_owned(Arc::clone(&self)))
    }

    /// A free slot now, counted as admitted, or `None` with nothing counted yet: the first
    /// step of [`acquire`](Self::acquire), for a caller that queues, when it must, in a
    /// future of its own (the tower layer's `poll_ready`, which then boxes `acquire` only
    /// when every slot is taken).
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn try_take(&self) -> Option<BulkheadPermit<'_>> {
        let slot = self.slots.try_acquire()?;
        Some(self.admitted_in(slot))
    }

    /// [`acquire`](Self::acquire) on a shared bulkhead: the permit holds the `Arc`, so it
    /// can move into a spawned task or a stream's state. Cancel-safe as `acquire`.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), resilience::Error> {
    /// # use std::sync::Arc;
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Arc::new(Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(2)).unwrap());
    /// let permit = Arc::clone(&bulkhead).acquire_owned().await?;
    /// tokio::spawn(async move { drop(permit) }).await.unwrap();
    /// assert_eq!(bulkhead.available(), 2);
    /// # Ok(()) }
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedBulkheadPermit, Error> {
        let permit = self.acquire().await?;
        Ok(permit.into_owned(Arc::clone(&self)))
    }

    /// This bulkhead's [events](crate::events): the calls it rejected and those that
    /// waited for a slot, from now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use resilience::events::Detail;
    /// use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap();
    /// let mut events = bulkhead.subscribe();
    /// let first = bulkhead.call(|| async { tokio::time::sleep(Duration::from_millis(30)).await; Ok::<_, Error>(()) });
    /// let second = bulkhead.call(|| async { Ok::<_, Error>(()) });
    /// let _ = tokio::join!(first, second);
    /// assert_eq!(events.try_recv().unwrap().detail, Detail::Waited { waited: Duration::from_millis(30) });
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// Takes a slot, blocking this thread while it queues for up to `max_wait` (behind at
    /// most `max_queued` others): the blocking counterpart of [`acquire`](Self::acquire),
    /// for plain (non-async) code. Async and blocking callers queue together, first come
    /// first served. The wait is measured on the real clock; from async code, call it
    /// through `tokio::task::spawn_blocking` (see [`call_blocking`](Self::call_blocking)).
    ///
    /// # Errors
    ///
    /// [`Error::BulkheadFull`] when no slot frees within `max_wait`, or `max_queued`
    /// callers queue already.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let config = BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(Duration::from_millis(20));
    /// let bulkhead = Bulkhead::new("exports", config).unwrap();
    /// let held = bulkhead.acquire_blocking()?;
    /// let start = Instant::now();
    /// assert!(matches!(bulkhead.acquire_blocking(), Err(Error::BulkheadFull { .. })));
    /// assert!(start.elapsed() >= Duration::from_millis(20), "queued for `max_wait`");
    /// drop(held);
    /// assert!(bulkhead.acquire_blocking().is_ok());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn acquire_blocking(&self) -> Result<BulkheadPermit<'_>, Error> {
        let slot = match self.slots.try_acquire() {
            Some(slot) => Some(slot),
            None => self.wait_for_slot_blocking(),
        };
        self.admit(slot)
    }

    /// [`acquire_blocking`](Self::acquire_blocking) on a shared bulkhead: the permit holds
    /// the `Arc`, so it can move to another thread.
    ///
    /// # Errors
    ///
    /// As [`acquire_blocking`](Self::acquire_blocking).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Arc::new(Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap());
    /// let permit = Arc::clone(&bulkhead).acquire_owned_blocking()?;
    /// std::thread::spawn(move || drop(permit)).join().unwrap();
    /// assert_eq!(bulkhead.available(), 1);
    /// # Ok::<(), resilience::Error>(())
    /// ```
    pub fn acquire_owned_blocking(self: Arc<Self>) -> Result<OwnedBulkheadPermit, Error> {
        let permit = self.acquire_blocking()?;
        Ok(permit.into_owned(Arc::clone(&self)))
    }

    /// Counters since creation, and the load now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// let _ = bulkhead.call(|| async { Ok::<_, Error>(()) }).await;
    /// assert_eq!(bulkhead.stats().admitted, 1);
    /// # }
    /// ```
    pub fn stats(&self) -> BulkheadStats {
        BulkheadStats {
            active: self.active(),
            max_concurrent: self.config().max_concurrent,
            queued: self.queued(),
            admitted: self.admitted.get(),
            rejections: self.rejections.load(Relaxed),
        }
    }

    /// Sets the counters back to zero. Running and queued calls keep their slots and their
    /// places.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
    /// let _ = bulkhead.call(|| async { Ok::<_, Error>(()) }).await;
    /// bulkhead.reset();
    /// assert_eq!(bulkhead.stats().admitted, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.admitted.reset();
        self.rejections.store(0, Relaxed);
    }

    /// Counts the caller admitted with `slot`, or rejected without one.
    #[inline]
    fn admit<'a>(&'a self, slot: Option<Permit<'a>>) -> Result<BulkheadPermit<'a>, Error> {
        match slot {
            Some(slot) => Ok(self.admitted_in(slot)),
            None => Err(self.reject()),
        }
    }

    #[inline]
    fn admitted_in<'a>(&'a self, slot: Permit<'a>) -> BulkheadPermit<'a> {
        self.admitted.increment();
        BulkheadPermit::new(self, slot)
    }

    /// Counts and announces a rejection. Out of line: the admitted path stays small
    /// enough to inline, and returns its permit in registers.
    #[cold]
    fn reject(&self) -> Error {
        self.rejections.fetch_add(1, Relaxed);
        let full = Error::BulkheadFull {
            name: Arc::clone(&self.name),
            max_concurrent: self.config().max_concurrent,
        };
        self.events.rejected(&full);
        full
    }

    /// Gives back a slot whose guard was disarmed: an [`OwnedBulkheadPermit`]'s, or the
    /// tower layer's.
    #[inline]
    pub(crate) fn release(&self) {
        self.slots.release();
    }

    /// Queues for a slot for up to `max_wait`; `None` when none freed in time or the queue
    /// is full.
    async fn wait_for_slot(&self) -> Option<Permit<'_>> {
        let config = self.config();
        if config.max_wait.is_zero() {
            return None;
        }
        match self.slots.acquire_or_queue(config.max_queued) {
            Wait::Acquired(slot) => Some(slot),
            Wait::Queued(queued) => {
                let start = time::now();
                let slot = time::timeout(config.max_wait, queued).await?;
                let waited = Duration::from_nanos(time::now().saturating_sub(start));
                self.events.waited(waited);
                Some(slot)
            }
            Wait::Full => None,
        }
    }

    /// [`wait_for_slot`](Self::wait_for_slot), blocking the thread: the same queue, waited
    /// in with the thread parked.
    fn wait_for_slot_blocking(&self) -> Option<Permit<'_>> {
        let config = self.config();
        if config.max_wait.is_zero() {
            return None;
        }
        match self.slots.acquire_or_queue(config.max_queued) {
            Wait::Acquired(slot) => Some(slot),
            Wait::Queued(queued) => {
                let start = std::time::Instant::now();
                let slot = blocking::wait(config.max_wait, queued);
                if slot.is_some() {
                    self.events.waited(start.elapsed());
                }
                slot
            }
            Wait::Full => None,
        }
    }
}

impl fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("name", &self.name)
            .field("active", &self.active())
            .field("config", self.config())
            .finish_non_exhaustive()
    }
}
