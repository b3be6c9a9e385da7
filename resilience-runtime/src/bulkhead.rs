//! Bulkhead: cap how many calls run at once, and how long the others queue.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::counter::Counter;
use crate::error::{invalid, InvalidConfig};
use crate::pipeline::{self, Failure, Outcome};
use crate::setters::setters;
use crate::{time, ConfigError, Error};

/// How many calls a [`Bulkhead`] runs at once and how long the rest may wait.
///
/// ```
/// use std::time::Duration;
/// use resilience::BulkheadConfig;
///
/// let config = BulkheadConfig { max_concurrent: 4, max_wait: Duration::ZERO };
/// assert!(config.validate().is_ok());
/// assert!(BulkheadConfig { max_concurrent: 0, ..config }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkheadConfig {
    /// Calls running at once. Default 10.
    pub max_concurrent: usize,
    /// How long a call may queue for a slot; zero rejects at once. Default 5s.
    pub max_wait: Duration,
}

impl BulkheadConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {
        max_concurrent: 10,
        max_wait: Duration::from_secs(5),
    };

    /// Checks that the values make sense.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for `max_concurrent` of 0 or above `Semaphore::MAX_PERMITS`.
    ///
    /// ```
    /// # use resilience::BulkheadConfig;
    /// assert!(BulkheadConfig::default().validate().is_ok());
    /// assert!(BulkheadConfig { max_concurrent: 0, ..Default::default() }.validate().is_err());
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        if self.max_concurrent == 0 {
            return Err(invalid!("max_concurrent", "must be at least 1"));
        }
        if self.max_concurrent > Semaphore::MAX_PERMITS {
            return Err(invalid!(
                "max_concurrent",
                "must be at most `usize::MAX >> 3`"
            ));
        }
        Ok(())
    }
}

setters!(BulkheadConfig {
    /// Sets how many calls run at once.
    max_concurrent: usize = "4",
    /// Sets how long a call may queue for a slot; zero rejects at once.
    max_wait: Duration = "Duration::ZERO",
});

impl Default for BulkheadConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a bulkhead has seen since it was created, and its load now.
///
/// ```
/// # use resilience::{Bulkhead, BulkheadConfig};
/// let bulkhead = Bulkhead::new("db", BulkheadConfig::default()).unwrap();
/// let stats = bulkhead.stats();
/// assert_eq!((stats.active, stats.queued, stats.admitted, stats.rejections), (0, 0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkheadStats {
    /// Calls running now.
    pub active: usize,
    /// Calls queued for a slot now.
    pub queued: usize,
    /// Calls that got a slot.
    pub admitted: u64,
    /// Calls rejected with [`Error::BulkheadFull`].
    pub rejections: u64,
}

/// Runs at most `max_concurrent` calls at once; the others queue in arrival order for up
/// to `max_wait`, then are rejected with [`Error::BulkheadFull`].
///
/// A slot comes back when its call finishes, is dropped (while running or while queued),
/// or panics.
///
/// ```
/// use resilience::{Bulkhead, BulkheadConfig};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bulkhead = Bulkhead::new("exports", BulkheadConfig { max_concurrent: 2, ..Default::default() }).unwrap();
/// let seen = bulkhead.call(|| async { Ok::<_, resilience::Error>(bulkhead.active()) }).await;
/// assert_eq!(seen, Ok(1));
/// assert_eq!(bulkhead.available(), 2);
/// # }
/// ```
pub struct Bulkhead {
    name: Arc<str>,
    config: BulkheadConfig,
    slots: Semaphore,
    queued: AtomicUsize,
    admitted: Counter,
    rejections: AtomicU64,
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
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig { max_concurrent: 4, ..Default::default() }).unwrap();
    /// assert_eq!(bulkhead.available(), 4);
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: BulkheadConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            name: name.into(),
            slots: Semaphore::new(config.max_concurrent),
            config,
            queued: AtomicUsize::new(0),
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
        &self.config
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
        self.config.max_concurrent - self.slots.available_permits()
    }

    /// Free slots now.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Bulkhead, BulkheadConfig, Error};
    /// let bulkhead = Bulkhead::new("db", BulkheadConfig { max_concurrent: 2, ..Default::default() }).unwrap();
    /// let inside = bulkhead.call(|| async { Ok::<_, Error>(bulkhead.available()) }).await;
    /// assert_eq!((inside, bulkhead.available()), (Ok(1), 2));
    /// # }
    /// ```
    pub fn available(&self) -> usize {
        self.slots.available_permits()
    }

    /// Calls waiting for a slot now.
    ///
    /// ```
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// assert_eq!(Bulkhead::new("db", BulkheadConfig::default()).unwrap().queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.queued.load(Relaxed)
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
        // A free slot is taken without going through a future: the common case stays a few
        // atomic operations.
        let slot = match self.slots.try_acquire() {
            Ok(slot) => Some(slot),
            Err(_) => self.wait_for_slot().await,
        };
        let Some(_slot) = slot else {
            self.rejections.fetch_add(1, Relaxed);
            let full = Error::BulkheadFull {
                name: Arc::clone(&self.name),
                max_concurrent: self.config.max_concurrent,
            };
            return Err(Failure::Rejected(full));
        };
        self.admitted.increment();
        next().await
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
            queued: self.queued(),
            admitted: self.admitted.get(),
            rejections: self.rejections.load(Relaxed),
        }
    }

    /// Queues for a slot for up to `max_wait`; `None` when none freed in time.
    async fn wait_for_slot(&self) -> Option<SemaphorePermit<'_>> {
        if self.config.max_wait.is_zero() {
            return None;
        }
        let _queued = Queued::enter(&self.queued);
        // tokio's semaphore queues waiters first come, first served, and a waiter dropped
        // while queued leaves the queue without taking a slot.
        time::timeout(self.config.max_wait, self.slots.acquire())
            .await?
            .ok()
    }
}

/// Counts one queued call for as long as it lives, however its wait ends.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Relaxed);
        Queued(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulkhead")
            .field("name", &self.name)
            .field("active", &self.active())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
