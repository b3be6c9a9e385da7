//! Invariants that cut across policies: panics, cancellation in every stacking position,
//! and a half-open breaker under a flood on a multi-threaded runtime.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, retry, timeout, CircuitBreaker,
    CircuitBreakerConfig, Error,
};
use tokio::sync::Semaphore;
use tokio::time::sleep;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_body_propagates_and_leaves_every_policy_sound() {
    static PANIC: AtomicBool = AtomicBool::new(true);
    #[circuit_breaker(name = "inv::panic", failure_threshold = 1)]
    #[retry(name = "inv::panic", max_attempts = 3, base_delay = 0)]
    #[timeout("5s", name = "inv::panic")]
    #[bulkhead(name = "inv::panic", max_concurrent = 1, max_wait = 0)]
    #[rate_limit(name = "inv::panic", max_requests = 100, window = "1s")]
    async fn guarded() -> Result<u8, Error> {
        tokio::task::yield_now().await;
        assert!(!PANIC.load(SeqCst), "the body panics");
        Ok(1)
    }
    for _ in 0..3 {
        let joined = tokio::spawn(guarded()).await;
        assert!(
            joined.unwrap_err().is_panic(),
            "the panic reached the caller"
        );
        let caught = futures_catch(guarded()).await;
        assert!(caught.is_err(), "and again when awaited in place");
    }
    PANIC.store(false, SeqCst);
    assert_eq!(guarded().await, Ok(1), "every layer admits again");
    let breaker = registry().circuit_breaker("inv::panic").unwrap();
    assert!(
        breaker.is_closed(),
        "a panic is not a failure of the downstream"
    );
    assert_eq!(breaker.stats().abandoned, 6);
    assert_eq!(
        registry().bulkhead("inv::panic").unwrap().available(),
        1,
        "the slot came back"
    );
    assert_eq!(
        registry().retry("inv::panic").unwrap().stats().retries,
        0,
        "a panic is not retried"
    );
}

/// Polls `future` to completion, turning a panic into `Err`, on this task.
async fn futures_catch<F: std::future::Future>(future: F) -> Result<F::Output, ()> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    })
    .await
}

/// Sets its flag when dropped.
struct DropFlag(&'static AtomicBool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_drops_the_body_in_every_stacking_position() {
    static OUTERMOST: AtomicBool = AtomicBool::new(false);
    static MIDDLE: AtomicBool = AtomicBool::new(false);
    static INNERMOST: AtomicBool = AtomicBool::new(false);

    #[timeout("1s")]
    #[circuit_breaker]
    #[bulkhead]
    async fn outermost() -> Result<(), Error> {
        let _flag = DropFlag(&OUTERMOST);
        sleep(Duration::from_secs(60)).await;
        Ok(())
    }

    #[circuit_breaker]
    #[timeout("1s")]
    #[rate_limit(max_requests = 5, window = "1s")]
    async fn middle() -> Result<(), Error> {
        let _flag = DropFlag(&MIDDLE);
        sleep(Duration::from_secs(60)).await;
        Ok(())
    }

    #[retry(max_attempts = 1)]
    #[bulkhead]
    #[timeout("1s")]
    async fn innermost(_: &mut Vec<u8>) -> Result<(), Error> {
        let _flag = DropFlag(&INNERMOST);
        sleep(Duration::from_secs(60)).await;
        Ok(())
    }

    assert!(matches!(outermost().await, Err(Error::Timeout { .. })));
    assert!(matches!(middle().await, Err(Error::Timeout { .. })));
    assert!(matches!(
        innermost(&mut Vec::new()).await,
        Err(Error::Timeout { .. })
    ));
    for (position, flag) in [
        ("outermost", &OUTERMOST),
        ("middle", &MIDDLE),
        ("innermost", &INNERMOST),
    ] {
        assert!(
            flag.load(SeqCst),
            "the body was not dropped with the timeout {position}"
        );
    }
}

/// A flood of callers on two worker threads meets a half-open breaker: exactly
/// `half_open_max_calls` probes run at once, the rest are rejected, and the breaker closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_runs_exactly_max_probes_under_a_flood() {
    const PROBES: u32 = 3;
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .success_threshold(PROBES)
        .half_open_max_calls(PROBES)
        .recovery_timeout(Duration::from_millis(5));
    let breaker = Arc::new(CircuitBreaker::new("inv::flood", config).unwrap());
    breaker.record_failure();
    // Real time on two workers; bounded, so a breaker that never recovers fails the test.
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    while !breaker.is_half_open() {
        assert!(std::time::Instant::now() < give_up, "never half-open");
        tokio::task::yield_now().await;
    }
    // A gate with no permits: probes wait at it until the test opens it. Permits stay until
    // taken, so a probe that reaches the gate late cannot miss its release.
    let gate = Arc::new(Semaphore::new(0));
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let flood: Vec<_> = (0..200)
        .map(|_| {
            let (breaker, running, most, gate) =
                (breaker.clone(), running.clone(), most.clone(), gate.clone());
            tokio::spawn(async move {
                breaker
                    .call(|| async {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        drop(gate.acquire().await);
                        running.fetch_sub(1, SeqCst);
                        Ok::<_, Error>(())
                    })
                    .await
            })
        })
        .collect();
    while running.load(SeqCst) < PROBES as usize {
        assert!(
            std::time::Instant::now() < give_up,
            "the probes never all started"
        );
        tokio::task::yield_now().await;
    }
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert_eq!(running.load(SeqCst), PROBES as usize);
    gate.add_permits(PROBES as usize);
    let (mut admitted, mut rejected) = (0, 0);
    for call in flood {
        match call.await.unwrap() {
            Ok(()) => admitted += 1,
            Err(Error::CircuitOpen { .. }) => rejected += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(
        most.load(SeqCst),
        PROBES as usize,
        "never more probes at once than allowed"
    );
    // Callers that arrive after the probes closed it are admitted as in any closed breaker.
    assert!(
        admitted >= PROBES && rejected > 0 && admitted + rejected == 200,
        "{admitted} admitted, {rejected} rejected"
    );
    assert!(breaker.is_closed(), "{PROBES} successful probes closed it");
}
