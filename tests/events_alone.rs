//! Events, in a binary of their own: whether an event is built depends on the subscriptions
//! anywhere in the process, and a lagging subscriber of the registry counts every event, so
//! no other test may subscribe meanwhile. One test, its steps in order.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::events::{Detail, RecvError, Subscription, TryRecvError, CAPACITY};
use resilience::{registry, retry, Error, RateLimiter, RateLimiterConfig};

mod support {
    pub mod capture;
}
use support::capture::Capture;

/// How many times an error was written with `Display`.
static DISPLAYED: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
enum CountedError {
    Down,
    Rejected(Error),
}

impl fmt::Display for CountedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        DISPLAYED.fetch_add(1, SeqCst);
        match self {
            CountedError::Down => f.write_str("down"),
            CountedError::Rejected(rejection) => write!(f, "{rejection}"),
        }
    }
}

impl From<Error> for CountedError {
    fn from(error: Error) -> Self {
        CountedError::Rejected(error)
    }
}

/// Fails three times: two retries, two events.
#[retry(
    name = "alone::retry",
    max_attempts = 3,
    base_delay = "10ms",
    jitter = false
)]
async fn always_down() -> Result<(), CountedError> {
    Err(CountedError::Down)
}

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Runs `always_down` once and says how many times its error was written.
fn written_by_one_call(runtime: &tokio::runtime::Runtime) -> usize {
    let before = DISPLAYED.load(SeqCst);
    assert!(runtime.block_on(always_down()).is_err());
    DISPLAYED.load(SeqCst) - before
}

#[test]
fn events_are_built_only_for_a_subscriber_and_never_wait_for_one() {
    let runtime = paused();

    // Nobody listens: no event is built, so the error is never written.
    assert_eq!(written_by_one_call(&runtime), 0);
    // Nor while only another instance has a subscriber.
    let bystander = RateLimiter::new("alone::bystander", RateLimiterConfig::DEFAULT).unwrap();
    let elsewhere = bystander.subscribe();
    assert_eq!(written_by_one_call(&runtime), 0);

    // A `tracing` subscriber not interested in the retry's events: still never written.
    let not_retries = Capture::new(|metadata| !metadata.target().starts_with("resilience::retry"));
    let written =
        tracing::subscriber::with_default(not_retries.clone(), || written_by_one_call(&runtime));
    assert_eq!(written, 0);
    assert!(not_retries.take().is_empty());
    // One that is interested: written once per retry, for it.
    let interested = Capture::new(|metadata| metadata.target() == "resilience::retry");
    let written =
        tracing::subscriber::with_default(interested.clone(), || written_by_one_call(&runtime));
    let captured = interested.take();
    assert_eq!(written, 2);
    assert_eq!(captured.len(), 2);
    assert!(captured
        .iter()
        .all(|event| event.field("error") == Some("down")));

    // A subscription of the registry, then of the instance: written once per event built.
    let of_registry: fn() -> Subscription = || registry().subscribe();
    let of_instance: fn() -> Subscription =
        || registry().retry("alone::retry").unwrap().subscribe();
    for subscribe in [of_registry, of_instance] {
        let mut events = subscribe();
        assert_eq!(written_by_one_call(&runtime), 2);
        for attempt in 1..=2 {
            let event = events.try_recv().unwrap();
            assert!(
                matches!(event.detail, Detail::Retrying { attempt: a, ref error, .. } if a == attempt && &**error == "down"),
                "{event:?}"
            );
        }
        assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
        // Gone again: nothing built, whether another subscription exists or none.
        drop(events);
        assert_eq!(written_by_one_call(&runtime), 0);
    }
    drop(elsewhere);
    assert_eq!(written_by_one_call(&runtime), 0);

    never_waits_for_a_subscriber_that_does_not_read();
}

/// Subscribers of the instance and of the registry that never read do not hold up calls
/// on several threads at once; afterwards each is told exactly how many events it missed
/// and reads the newest `CAPACITY`.
fn never_waits_for_a_subscriber_that_does_not_read() {
    const TASKS: usize = 4;
    let limiter = Arc::new(
        RateLimiter::new(
            "alone::limiter",
            RateLimiterConfig::DEFAULT
                .max_requests(1)
                .window(Duration::from_secs(3600)),
        )
        .unwrap(),
    );
    let mut own = limiter.subscribe();
    let mut all = registry().subscribe();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(TASKS)
        .enable_time()
        .build()
        .unwrap();
    let rejected = runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move {
                    let mut rejected = 0;
                    for _ in 0..CAPACITY {
                        let call = limiter.call(|| async { Ok::<_, Error>(()) });
                        if call.await.is_err() {
                            rejected += 1;
                        }
                        tokio::task::yield_now().await;
                    }
                    rejected
                })
            })
            .collect();
        let all_calls = async {
            let mut rejected = 0;
            for task in tasks {
                rejected += task.await.unwrap();
            }
            rejected
        };
        // Not a timing claim: a bound, so that a call stuck on a subscriber fails the test
        // instead of hanging it.
        tokio::time::timeout(Duration::from_secs(60), all_calls)
            .await
            .expect("no call waits for a subscriber")
    });
    assert_eq!(rejected, TASKS * CAPACITY - 1, "one permit in the hour");

    for subscription in [&mut own, &mut all] {
        let missed = (rejected - CAPACITY) as u64;
        assert_eq!(subscription.try_recv(), Err(TryRecvError::Lagged(missed)));
        for _ in 0..CAPACITY {
            let event = subscription.try_recv().unwrap();
            assert!(matches!(
                event.detail,
                Detail::Rejected {
                    error: Error::RateLimited { .. }
                }
            ));
        }
        assert_eq!(subscription.try_recv(), Err(TryRecvError::Empty));
    }
    drop(limiter);
    assert_eq!(paused().block_on(own.recv()), Err(RecvError::Closed));
}
