//! `#[circuit_breaker]` and `CircuitBreaker`, on tokio's paused clock.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::{
    circuit_breaker, registry, CircuitBreaker, CircuitBreakerConfig, CircuitState, Error,
};
use tokio::time::{advance, Instant};

const MS: Duration = Duration::from_millis(1);

#[derive(Debug, PartialEq)]
enum ApiError {
    NotFound,
    Unavailable,
    Rejected(Error),
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError::Rejected(error)
    }
}

fn is_outage(error: &ApiError) -> bool {
    matches!(error, ApiError::Unavailable)
}

#[circuit_breaker(
    name = "cb::basic",
    failure_threshold = 3,
    success_threshold = 2,
    recovery_timeout = "30s"
)]
async fn basic(fail: bool) -> Result<&'static str, ApiError> {
    if fail {
        Err(ApiError::Unavailable)
    } else {
        Ok("ok")
    }
}

fn breaker(name: &str) -> Arc<CircuitBreaker> {
    registry()
        .circuit_breaker(name)
        .expect("created by its first call")
}

#[tokio::test(start_paused = true)]
async fn consecutive_failures_open_it_then_it_rejects_without_calling() {
    for _ in 0..2 {
        assert_eq!(basic(true).await, Err(ApiError::Unavailable));
    }
    assert_eq!(
        basic(false).await,
        Ok("ok"),
        "a success resets the consecutive count"
    );
    for _ in 0..2 {
        assert_eq!(basic(true).await, Err(ApiError::Unavailable));
    }
    assert!(
        breaker("cb::basic").is_closed(),
        "two consecutive failures are below the threshold"
    );
    assert_eq!(basic(true).await, Err(ApiError::Unavailable));
    assert_eq!(breaker("cb::basic").state(), CircuitState::Open);

    advance(Duration::from_secs(10)).await;
    let rejected = basic(false).await;
    let retry_after = Duration::from_secs(20);
    assert_eq!(
        rejected,
        Err(ApiError::Rejected(Error::CircuitOpen {
            name: "cb::basic".into(),
            state: CircuitState::Open,
            retry_after
        }))
    );

    let stats = breaker("cb::basic").stats();
    assert_eq!(
        (
            stats.successes,
            stats.failures,
            stats.rejections,
            stats.transitions
        ),
        (1, 5, 1, 1)
    );
    assert_eq!(stats.calls, 7);
}

#[circuit_breaker(
    name = "cb::recovery",
    failure_threshold = 1,
    success_threshold = 2,
    recovery_timeout = "30s"
)]
async fn recovering(fail: bool) -> Result<(), ApiError> {
    if fail {
        Err(ApiError::Unavailable)
    } else {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn half_open_exactly_after_the_recovery_timeout_and_closed_by_successes() {
    let _ = recovering(true).await;
    let cb = breaker("cb::recovery");
    assert!(cb.is_open());
    advance(Duration::from_secs(30) - MS).await;
    assert!(cb.is_open());
    assert!(
        matches!(recovering(false).await, Err(ApiError::Rejected(Error::CircuitOpen { retry_after, .. })) if retry_after == MS)
    );
    advance(MS).await;
    assert!(cb.is_half_open(), "the next call will be a probe");
    assert_eq!(recovering(false).await, Ok(()));
    assert!(cb.is_half_open(), "one success of two");
    assert_eq!(recovering(false).await, Ok(()));
    assert!(cb.is_closed());
    assert_eq!(cb.stats().transitions, 3);
}

#[circuit_breaker(name = "cb::reopen", failure_threshold = 1, recovery_timeout = "30s")]
async fn reopening(fail: bool) -> Result<(), ApiError> {
    if fail {
        Err(ApiError::Unavailable)
    } else {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_it_for_a_fresh_recovery_timeout() {
    let _ = reopening(true).await;
    advance(Duration::from_secs(45)).await;
    assert_eq!(reopening(true).await, Err(ApiError::Unavailable));
    let cb = breaker("cb::reopen");
    assert!(cb.is_open());
    advance(Duration::from_secs(29)).await;
    assert!(cb.is_open(), "re-opened at 45s, so open until 75s");
    advance(Duration::from_secs(1)).await;
    assert!(cb.is_half_open());
}

#[tokio::test(start_paused = true)]
async fn failure_if_decides_what_counts() {
    #[circuit_breaker(name = "cb::predicate", failure_threshold = 1, failure_if = is_outage)]
    async fn lookup(error: bool) -> Result<(), ApiError> {
        if error {
            Err(ApiError::NotFound)
        } else {
            Err(ApiError::Unavailable)
        }
    }
    for _ in 0..5 {
        assert_eq!(lookup(true).await, Err(ApiError::NotFound));
    }
    assert!(breaker("cb::predicate").is_closed());
    assert_eq!(
        breaker("cb::predicate").stats().successes,
        5,
        "an error that is not a failure counts as a success"
    );
    assert_eq!(lookup(false).await, Err(ApiError::Unavailable));
    assert!(breaker("cb::predicate").is_open());
}

#[tokio::test(start_paused = true)]
async fn half_open_lets_exactly_max_calls_probes_through_at_once() {
    let cb = Arc::new(
        CircuitBreaker::new(
            "cb::probes",
            CircuitBreakerConfig::DEFAULT
                .failure_threshold(1)
                .half_open_max_calls(2)
                .success_threshold(5),
        )
        .unwrap(),
    );
    cb.record_failure();
    advance(Duration::from_secs(60)).await;
    let running = Arc::new(AtomicU32::new(0));
    let mut probes = Vec::new();
    for _ in 0..2 {
        let (cb, running) = (Arc::clone(&cb), Arc::clone(&running));
        probes.push(tokio::spawn(async move {
            cb.call(|| async {
                running.fetch_add(1, SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, Error>(())
            })
            .await
        }));
    }
    tokio::task::yield_now().await;
    assert_eq!(running.load(SeqCst), 2);
    let third = cb.call(|| async { Ok::<_, Error>(()) }).await;
    // Not "open, retry after 0s": half-open, and back after a recovery timeout (when no
    // probe slot may free sooner, the breaker's own measure of how long to wait).
    assert_eq!(
        third,
        Err(Error::CircuitOpen {
            name: "cb::probes".into(),
            state: CircuitState::HalfOpen,
            retry_after: Duration::from_secs(60)
        })
    );
    assert_eq!(
        third.unwrap_err().to_string(),
        "circuit breaker `cb::probes` is half-open with every probe slot taken, retry after 1m"
    );
    for probe in probes {
        probe.await.unwrap().unwrap();
    }
    assert!(cb.can_execute(), "finished probes free their slots");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_gives_its_slot_back_and_counts_as_neither() {
    let cb = CircuitBreaker::new(
        "cb::dropped",
        CircuitBreakerConfig::DEFAULT
            .failure_threshold(1)
            .success_threshold(1)
            .half_open_max_calls(1),
    )
    .unwrap();
    cb.record_failure();
    advance(Duration::from_secs(60)).await;
    let probe = cb.call(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok::<_, Error>(())
    });
    assert!(
        tokio::time::timeout(Duration::from_secs(1), probe)
            .await
            .is_err(),
        "dropped while running"
    );
    assert!(cb.is_half_open());
    assert!(cb.can_execute(), "the slot is free again");
    assert_eq!(cb.stats().abandoned, 1);
    assert_eq!(cb.call(|| async { Ok::<_, Error>(()) }).await, Ok(()));
    assert!(cb.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_probe_gives_its_slot_back() {
    let cb = Arc::new(
        CircuitBreaker::new(
            "cb::panic",
            CircuitBreakerConfig::DEFAULT
                .failure_threshold(1)
                .success_threshold(1)
                .half_open_max_calls(1)
                .recovery_timeout(Duration::from_millis(1)),
        )
        .unwrap(),
    );
    cb.record_failure();
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    while !cb.is_half_open() {
        assert!(std::time::Instant::now() < give_up, "never half-open");
        tokio::task::yield_now().await;
    }
    let panicking = Arc::clone(&cb);
    let joined = tokio::spawn(async move {
        panicking
            .call(|| async { panic!("probe panicked") as Result<(), Error> })
            .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert!(cb.is_half_open() && cb.can_execute());
    assert_eq!(cb.call(|| async { Ok::<_, Error>(()) }).await, Ok(()));
    assert!(cb.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_call_that_started_before_the_breaker_opened_does_not_count_after() {
    let cb = CircuitBreaker::new(
        "cb::stale",
        CircuitBreakerConfig::DEFAULT
            .failure_threshold(1)
            .success_threshold(1)
            .recovery_timeout(Duration::from_secs(1)),
    )
    .unwrap();
    let slow = cb.call(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Err::<(), _>(Error::BulkheadFull {
            name: "x".into(),
            max_concurrent: 1,
        })
    });
    let recover = async {
        cb.record_failure();
        advance(Duration::from_secs(2)).await;
        cb.call(|| async { Ok::<_, Error>(()) }).await
    };
    let (slow, recovered) = tokio::join!(slow, recover);
    assert!(slow.is_err() && recovered.is_ok());
    assert!(
        cb.is_closed(),
        "the slow call's failure belongs to a state that is gone"
    );
}

#[circuit_breaker(name = "cb::shared", failure_threshold = 2)]
async fn first_caller() -> Result<(), ApiError> {
    Err(ApiError::Unavailable)
}

#[circuit_breaker(name = "cb::shared", failure_threshold = 2)]
async fn second_caller() -> Result<(), ApiError> {
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn two_fns_naming_one_breaker_share_it() {
    let _ = first_caller().await;
    let _ = first_caller().await;
    assert!(matches!(
        second_caller().await,
        Err(ApiError::Rejected(Error::CircuitOpen { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn by_hand_records_and_resets() {
    let cb = CircuitBreaker::new(
        "cb::manual",
        CircuitBreakerConfig::DEFAULT.failure_threshold(2),
    )
    .unwrap();
    cb.record_failure();
    cb.record_success();
    cb.record_failure();
    assert!(cb.is_closed(), "the success in between reset the count");
    cb.record_failure();
    assert!(cb.is_open() && !cb.can_execute());
    let stats = cb.stats();
    assert_eq!(
        (
            stats.calls,
            stats.successes,
            stats.failures,
            stats.transitions
        ),
        (4, 1, 3, 1),
        "outcomes recorded by hand count like calls"
    );
    cb.reset();
    assert!(cb.is_closed() && cb.can_execute());
    let stats = cb.stats();
    assert_eq!(
        (stats.calls, stats.failures, stats.transitions),
        (0, 0, 0),
        "reset zeroes the counters"
    );
    let start = Instant::now();
    assert_eq!(cb.state(), CircuitState::Closed);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn forced_open_rejects_until_reset() {
    let cb = CircuitBreaker::new("cb::forced", CircuitBreakerConfig::default()).unwrap();
    cb.force_open();
    assert_eq!(cb.state(), CircuitState::ForcedOpen);
    advance(Duration::from_secs(3600)).await;
    let rejected = cb.call(|| async { Ok::<_, Error>(()) }).await;
    assert_eq!(
        rejected,
        Err(Error::CircuitOpen {
            name: "cb::forced".into(),
            state: CircuitState::ForcedOpen,
            retry_after: Duration::from_secs(60)
        })
    );
    assert_eq!(
        rejected.unwrap_err().to_string(),
        "circuit breaker `cb::forced` is forced open, retry after 1m"
    );
    cb.record_success();
    assert_eq!(cb.state(), CircuitState::ForcedOpen, "only reset closes it");
    cb.reset();
    assert!(cb.call(|| async { Ok::<_, Error>(()) }).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn disabled_admits_every_call_and_still_counts() {
    let cb = CircuitBreaker::new(
        "cb::disabled",
        CircuitBreakerConfig::DEFAULT.failure_threshold(1),
    )
    .unwrap();
    cb.record_failure();
    cb.disable();
    let failing = || async { Err::<(), _>(ApiError::Unavailable) };
    for _ in 0..5 {
        assert_eq!(cb.call(failing).await, Err(ApiError::Unavailable));
    }
    assert_eq!(cb.state(), CircuitState::Disabled);
    let stats = cb.stats();
    assert_eq!((stats.calls, stats.failures, stats.rejections), (6, 6, 0));
    cb.reset();
    assert_eq!(cb.call(failing).await, Err(ApiError::Unavailable));
    assert!(cb.is_open(), "counting again after reset");
}

#[tokio::test(start_paused = true)]
async fn a_probe_hung_through_65536_changes_of_state_frees_no_slot_of_a_later_probe() {
    // The case: one probe slot, 1 ms recovery, a probe that hangs while the breaker
    // goes round open → half-open → open 32 768 times (65 536 changes of state, which
    // brought a 16-bit generation back to the hung probe's), then a new probe runs.
    let cb = Arc::new(
        CircuitBreaker::new(
            "cb::hung_probe",
            CircuitBreakerConfig::DEFAULT
                .failure_threshold(1)
                .success_threshold(1)
                .recovery_timeout(MS)
                .half_open_max_calls(1),
        )
        .unwrap(),
    );
    cb.record_failure();
    advance(MS).await;
    let (release_hung, hung_waits) = tokio::sync::oneshot::channel::<()>();
    let hung = tokio::spawn({
        let cb = Arc::clone(&cb);
        async move {
            cb.call(|| async {
                hung_waits.await.unwrap();
                Ok::<_, Error>(())
            })
            .await
        }
    });
    tokio::task::yield_now().await;
    assert!(!cb.can_execute(), "the hung probe holds the slot");
    cb.record_failure();
    for _ in 0..32_767 {
        advance(MS).await;
        let probe = cb
            .call(|| async { Err::<(), _>(ApiError::Unavailable) })
            .await;
        assert_eq!(probe, Err(ApiError::Unavailable));
    }
    advance(MS).await;
    let (release_running, running_waits) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let cb = Arc::clone(&cb);
        async move {
            cb.call(|| async {
                running_waits.await.unwrap();
                Ok::<_, Error>(())
            })
            .await
        }
    });
    tokio::task::yield_now().await;
    release_hung.send(()).unwrap();
    hung.await.unwrap().unwrap();
    assert_eq!(
        cb.state(),
        CircuitState::HalfOpen,
        "the hung probe's success did not close it"
    );
    assert!(
        !cb.can_execute(),
        "nor did it free the running probe's slot"
    );
    release_running.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(cb.is_closed());
}

#[tokio::test(start_paused = true)]
async fn the_default_name_is_the_fn_path() {
    #[circuit_breaker]
    async fn unnamed() -> Result<(), Error> {
        Ok(())
    }
    unnamed().await.unwrap();
    assert!(registry()
        .circuit_breaker(concat!(module_path!(), "::unnamed"))
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn the_body_runs_only_when_admitted() {
    static RAN: AtomicBool = AtomicBool::new(false);
    #[circuit_breaker(name = "cb::not_run", failure_threshold = 1)]
    async fn guarded(fail: bool) -> Result<(), Error> {
        RAN.store(true, SeqCst);
        if fail {
            Err(Error::Timeout {
                name: "x".into(),
                after: MS,
            })
        } else {
            Ok(())
        }
    }
    let _ = guarded(true).await;
    RAN.store(false, SeqCst);
    assert!(guarded(false).await.is_err());
    assert!(!RAN.load(SeqCst));
}
