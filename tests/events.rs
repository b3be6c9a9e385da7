//! Events: what each policy reports, in order and with its fields, to subscribers of the
//! registry and of one instance. The tests that need the process's subscriptions to
//! themselves (nothing built without one, lagging) are in `events_alone.rs`, and the
//! `tracing` events are in `events_tracing.rs`.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilience::events::{Detail, Event, RecvError, Subscription, TryRecvError};
use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, retry, timeout, Bulkhead, BulkheadConfig,
    CircuitBreaker, CircuitBreakerConfig, CircuitState, Error, Kind, RateLimiter,
    RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};
use tokio::time::{advance, sleep, Instant};

mod support {
    pub mod app_error;
}
use support::app_error::AppError;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

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
