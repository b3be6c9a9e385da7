//! Permits: a breaker's `CallPermit` and a bulkhead's slot, held by hand across code that is
//! not one future. However a permit ends, the counts are those of a call that ended the
//! same way, and every slot comes back.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use resilience::{
    Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, CircuitBreakerStats,
    CircuitState, Error,
};
use tokio::time::{advance, Instant};

fn breaker(name: &str, config: CircuitBreakerConfig) -> Arc<CircuitBreaker> {
    Arc::new(CircuitBreaker::new(name, config).unwrap())
}

fn bulkhead(name: &str, config: BulkheadConfig) -> Arc<Bulkhead> {
    Arc::new(Bulkhead::new(name, config).unwrap())
}

fn down() -> Error {
    Error::Timeout {
        name: "downstream".into(),
        after: Duration::from_secs(1),
    }
}

/// Opened by one failure, half-open a second later with one probe slot, closed by one
/// successful probe.
fn probing() -> CircuitBreakerConfig {
    CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(Duration::from_secs(1))
}

/// Waits, on the real clock and for at most ten seconds, for a breaker with a 1 ms recovery
/// timeout to turn half-open (a multi-thread runtime's clock cannot be paused).
async fn until_half_open(cb: &CircuitBreaker) {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    while !cb.is_half_open() {
        assert!(std::time::Instant::now() < give_up, "never half-open");
        tokio::task::yield_now().await;
    }
}

fn counts(stats: CircuitBreakerStats) -> (u64, u64, u64, u64, u64) {
    (
        stats.calls,
        stats.successes,
        stats.failures,
        stats.abandoned,
        stats.rejections,
    )
}

#[tokio::test(start_paused = true)]
async fn a_breaker_counts_permits_exactly_as_calls() {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(1));
    let by_call = breaker("permits::by-call", config.clone());
    let by_permit = breaker("permits::by-permit", config);

    // Success, failure, abandoned (dropped), failure (opens), rejected: the same story twice.
    let _ = by_call.call(|| async { Ok::<_, Error>(()) }).await;
    let _ = by_call.call(|| async { Err::<(), _>(down()) }).await;
    let dropped = by_call.call(std::future::pending::<Result<(), Error>>);
    assert!(tokio::time::timeout(Duration::ZERO, dropped).await.is_err());
    let _ = by_call.call(|| async { Err::<(), _>(down()) }).await;
    let rejected = by_call.call(|| async { Ok::<_, Error>(()) }).await;

    by_permit.try_acquire().unwrap().success();
    by_permit.try_acquire().unwrap().failure();
    drop(by_permit.try_acquire().unwrap());
    by_permit.try_acquire().unwrap().failure();
    let refused = by_permit.try_acquire().map(drop);

    for rejection in [rejected, refused] {
        assert!(matches!(
            rejection,
            Err(Error::CircuitOpen { state: CircuitState::Open, retry_after, .. })
                if retry_after == Duration::from_secs(1)
        ));
    }
    let stats = by_permit.stats();
    assert_eq!(counts(stats), (5, 1, 2, 1, 1));
    assert_eq!(stats, by_call.stats());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_permit_gives_its_slot_back_and_counts_as_abandoned() {
    let cb = breaker("permits::dropped-probe", probing());
    cb.record_failure();
    advance(Duration::from_secs(1)).await;
    let probe = cb.try_acquire().unwrap();
    assert_eq!(
        cb.try_acquire().map(drop),
        Err(Error::CircuitOpen {
            name: "permits::dropped-probe".into(),
            state: CircuitState::HalfOpen,
            retry_after: Duration::from_secs(1),
        }),
        "the permit holds the one probe slot"
    );
    drop(probe);
    assert_eq!(cb.stats().abandoned, 1);
    assert!(cb.is_half_open(), "an abandoned probe says nothing");
    cb.try_acquire().unwrap().success();
    assert!(cb.is_closed());
}

#[tokio::test(start_paused = true)]
async fn can_execute_is_a_look_and_try_acquire_the_reservation() {
    let cb = breaker("permits::look", probing());
    cb.record_failure();
    advance(Duration::from_secs(1)).await;
    assert!(cb.can_execute() && cb.can_execute(), "two callers look");
    let probe = cb.try_acquire().unwrap();
    assert!(!cb.can_execute(), "the slot is reserved");
    assert!(cb.try_acquire().is_err());
    probe.success();
}

/// Sixty-four tasks on two worker threads ask for a permit at once from a half-open breaker
/// with four probe slots: exactly four get one, the rest are rejected and counted so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_admits_exactly_half_open_max_calls_permits_across_concurrent_acquirers() {
    const TASKS: usize = 64;
    const PROBES: u32 = 4;
    let cb = breaker(
        "permits::half-open-race",
        CircuitBreakerConfig::DEFAULT
            .failure_threshold(1)
            .success_threshold(PROBES)
            .half_open_max_calls(PROBES)
            .recovery_timeout(Duration::from_millis(1)),
    );
    cb.record_failure();
    until_half_open(&cb).await;
    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let acquirers: Vec<_> = (0..TASKS)
        .map(|_| {
            let (cb, start) = (Arc::clone(&cb), Arc::clone(&start));
            tokio::spawn(async move {
                start.wait().await;
                cb.try_acquire_owned()
            })
        })
        .collect();
    let mut permits = Vec::new();
    for acquirer in acquirers {
        if let Ok(permit) = acquirer.await.unwrap() {
            permits.push(permit);
        }
    }
    assert_eq!(permits.len(), PROBES as usize);
    assert!(cb.is_half_open());
    for permit in permits {
        permit.success();
    }
    assert!(cb.is_closed(), "every probe succeeded");
    let rejected = (TASKS - PROBES as usize) as u64;
    assert_eq!(
        counts(cb.stats()),
        (1 + TASKS as u64, u64::from(PROBES), 1, 0, rejected)
    );
}

#[tokio::test(start_paused = true)]
async fn a_permit_from_an_earlier_closed_phase_never_reports_into_a_later_one() {
    let cb = breaker("permits::stale-closed", probing());
    let before_reset = cb.try_acquire().unwrap();
    let before_force = cb.try_acquire().unwrap();
    cb.reset();
    before_reset.failure();
    assert!(
        cb.is_closed(),
        "a failure from before the reset opens nothing"
    );
    assert_eq!(
        cb.stats().failures,
        1,
        "and is counted in the stats, as a call's"
    );
    cb.force_open();
    cb.reset();
    before_force.failure();
    assert!(cb.is_closed(), "nor one from before a forced open");
    cb.try_acquire().unwrap().failure();
    assert!(cb.is_open(), "a failure of this phase does open it");
}

/// A probe of one half-open episode, still held when the breaker is forced open, reset,
/// opened again and half-open in a later episode whose probe holds the only slot: its
/// late success neither frees that slot nor closes the breaker.
#[tokio::test(start_paused = true)]
async fn a_stale_probe_permit_never_reports_into_a_later_episode() {
    let cb = breaker("permits::stale-probe", probing());
    cb.record_failure();
    advance(Duration::from_secs(1)).await;
    let stale = cb.try_acquire().unwrap();
    cb.force_open();
    cb.reset();
    cb.try_acquire().unwrap().failure();
    advance(Duration::from_secs(1)).await;
    let running = cb.try_acquire().unwrap();
    stale.success();
    assert!(cb.is_half_open(), "the stale success closed nothing");
    assert!(
        cb.try_acquire().is_err(),
        "the running probe's slot is still taken"
    );
    running.success();
    assert!(cb.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_counts_permits_exactly_as_calls() {
    let config = BulkheadConfig::DEFAULT
        .max_concurrent(1)
        .max_wait(Duration::from_secs(1));
    let by_call = bulkhead("permits::bulkhead-by-call", config.clone());
    let by_permit = bulkhead("permits::bulkhead-by-permit", config);

    let held = tokio::spawn({
        let by_call = Arc::clone(&by_call);
        async move {
            by_call
                .call(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok::<_, Error>(())
                })
                .await
        }
    });
    tokio::task::yield_now().await;
    let waited_out = by_call.call(|| async { Ok::<_, Error>(()) }).await;

    let permit = by_permit.acquire().await.unwrap();
    let refused = by_permit.acquire().await.map(drop);
    assert_eq!(by_permit.active(), 1);

    for rejection in [waited_out, refused] {
        assert!(matches!(
            rejection,
            Err(Error::BulkheadFull {
                max_concurrent: 1,
                ..
            })
        ));
    }
    assert_eq!(by_permit.stats(), by_call.stats());
    drop(permit);
    held.await.unwrap().unwrap();
    assert_eq!(by_permit.stats(), by_call.stats());
    let stats = by_permit.stats();
    assert_eq!(
        (stats.admitted, stats.rejections, stats.active, stats.queued),
        (1, 1, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn bulkhead_acquire_queues_for_max_wait_exactly() {
    let bh = bulkhead(
        "permits::max-wait",
        BulkheadConfig::DEFAULT
            .max_concurrent(1)
            .max_wait(Duration::from_millis(500)),
    );
    let held = Arc::clone(&bh).try_acquire_owned().unwrap();
    let start = Instant::now();
    assert!(matches!(
        bh.acquire().await,
        Err(Error::BulkheadFull {
            max_concurrent: 1,
            ..
        })
    ));
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(500),
        "gave up at max_wait"
    );

    let releaser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(held);
    });
    let start = Instant::now();
    let granted = bh.acquire().await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(300),
        "the slot came at release"
    );
    releaser.await.unwrap();
    assert_eq!(bh.active(), 1);
    drop(granted);
    assert_eq!(bh.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn bulkhead_try_acquire_never_waits_and_never_jumps_the_queue() {
    let bh = bulkhead(
        "permits::no-barging",
        BulkheadConfig::DEFAULT
            .max_concurrent(1)
            .max_wait(Duration::from_secs(60)),
    );
    let held = bh.try_acquire().unwrap();
    let start = Instant::now();
    assert!(matches!(bh.try_acquire(), Err(Error::BulkheadFull { .. })));
    assert_eq!(start.elapsed(), Duration::ZERO);
    let waiter = tokio::spawn({
        let bh = Arc::clone(&bh);
        async move { bh.acquire_owned().await.map(drop) }
    });
    tokio::task::yield_now().await;
    assert_eq!(bh.queued(), 1);
    drop(held);
    assert!(
        bh.try_acquire().is_err(),
        "the released slot went to the waiter"
    );
    waiter.await.unwrap().unwrap();
    assert_eq!(bh.stats().admitted, 2);
    assert_eq!(bh.stats().rejections, 2);
}

#[tokio::test(start_paused = true)]
async fn bulkhead_acquire_honours_max_queued() {
    let bh = bulkhead(
        "permits::max-queued",
        BulkheadConfig::DEFAULT
            .max_concurrent(1)
            .max_queued(1)
            .max_wait(Duration::from_secs(60)),
    );
    let _held = bh.try_acquire().unwrap();
    let _queued = tokio::spawn(Arc::clone(&bh).acquire_owned());
    tokio::task::yield_now().await;
    assert_eq!(bh.queued(), 1);
    let start = Instant::now();
    assert!(bh.acquire().await.is_err());
    assert_eq!(start.elapsed(), Duration::ZERO, "rejected at once");
}

/// Dropped while it queues, an `acquire` future leaves the queue; dropped in the moment a
/// slot is handed to it, it passes the slot on.
#[tokio::test(start_paused = true)]
async fn a_dropped_acquire_future_leaves_no_slot_or_queue_entry_behind() {
    let bh = bulkhead(
        "permits::cancel-safe",
        BulkheadConfig::DEFAULT
            .max_concurrent(1)
            .max_wait(Duration::from_secs(60)),
    );
    let held = bh.try_acquire().unwrap();
    let mut queued = Box::pin(bh.acquire());
    assert!(poll_once(queued.as_mut()).await.is_none());
    assert_eq!(bh.queued(), 1);
    drop(queued);
    assert_eq!(bh.queued(), 0);

    let mut handed = Box::pin(Arc::clone(&bh).acquire_owned());
    assert!(poll_once(handed.as_mut()).await.is_none());
    drop(held); // the slot goes to `handed`, which never looks again
    assert_eq!((bh.available(), bh.queued()), (0, 0));
    drop(handed);
    assert_eq!((bh.available(), bh.queued(), bh.active()), (1, 0, 0));
    assert_eq!(bh.stats().admitted, 1, "only `held` was admitted");
}

/// Polls `future` once: `Some` if it finished.
async fn poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
    let mut future = future;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// How a held pair of permits ends in [`every_way_a_permit_ends_leaves_counts_exact_and_every_slot_returned`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Success,
    Failure,
    Dropped,
    /// The task panics while it holds them; the runtime catches the panic.
    PanicInTask,
    /// A panic caught inside the task by `catch_unwind`, the permits moved into the closure.
    PanicCaught,
    /// Aborted while it holds them.
    AbortedHolding,
    /// Aborted at a random point: queued for the slot, or holding both.
    AbortedAnywhere,
}

const ENDS: [End; 7] = [
    End::Success,
    End::Failure,
    End::Dropped,
    End::PanicInTask,
    End::PanicCaught,
    End::AbortedHolding,
    End::AbortedAnywhere,
];

/// Hundreds of tasks on two worker threads each take a bulkhead slot (queueing for it) and
/// a breaker permit, both owned, and end in one of the ways of [`End`]: the breaker counts
/// each as the call it stands for, the bulkhead admitted each one that got a slot, and at
/// the end every slot is back and nothing queues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_permit_ends_leaves_counts_exact_and_every_slot_returned() {
    const ROUNDS: usize = 60;
    const SLOTS: usize = 3;
    let cb = breaker(
        "permits::every-end",
        CircuitBreakerConfig::DEFAULT.failure_threshold(u32::MAX),
    );
    let bh = bulkhead(
        "permits::every-end",
        BulkheadConfig::DEFAULT
            .max_concurrent(SLOTS)
            .max_wait(Duration::from_secs(60)),
    );
    let (holding_tx, mut holding_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    let mut most_queued = 0;
    for i in 0..ROUNDS * ENDS.len() {
        let end = ENDS[i % ENDS.len()];
        let (breaker, slots, holding) = (Arc::clone(&cb), Arc::clone(&bh), holding_tx.clone());
        tasks.push((
            end,
            tokio::spawn(async move {
                let slot = slots.acquire_owned().await.unwrap();
                let permit = breaker.try_acquire_owned().unwrap();
                match end {
                    End::Success => permit.success(),
                    End::Failure => permit.failure(),
                    End::Dropped => drop(permit),
                    End::PanicInTask => {
                        let _held = (slot, permit);
                        panic!("the body panicked");
                    }
                    End::PanicCaught => {
                        let caught = catch_unwind(AssertUnwindSafe(move || {
                            let _held = (slot, permit);
                            panic!("the body panicked");
                        }));
                        assert!(caught.is_err());
                    }
                    End::AbortedHolding | End::AbortedAnywhere => {
                        let _held = (slot, permit);
                        holding.send(i).unwrap();
                        std::future::pending::<()>().await;
                    }
                }
            }),
        ));
        most_queued = most_queued.max(bh.queued());
        if end == End::AbortedAnywhere {
            // Cut short wherever it is now: queued, or (rarely) already holding.
            tasks.last().unwrap().1.abort();
        }
    }
    // A task to be aborted while holding says so first; abort each as it does, so the
    // slots it held go on to the tasks queued behind it. A task aborted anywhere says so
    // too if it got as far: then it was admitted.
    let (mut aborted_holding, mut aborted_anywhere_admitted) = (0, 0);
    while aborted_holding < ROUNDS {
        // Bounded: with a slot lost, the holders left would queue until `max_wait`.
        let next = tokio::time::timeout(Duration::from_secs(10), holding_rx.recv());
        let i = next.await.expect("a slot was lost").unwrap();
        most_queued = most_queued.max(bh.queued());
        match ENDS[i % ENDS.len()] {
            End::AbortedHolding => {
                tasks[i].1.abort();
                aborted_holding += 1;
            }
            _ => aborted_anywhere_admitted += 1,
        }
    }
    let mut ended = [0u64; ENDS.len()];
    for (end, task) in tasks {
        match task.await {
            Ok(()) => ended[ENDS.iter().position(|e| *e == end).unwrap()] += 1,
            Err(error) if error.is_panic() => {
                assert_eq!(end, End::PanicInTask);
                ended[3] += 1;
            }
            Err(error) => {
                assert!(error.is_cancelled());
                assert!(matches!(end, End::AbortedHolding | End::AbortedAnywhere));
            }
        }
    }
    assert_eq!(&ended[..5], &[ROUNDS as u64; 5]);
    assert!(most_queued > 0, "the run never queued: no contention");

    let (breaker, bulkhead) = (cb.stats(), bh.stats());
    assert_eq!(
        (bulkhead.active, bulkhead.queued, bulkhead.rejections),
        (0, 0, 0)
    );
    assert_eq!(bh.available(), SLOTS, "every slot is back");
    assert_eq!(
        breaker.calls, bulkhead.admitted,
        "a breaker permit for every slot"
    );
    let reported = ROUNDS as u64;
    assert_eq!(
        (breaker.successes, breaker.failures, breaker.rejections),
        (reported, reported, 0)
    );
    drop(holding_tx);
    while let Ok(i) = holding_rx.try_recv() {
        assert_eq!(ENDS[i % ENDS.len()], End::AbortedAnywhere);
        aborted_anywhere_admitted += 1;
    }
    assert_eq!(bulkhead.admitted, 6 * reported + aborted_anywhere_admitted);
    assert_eq!(
        breaker.abandoned,
        4 * reported + aborted_anywhere_admitted,
        "dropped, panicked (twice over) and aborted while holding: abandoned"
    );
    assert!(cb.is_closed());
}
