//! The hedge itself: attempts started on a timer, raced, the first success kept.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::Poll;

use super::config::HedgeConfig;
use super::stats::HedgeStats;
use crate::counter::Counter;
use crate::events::{Emitter, Subscription};
use crate::live::Live;
use crate::pipeline::{self, Failure, Outcome};
use crate::{time, ConfigError, Error, Kind};

/// Cuts tail latency: starts a call, and when no answer came after `delay` starts another
/// attempt beside it, up to `max_attempts`. The first success wins; the other attempts are
/// dropped, which cancels them.
///
/// A failed attempt starts the next one at once instead of waiting for the timer. A
/// rejection by a policy below the hedge (`CircuitOpen`, `BulkheadFull`, `RateLimited`)
/// starts none: another attempt would be turned away too. When every attempt has failed,
/// the last error is returned. [`race`](Self::race) tells each attempt its number, so
/// attempts can go to different backends, as seed 004's `HedgingOperation`.
///
/// ```
/// use std::time::Duration;
/// use resilience::{Error, Hedge, HedgeConfig};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let hedge = Hedge::new("search", HedgeConfig::DEFAULT.delay(Duration::from_millis(50))).unwrap();
/// const REPLICAS: [(&str, u64); 2] = [("eu", 400), ("us", 30)];
/// let started = tokio::time::Instant::now();
/// let answer = hedge.race(|attempt| async move {
///     let (replica, millis) = REPLICAS[attempt as usize];
///     tokio::time::sleep(Duration::from_millis(millis)).await;
///     Ok::<_, Error>(replica)
/// });
/// assert_eq!(answer.await, Ok("us"));
/// assert_eq!(started.elapsed(), Duration::from_millis(80), "started at 50ms, answered 30ms later");
/// # }
/// ```
pub struct Hedge {
    name: Arc<str>,
    config: Live<HedgeConfig>,
    calls: Counter,
    succeeded: Counter,
    failed: AtomicU64,
    hedges: AtomicU64,
    won_by_hedge: AtomicU64,
    cancelled: AtomicU64,
    events: Emitter,
}

impl Hedge {
    /// A hedge named `name`.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`HedgeConfig::validate`].
    ///
    /// ```
    /// # use resilience::{Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT).unwrap();
    /// assert!(Hedge::new("bad", HedgeConfig::DEFAULT.max_attempts(0)).is_err());
    /// ```
    pub fn new(name: impl Into<Arc<str>>, config: HedgeConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let name = name.into();
        Ok(Self {
            events: Emitter::new(&name, Kind::Hedge),
            name,
            config: Live::new(config),
            calls: Counter::default(),
            succeeded: Counter::default(),
            failed: AtomicU64::new(0),
            hedges: AtomicU64::new(0),
            won_by_hedge: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
        })
    }

    /// This hedge's [events](crate::events): each attempt it starts beside the first, from
    /// now on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use resilience::events::Detail;
    /// use resilience::{Error, Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT.delay(Duration::from_millis(50))).unwrap();
    /// let mut events = hedge.subscribe();
    /// let slow = || async { tokio::time::sleep(Duration::from_millis(80)).await; Ok::<_, Error>(1) };
    /// hedge.call(slow).await.unwrap();
    /// assert_eq!(events.try_recv().unwrap().detail, Detail::Hedged { attempt: 2 });
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }

    /// The hedge's name.
    ///
    /// ```
    /// # use resilience::{Hedge, HedgeConfig};
    /// assert_eq!(Hedge::new("search", HedgeConfig::DEFAULT).unwrap().name(), "search");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The hedge's configuration.
    ///
    /// ```
    /// # use resilience::{Hedge, HedgeConfig};
    /// assert_eq!(Hedge::new("search", HedgeConfig::DEFAULT).unwrap().config().max_attempts, 2);
    /// ```
    pub fn config(&self) -> &HedgeConfig {
        self.config.get()
    }

    /// Sets a new configuration for calls that start from now on; a call already running
    /// goes on with its own delay and attempts. Emits
    /// [`Detail::Reconfigured`](crate::events::Detail::Reconfigured) when the config
    /// changes.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`HedgeConfig::validate`]; the hedge is unchanged.
    ///
    /// ```
    /// # use resilience::{Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT).unwrap();
    /// hedge.reconfigure(HedgeConfig::DEFAULT.max_attempts(3)).unwrap();
    /// assert_eq!(hedge.config().max_attempts, 3);
    /// ```
    pub fn reconfigure(&self, config: HedgeConfig) -> Result<(), ConfigError> {
        config.validate()?;
        if let Some((previous, next)) = self.config.reload(config, |_, _| {}) {
            self.events.reconfigured(previous.changes(next));
        }
        Ok(())
    }

    /// Runs `f`, and again beside it each time `delay` passes without an answer, up to
    /// `max_attempts`; returns the first success.
    ///
    /// # Errors
    ///
    /// The last attempt's error when every attempt failed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Error, Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT).unwrap();
    /// assert_eq!(hedge.call(|| async { Ok::<_, Error>(3) }).await, Ok(3));
    /// # }
    /// ```
    pub async fn call<T, E, F, Fut>(&self, mut f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        pipeline::finish(self.layer(|_| pipeline::body(f())).await)
    }

    /// Like [`call`](Self::call), with each attempt's number (0 for the first), so that
    /// attempts can go to different backends.
    ///
    /// # Errors
    ///
    /// The last attempt's error when every attempt failed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Error, Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT).unwrap();
    /// let backends = ["a", "b"];
    /// assert_eq!(hedge.race(|n| async move { Ok::<_, Error>(backends[n as usize]) }).await, Ok("a"));
    /// # }
    /// ```
    pub async fn race<T, E, F, Fut>(&self, mut f: F) -> Result<T, E>
    where
        E: From<Error>,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        pipeline::finish(self.layer(|n| pipeline::body(f(n))).await)
    }

    /// The hedge as one layer of a stack: see [`pipeline`](crate::pipeline). `attempt(n)`
    /// makes the future of attempt `n`; every attempt runs inside this call's future, so
    /// nothing is spawned, and dropping the call drops every attempt.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use resilience::pipeline::body;
    /// # use resilience::{Error, Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT).unwrap();
    /// let outcome = hedge.layer(|n| body(async move { Ok::<_, Error>(n) })).await;
    /// assert_eq!(outcome, Ok(0));
    /// # }
    /// ```
    pub async fn layer<T, E, F, Fut>(&self, mut attempt: F) -> Outcome<T, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        self.calls.increment();
        // Read once: the whole call races by the config it started with.
        let config = self.config();
        // The first attempt lives on this future's stack and the timer is made only when it
        // is pending: an attempt that answers at once costs no timer and no allocation.
        let mut first = pin!(Some(attempt(0)));
        let mut more: Vec<Option<Pin<Box<Fut>>>> = Vec::new();
        let mut timer = pin!(None::<tokio::time::Sleep>);
        let mut race = Race {
            started: 1,
            running: 1,
            last: None,
            start_now: false,
            stopped: false,
        };
        let (number, won) = poll_fn(|cx| loop {
            if let Some(future) = first.as_mut().as_pin_mut() {
                if let Poll::Ready(outcome) = future.poll(cx) {
                    first.set(None);
                    if let Some(value) = race.settle(outcome) {
                        return Poll::Ready((0, Ok(value)));
                    }
                }
            }
            for (i, slot) in more.iter_mut().enumerate() {
                let Some(future) = slot else { continue };
                if let Poll::Ready(outcome) = future.as_mut().poll(cx) {
                    *slot = None;
                    if let Some(value) = race.settle(outcome) {
                        return Poll::Ready((i + 1, Ok(value)));
                    }
                }
            }
            if !race.stopped && race.started < config.max_attempts {
                if timer.is_none() {
                    timer.set(Some(time::timer(config.delay)));
                }
                let due = race.start_now
                    || timer
                        .as_mut()
                        .as_pin_mut()
                        .is_some_and(|timer| timer.poll(cx).is_ready());
                if due {
                    more.push(Some(Box::pin(attempt(race.started))));
                    race.started += 1;
                    race.running += 1;
                    race.start_now = false;
                    self.hedges.fetch_add(1, Relaxed);
                    self.events.hedged(race.started);
                    timer.set(Some(time::timer(config.delay)));
                    // Polls the new attempt, so that it registers for its wake-up.
                    continue;
                }
            }
            if race.running == 0 {
                if let Some(failure) = race.last.take() {
                    return Poll::Ready((0, Err(failure)));
                }
            }
            return Poll::Pending;
        })
        .await;
        match won {
            Ok(value) => {
                self.succeeded.increment();
                if number > 0 {
                    self.won_by_hedge.fetch_add(1, Relaxed);
                }
                // Only when there were losers: an attempt answered at once touches no
                // shared cache line but its stripes.
                if race.running > 0 {
                    self.cancelled.fetch_add(u64::from(race.running), Relaxed);
                }
                Ok(value)
            }
            Err(failure) => {
                self.failed.fetch_add(1, Relaxed);
                Err(failure)
            }
        }
    }

    /// Counters since creation.
    ///
    /// ```
    /// # use resilience::{Hedge, HedgeConfig};
    /// assert_eq!(Hedge::new("search", HedgeConfig::DEFAULT).unwrap().stats().calls, 0);
    /// ```
    pub fn stats(&self) -> HedgeStats {
        HedgeStats {
            calls: self.calls.get(),
            succeeded: self.succeeded.get(),
            failed: self.failed.load(Relaxed),
            hedges: self.hedges.load(Relaxed),
            won_by_hedge: self.won_by_hedge.load(Relaxed),
            cancelled: self.cancelled.load(Relaxed),
        }
    }

    /// Sets every counter back to zero. Calls running now are counted when they end.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Error, Hedge, HedgeConfig};
    /// let hedge = Hedge::new("search", HedgeConfig::DEFAULT).unwrap();
    /// hedge.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    /// hedge.reset();
    /// assert_eq!(hedge.stats().calls, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.calls.reset();
        self.succeeded.reset();
        for counter in [
            &self.failed,
            &self.hedges,
            &self.won_by_hedge,
            &self.cancelled,
        ] {
            counter.store(0, Relaxed);
        }
    }
}

/// Where one hedged call stands.
struct Race<E> {
    started: u32,
    running: u32,
    /// The latest failure, returned when no attempt is left.
    last: Option<Failure<E>>,
    /// Set by a failure: the next attempt starts without waiting for the timer.
    start_now: bool,
    /// Set by a rejection: no attempt starts any more, since it would be turned away too.
    stopped: bool,
}

impl<E> Race<E> {
    /// Takes an attempt's outcome: its value if it succeeded.
    fn settle<T>(&mut self, outcome: Outcome<T, E>) -> Option<T> {
        self.running -= 1;
        match outcome {
            Ok(value) => Some(value),
            Err(failure) => {
                match failure.rejection() {
                    Some(Error::Timeout { .. }) | None => self.start_now = true,
                    Some(_) => self.stopped = true,
                }
                self.last = Some(failure);
                None
            }
        }
    }
}

impl fmt::Debug for Hedge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hedge")
            .field("name", &self.name)
            .field("config", self.config())
            .finish()
    }
}
