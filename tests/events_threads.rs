//! Events from real threads on the real clock: transitions raced by threads arrive in the
//! order they happened, and plain fns report what async ones do. A binary of their own:
//! they install `tracing` subscribers on other threads and make events without one, which
//! would change, for the tests of `events.rs`, which `tracing` callsites are enabled.

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use resilience::events::{Detail, Event, TryRecvError};
use resilience::{
    registry, retry, Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, CircuitState,
};

mod support {
    pub mod app_error;
}
use support::app_error::AppError;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);

/// Threads that open, probe and close one breaker as fast as they can, on real time, while
/// another reads its events: each transition received starts where the one before it ended
/// (but across the gap of a lag, where events were lost).
#[test]
fn transitions_raced_by_threads_arrive_in_the_order_they_happened() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    let breaker = Arc::new(
        CircuitBreaker::new(
            "events::raced",
            CircuitBreakerConfig::DEFAULT
                .failure_threshold(1)
                .success_threshold(1)
                .recovery_timeout(MS),
        )
        .unwrap(),
    );
    let mut events = breaker.subscribe();
    let racing = Arc::new(AtomicBool::new(true));
    let racers: Vec<_> = (0..3)
        .map(|racer| {
            let (breaker, racing) = (Arc::clone(&breaker), Arc::clone(&racing));
            std::thread::spawn(move || {
                // Each change is logged slowly, between the swap and the event's sending:
                // where a thread that changed the state first could be overtaken.
                let _slow = tracing::subscriber::set_default(SlowLog);
                TURN.with(|turn| turn.set(racer));
                let mut call = racer;
                while racing.load(SeqCst) {
                    if let Ok(permit) = breaker.try_acquire() {
                        call += 1;
                        if call % 2 == 0 {
                            permit.failure();
                        } else {
                            permit.success();
                        }
                    }
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    // `None` where events were lost to lagging: no order to check across it.
    let mut received: Vec<Option<(CircuitState, CircuitState)>> = Vec::new();
    let until = std::time::Instant::now() + Duration::from_millis(300);
    while std::time::Instant::now() < until {
        match events.try_recv() {
            Ok(Event {
                detail: Detail::StateChanged { from, to },
                ..
            }) => received.push(Some((from, to))),
            Ok(_) => {}
            Err(TryRecvError::Lagged(_)) => received.push(None),
            Err(_) => std::thread::yield_now(),
        }
    }
    racing.store(false, SeqCst);
    for racer in racers {
        racer.join().unwrap();
    }
    let checked = received
        .windows(2)
        .filter_map(|pair| match pair {
            [Some(before), Some(after)] => Some((before, after)),
            _ => None,
        })
        .inspect(|(before, after)| {
            assert_eq!(before.1, after.0, "out of order: {before:?} then {after:?}")
        })
        .count();
    assert!(checked > 100, "too few transitions raced: {checked}");
}

/// A `tracing` subscriber that takes a while over some events: 0, 1 or 2 ms in turn, each
/// thread on its own turn, so a change logged slowly is overtaken unless something keeps
/// the order.
struct SlowLog;

thread_local! {
    static TURN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl tracing::Subscriber for SlowLog {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {
        let turn = TURN.with(|turn| turn.replace(turn.get() + 1));
        std::thread::sleep(MS * (turn % 3) as u32);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Plain fns report what async ones do: a retry's failed attempts, and a wait for a
/// bulkhead's slot, here on real threads and the real clock.
#[test]
fn plain_fns_report_retries_and_waits() {
    use std::sync::atomic::AtomicU32;

    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(
        name = "events::plain::retry",
        max_attempts = 2,
        base_delay = "1ms",
        jitter = false
    )]
    fn flaky() -> Result<u32, AppError> {
        match ATTEMPTS.fetch_add(1, SeqCst) {
            0 => Err(AppError::Down(1)),
            n => Ok(n),
        }
    }
    let retry = registry().retry("events::plain::retry").unwrap();
    let mut retries = retry.subscribe();
    assert_eq!(flaky().unwrap(), 1);
    assert_eq!(
        retries.try_recv().unwrap().detail,
        Detail::Retrying {
            attempt: 1,
            delay: MS,
            error: "down 1".into()
        }
    );

    let bulkhead = std::sync::Arc::new(
        Bulkhead::new(
            "events::plain::bulkhead",
            BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(SECOND),
        )
        .unwrap(),
    );
    let mut waits = bulkhead.subscribe();
    let held = bulkhead.acquire_blocking().unwrap();
    let waiter = {
        let bulkhead = std::sync::Arc::clone(&bulkhead);
        std::thread::spawn(move || bulkhead.acquire_blocking().map(drop))
    };
    while bulkhead.queued() == 0 {
        std::thread::yield_now();
    }
    std::thread::sleep(20 * MS);
    drop(held);
    waiter.join().unwrap().unwrap();
    match waits.try_recv().unwrap().detail {
        Detail::Waited { waited } => assert!(waited >= 20 * MS, "{waited:?}"),
        other => panic!("{other:?}"),
    }
}
