//! Events: what each policy reports, in order and with its fields, to subscribers of the
//! registry and of one instance, and as `tracing` events. The tests that need the process's
//! subscriptions to themselves (nothing built without one, lagging) are in `events_alone.rs`.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilience::events::{Detail, Event, RecvError, Subscription, TryRecvError};
use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, retry, timeout, Bulkhead, BulkheadConfig,
    CircuitBreaker, CircuitBreakerConfig, CircuitState, Error, Kind, RateLimiter,
    RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};
use tokio::time::{advance, sleep, Instant};
use tracing::Level;

mod support {
    pub mod capture;
}
use support::capture::{Capture, Captured};

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

#[derive(Debug)]
enum AppError {
    Down(u32),
    Rejected(Error),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Down(n) => write!(f, "down {n}"),
            AppError::Rejected(rejection) => write!(f, "{rejection}"),
        }
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Rejected(error)
    }
}

resilience::as_rejection!(AppError::Rejected);

#[circuit_breaker(
    name = "events::scenario::breaker",
    failure_threshold = 1,
    success_threshold = 1,
    recovery_timeout = "10s"
)]
async fn breaker_call(fail: bool) -> Result<(), AppError> {
    if fail {
        return Err(AppError::Down(0));
    }
    Ok(())
}

#[retry(
    name = "events::scenario::retry",
    max_attempts = 3,
    base_delay = "100ms",
    jitter = false
)]
async fn retried(attempts: &AtomicU32) -> Result<u32, AppError> {
    let n = attempts.fetch_add(1, SeqCst) + 1;
    if n < 3 {
        return Err(AppError::Down(n));
    }
    Ok(n)
}

#[timeout("1s", name = "events::scenario::timeout")]
async fn slow(takes: Duration) -> Result<(), AppError> {
    sleep(takes).await;
    Ok(())
}

#[bulkhead(
    name = "events::scenario::bulkhead",
    max_concurrent = 1,
    max_wait = "1s"
)]
async fn held(hold: Duration) -> Result<(), AppError> {
    sleep(hold).await;
    Ok(())
}

#[rate_limit(
    name = "events::scenario::limiter",
    max_requests = 1,
    window = "1s",
    max_wait = "500ms"
)]
async fn limited() -> Result<(), AppError> {
    Ok(())
}

fn changed(from: CircuitState, to: CircuitState) -> Detail {
    Detail::StateChanged { from, to }
}

/// Every event waiting in `subscription`, oldest first; a lag fails the test.
fn drain(subscription: &mut Subscription) -> Vec<Event> {
    let mut events = Vec::new();
    for _ in 0..10_000 {
        match subscription.try_recv() {
            Ok(event) => events.push(event),
            Err(TryRecvError::Empty) => return events,
            Err(error) => panic!("{error}"),
        }
    }
    panic!("more events than the test makes");
}

/// The scripted run of the five instances above: each kind of event once or more, at
/// known instants on the paused clock.
async fn scenario() {
    let start = Instant::now();
    // closed -> open
    assert!(breaker_call(true).await.is_err());
    // rejected while open
    assert!(matches!(
        breaker_call(false).await,
        Err(AppError::Rejected(Error::CircuitOpen { .. }))
    ));
    // open -> half-open -> open: the probe fails
    advance(Duration::from_secs(10)).await;
    assert!(breaker_call(true).await.is_err());
    // open -> half-open -> closed: the probe succeeds
    advance(Duration::from_secs(10)).await;
    assert!(breaker_call(false).await.is_ok());

    // Two failed attempts, retried after 100ms and 200ms.
    let attempts = AtomicU32::new(0);
    let at = Instant::now();
    assert_eq!(retried(&attempts).await.unwrap(), 3);
    assert_eq!(at.elapsed(), 300 * MS);

    assert!(matches!(
        slow(2 * SECOND).await,
        Err(AppError::Rejected(Error::Timeout { .. }))
    ));

    // The second call waits 300ms for the slot; then one waits its whole second in vain.
    let (first, second) = tokio::join!(held(300 * MS), held(Duration::ZERO));
    assert!(first.is_ok() && second.is_ok());
    let (first, second) = tokio::join!(held(2 * SECOND), held(Duration::ZERO));
    assert!(first.is_ok());
    assert!(matches!(
        second,
        Err(AppError::Rejected(Error::BulkheadFull { .. }))
    ));

    // One permit a second: the next is 1s away, more than the 500ms a call may wait; 600ms
    // later it is 400ms away, and the call waits for it.
    assert!(limited().await.is_ok());
    assert!(matches!(
        limited().await,
        Err(AppError::Rejected(Error::RateLimited { .. }))
    ));
    advance(600 * MS).await;
    let at = Instant::now();
    assert!(limited().await.is_ok());
    assert_eq!(at.elapsed(), 400 * MS);
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(20_000 + 300 + 1_000 + 300 + 2_000 + 1_000)
    );
}

/// What `scenario` reports, in order.
fn expected() -> Vec<(&'static str, Kind, Detail)> {
    use CircuitState::{Closed, HalfOpen, Open};
    let breaker = |detail| ("events::scenario::breaker", Kind::CircuitBreaker, detail);
    vec![
        breaker(changed(Closed, Open)),
        breaker(Detail::Rejected {
            error: Error::CircuitOpen {
                name: "events::scenario::breaker".into(),
                state: Open,
                retry_after: Duration::from_secs(10),
            },
        }),
        breaker(changed(Open, HalfOpen)),
        breaker(changed(HalfOpen, Open)),
        breaker(changed(Open, HalfOpen)),
        breaker(changed(HalfOpen, Closed)),
        (
            "events::scenario::retry",
            Kind::Retry,
            Detail::Retrying {
                attempt: 1,
                delay: 100 * MS,
                error: "down 1".into(),
            },
        ),
        (
            "events::scenario::retry",
            Kind::Retry,
            Detail::Retrying {
                attempt: 2,
                delay: 200 * MS,
                error: "down 2".into(),
            },
        ),
        (
            "events::scenario::timeout",
            Kind::Timeout,
            Detail::TimedOut { after: SECOND },
        ),
        (
            "events::scenario::bulkhead",
            Kind::Bulkhead,
            Detail::Waited { waited: 300 * MS },
        ),
        (
            "events::scenario::bulkhead",
            Kind::Bulkhead,
            Detail::Rejected {
                error: Error::BulkheadFull {
                    name: "events::scenario::bulkhead".into(),
                    max_concurrent: 1,
                },
            },
        ),
        (
            "events::scenario::limiter",
            Kind::RateLimiter,
            Detail::Rejected {
                error: Error::RateLimited {
                    name: "events::scenario::limiter".into(),
                    retry_after: SECOND,
                },
            },
        ),
        (
            "events::scenario::limiter",
            Kind::RateLimiter,
            Detail::Waited { waited: 400 * MS },
        ),
    ]
}

#[tokio::test(start_paused = true)]
async fn every_event_arrives_once_in_order_with_its_fields() {
    let mut everything = registry().subscribe();
    let breaker = registry()
        .circuit_breaker("events::scenario::breaker")
        .unwrap();
    let bulkhead = registry().bulkhead("events::scenario::bulkhead").unwrap();
    let mut of_breaker = breaker.subscribe();
    let mut of_bulkhead = bulkhead.subscribe();

    scenario().await;

    let expected = expected();
    // Other tests of this file run at the same time: the registry's subscriber sees their
    // events too, under other names.
    let seen: Vec<_> = drain(&mut everything)
        .into_iter()
        .filter(|event| event.name.starts_with("events::scenario::"))
        .map(|event| (event.name.to_string(), event.kind, event.detail))
        .collect();
    let wanted: Vec<_> = expected
        .iter()
        .map(|(name, kind, detail)| (name.to_string(), *kind, detail.clone()))
        .collect();
    assert_eq!(seen, wanted);

    let of = |name: &str| -> Vec<Detail> {
        expected
            .iter()
            .filter(|(n, ..)| *n == name)
            .map(|(.., detail)| detail.clone())
            .collect()
    };
    let details =
        |events: Vec<Event>| -> Vec<Detail> { events.into_iter().map(|e| e.detail).collect() };
    assert_eq!(
        details(drain(&mut of_breaker)),
        of("events::scenario::breaker")
    );
    assert_eq!(
        details(drain(&mut of_bulkhead)),
        of("events::scenario::bulkhead")
    );
}

#[tokio::test(start_paused = true)]
async fn an_instance_s_subscriber_sees_that_instance_alone() {
    let config = CircuitBreakerConfig::DEFAULT.failure_threshold(1);
    let watched = CircuitBreaker::new("events::by_hand::watched", config.clone()).unwrap();
    let other = CircuitBreaker::new("events::by_hand::other", config).unwrap();
    let mut events = watched.subscribe();
    other.record_failure();
    watched.record_failure();
    other.reset();
    let event = events.try_recv().unwrap();
    assert_eq!(&*event.name, "events::by_hand::watched");
    assert_eq!(event.kind, Kind::CircuitBreaker);
    assert_eq!(
        event.detail,
        changed(CircuitState::Closed, CircuitState::Open)
    );
    assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
}

#[tokio::test(start_paused = true)]
async fn calls_that_succeed_emit_nothing() {
    let breaker =
        CircuitBreaker::new("events::by_hand::ok", CircuitBreakerConfig::DEFAULT).unwrap();
    let retry = Retry::new("events::by_hand::ok", RetryConfig::DEFAULT).unwrap();
    let timeout = Timeout::new("events::by_hand::ok", TimeoutConfig::DEFAULT).unwrap();
    let bulkhead = Bulkhead::new("events::by_hand::ok", BulkheadConfig::DEFAULT).unwrap();
    let limiter = RateLimiter::new(
        "events::by_hand::ok",
        RateLimiterConfig::DEFAULT.max_requests(100).window(SECOND),
    )
    .unwrap();
    let mut subscriptions = [
        breaker.subscribe(),
        retry.subscribe(),
        timeout.subscribe(),
        bulkhead.subscribe(),
        limiter.subscribe(),
    ];
    for _ in 0..10 {
        let ok = || async { Ok::<_, Error>(()) };
        breaker.call(ok).await.unwrap();
        retry.call(ok).await.unwrap();
        timeout.call(ok).await.unwrap();
        bulkhead.call(ok).await.unwrap();
        limiter.call(ok).await.unwrap();
    }
    for subscription in &mut subscriptions {
        assert_eq!(subscription.try_recv(), Err(TryRecvError::Empty));
    }
    // The same subscriptions do receive what is not a success.
    breaker.force_open();
    assert!(subscriptions[0].try_recv().is_ok());
    let slow = timeout.call(|| async {
        sleep(TimeoutConfig::DEFAULT.duration * 2).await;
        Ok::<_, Error>(())
    });
    assert!(slow.await.is_err());
    assert!(subscriptions[2].try_recv().is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_subscription_ends_when_its_instance_is_dropped() {
    let breaker =
        CircuitBreaker::new("events::by_hand::dropped", CircuitBreakerConfig::DEFAULT).unwrap();
    let mut events = breaker.subscribe();
    breaker.force_open();
    drop(breaker);
    assert!(events.recv().await.is_ok(), "what was sent is still read");
    assert_eq!(events.recv().await, Err(RecvError::Closed));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_recv_loses_no_event() {
    let breaker =
        CircuitBreaker::new("events::by_hand::cancelled", CircuitBreakerConfig::DEFAULT).unwrap();
    let mut events = breaker.subscribe();
    assert!(
        tokio::time::timeout(MS, events.recv()).await.is_err(),
        "nothing yet: dropped while waiting"
    );
    breaker.force_open();
    let event = tokio::time::timeout(MS, events.recv())
        .await
        .expect("not lost")
        .unwrap();
    assert_eq!(
        event.detail,
        changed(CircuitState::Closed, CircuitState::ForcedOpen)
    );
}

#[test]
fn the_same_events_reach_tracing_with_their_fields_and_levels() {
    let capture = Capture::new(|metadata| metadata.target().starts_with("resilience::"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    // This thread's dispatcher only: the other tests' events, on their threads, are not
    // captured.
    tracing::subscriber::with_default(capture.clone(), || runtime.block_on(traced_scenario()));
    let captured = capture.take();

    let by_name = |name: &str| -> Vec<&Captured> {
        captured
            .iter()
            .filter(|event| event.field("name") == Some(name))
            .collect()
    };
    let breaker = by_name("events::traced::breaker");
    let summary: Vec<_> = breaker
        .iter()
        .map(|event| {
            (
                event.level,
                event.target.as_str(),
                event.field("from").unwrap_or("-"),
                event.field("to").unwrap_or("-"),
            )
        })
        .collect();
    let target = "resilience::circuit_breaker";
    assert_eq!(
        summary,
        [
            (Level::WARN, target, "closed", "open"),
            (Level::DEBUG, target, "-", "-"),
            (Level::INFO, target, "open", "half-open"),
            (Level::INFO, target, "half-open", "closed"),
            (Level::WARN, target, "closed", "forced-open"),
            (Level::INFO, target, "forced-open", "disabled"),
        ]
    );
    assert!(breaker
        .iter()
        .all(|event| event.field("kind") == Some("circuit_breaker")));
    assert_eq!(
        breaker[0].field("message"),
        Some("circuit breaker `events::traced::breaker` opened")
    );
    assert_eq!(breaker[1].field("retry_after_ms"), Some("10000"));
    assert_eq!(
        breaker[1].field("error"),
        Some("circuit breaker `events::traced::breaker` is open, retry after 10s")
    );

    let retry = by_name("events::traced::retry");
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].level, Level::DEBUG);
    assert_eq!(retry[0].target, "resilience::retry");
    assert_eq!(retry[0].field("kind"), Some("retry"));
    assert_eq!(retry[0].field("attempt"), Some("1"));
    assert_eq!(retry[0].field("delay_ms"), Some("100"));
    assert_eq!(retry[0].field("error"), Some("down 1"));

    let timeout = by_name("events::traced::timeout");
    assert_eq!(timeout.len(), 1);
    assert_eq!(
        (timeout[0].level, timeout[0].target.as_str()),
        (Level::DEBUG, "resilience::timeout")
    );
    assert_eq!(timeout[0].field("after_ms"), Some("1000"));

    let bulkhead = by_name("events::traced::bulkhead");
    assert_eq!(bulkhead.len(), 2);
    assert_eq!(
        (bulkhead[0].level, bulkhead[0].target.as_str()),
        (Level::TRACE, "resilience::bulkhead")
    );
    assert_eq!(bulkhead[0].field("waited_ms"), Some("5"));
    assert_eq!(
        (bulkhead[1].level, bulkhead[1].field("kind")),
        (Level::DEBUG, Some("bulkhead"))
    );
    assert_eq!(
        bulkhead[1].field("retry_after_ms"),
        None,
        "a bulkhead knows no time to wait"
    );

    let limiter = by_name("events::traced::limiter");
    assert_eq!(limiter.len(), 1);
    assert_eq!(
        (limiter[0].level, limiter[0].target.as_str()),
        (Level::DEBUG, "resilience::rate_limit")
    );
    assert_eq!(limiter[0].field("kind"), Some("rate_limit"));
    assert_eq!(limiter[0].field("retry_after_ms"), Some("1000"));
}

async fn traced_scenario() {
    let breaker = CircuitBreaker::new(
        "events::traced::breaker",
        CircuitBreakerConfig::DEFAULT
            .failure_threshold(1)
            .success_threshold(1)
            .recovery_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    breaker.record_failure();
    let _ = breaker.call(|| async { Ok::<_, Error>(()) }).await;
    advance(Duration::from_secs(10)).await;
    breaker.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
    breaker.force_open();
    breaker.disable();

    let retry = Retry::new(
        "events::traced::retry",
        RetryConfig::DEFAULT
            .max_attempts(2)
            .base_delay(100 * MS)
            .jitter(resilience::Jitter::None),
    )
    .unwrap();
    let attempts = AtomicU32::new(0);
    let answer: Result<(), AppError> = retry
        .call(|| async {
            match attempts.fetch_add(1, SeqCst) {
                0 => Err(AppError::Down(1)),
                _ => Ok(()),
            }
        })
        .await;
    answer.unwrap();

    let timeout = Timeout::new(
        "events::traced::timeout",
        TimeoutConfig::DEFAULT.duration(SECOND),
    )
    .unwrap();
    let _ = timeout
        .call(|| async {
            sleep(2 * SECOND).await;
            Ok::<_, Error>(())
        })
        .await;

    let bulkhead = Bulkhead::new(
        "events::traced::bulkhead",
        BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(10 * MS),
    )
    .unwrap();
    let hold = |d| {
        bulkhead.call(move || async move {
            sleep(d).await;
            Ok::<_, Error>(())
        })
    };
    let _ = tokio::join!(hold(5 * MS), hold(Duration::ZERO));
    let _ = tokio::join!(hold(SECOND), hold(Duration::ZERO));

    let limiter = RateLimiter::new(
        "events::traced::limiter",
        RateLimiterConfig::DEFAULT.max_requests(1).window(SECOND),
    )
    .unwrap();
    limiter.try_acquire().unwrap();
    limiter.try_acquire().unwrap_err();
}

#[derive(Debug)]
enum DebugOnly {
    Down,
    #[allow(dead_code)] // built by the attribute, read by no one
    Rejected(Error),
}

impl From<Error> for DebugOnly {
    fn from(error: Error) -> Self {
        DebugOnly::Rejected(error)
    }
}

struct Opaque;

impl From<Error> for Opaque {
    fn from(_: Error) -> Self {
        Opaque
    }
}

#[retry(
    name = "events::debug_only",
    max_attempts = 2,
    base_delay = "1ms",
    jitter = false
)]
async fn debug_only() -> Result<(), DebugOnly> {
    Err(DebugOnly::Down)
}

#[retry(
    name = "events::opaque",
    max_attempts = 2,
    base_delay = "1ms",
    jitter = false
)]
async fn opaque() -> Result<(), Opaque> {
    Err(Opaque)
}

#[tokio::test(start_paused = true)]
async fn an_error_without_display_is_shown_by_debug_else_by_its_type_s_name() {
    let mut of_debug_only = registry().retry("events::debug_only").unwrap().subscribe();
    let mut of_opaque = registry().retry("events::opaque").unwrap().subscribe();
    assert!(debug_only().await.is_err());
    assert!(opaque().await.is_err());
    let error = |subscription: &mut Subscription| match subscription.try_recv().unwrap().detail {
        Detail::Retrying { error, .. } => error.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(error(&mut of_debug_only), "Down");
    assert_eq!(error(&mut of_opaque), std::any::type_name::<Opaque>());
}

/// A fallback reports each step of its chain that runs; a hedge, each attempt it starts
/// beside the first: once each, in order, on the instance's and the registry's
/// subscriptions.
#[tokio::test(start_paused = true)]
async fn fallbacks_and_hedges_report_each_step_and_attempt() {
    #[resilience::fallback(first, second, name = "events::fallback")]
    async fn answered() -> Result<u8, Error> {
        Err(Error::Timeout {
            name: "db".into(),
            after: SECOND,
        })
    }
    async fn first(error: Error) -> Result<u8, Error> {
        Err(error)
    }
    async fn second(_: Error) -> Result<u8, Error> {
        Ok(2)
    }
    #[resilience::hedge(name = "events::hedge", delay = "10ms", max_attempts = 3)]
    async fn raced() -> Result<u8, Error> {
        sleep(25 * MS).await;
        Ok(1)
    }
    let mut everything = registry().subscribe();
    assert_eq!(answered().await.unwrap(), 2);
    assert_eq!(raced().await.unwrap(), 1);
    let ours: Vec<(String, Kind, Detail)> = drain(&mut everything)
        .into_iter()
        .filter(|event| {
            event.name.starts_with("events::fallback") || event.name.starts_with("events::hedge")
        })
        .map(|event| (event.name.to_string(), event.kind, event.detail))
        .collect();
    assert_eq!(
        ours,
        [
            (
                "events::fallback".to_owned(),
                Kind::Fallback,
                Detail::FellBack { step: 1 }
            ),
            (
                "events::fallback".to_owned(),
                Kind::Fallback,
                Detail::FellBack { step: 2 }
            ),
            (
                "events::hedge".to_owned(),
                Kind::Hedge,
                Detail::Hedged { attempt: 2 }
            ),
            (
                "events::hedge".to_owned(),
                Kind::Hedge,
                Detail::Hedged { attempt: 3 }
            ),
        ]
    );
}
