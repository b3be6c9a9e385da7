//! The attributes on plain (non-async) fns: waits block the thread on the real clock, sync
//! and async callers of one name share one instance, and the async side's invariants hold
//! on real threads (never over the limit, every slot back after a panic).
//!
//! These cannot run on tokio's paused clock: a blocked thread is what they test. Each uses
//! real threads and durations of tens of milliseconds, with generous slack above.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use resilience::{
    bulkhead, circuit_breaker, fallback, rate_limit, registry, retry, Bulkhead, BulkheadConfig,
    CircuitState, Error,
};

/// Counts bodies running at once and remembers the most seen.
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    const fn new() -> Self {
        Self {
            now: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        }
    }

    fn inside(&self, for_: Duration) {
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        thread::sleep(for_);
        self.now.fetch_sub(1, SeqCst);
    }
}

/// Spins until `condition` holds; a test that waits for what never happens fails instead
/// of hanging.
fn until(condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < Duration::from_secs(2), "never happened");
        thread::yield_now();
    }
}

#[test]
fn sixteen_threads_on_a_bulkhead_of_three_never_see_more_than_three_inside() {
    static GAUGE: Gauge = Gauge::new();
    #[bulkhead(name = "blocking::sixteen", max_concurrent = 3, max_wait = "5s")]
    fn work() -> Result<(), Error> {
        GAUGE.inside(Duration::from_millis(20));
        Ok(())
    }
    let start = Barrier::new(16);
    thread::scope(|scope| {
        let calls: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    work()
                })
            })
            .collect();
        for call in calls {
            assert_eq!(call.join().unwrap(), Ok(()));
        }
    });
    assert_eq!(
        GAUGE.most.load(SeqCst),
        3,
        "at most three, and three reached"
    );
    let stats = registry().bulkhead("blocking::sixteen").unwrap().stats();
    assert_eq!((stats.admitted, stats.rejections), (16, 0));
    assert_eq!((stats.active, stats.queued), (0, 0), "every slot back");
}

#[test]
fn a_caller_queues_for_max_wait_then_is_rejected_and_the_next_behind_max_queued_at_once() {
    #[bulkhead(
        name = "blocking::queue",
        max_concurrent = 1,
        max_wait = "300ms",
        max_queued = 1
    )]
    fn hold(release: &mpsc::Receiver<()>) -> Result<(), Error> {
        release.recv().unwrap();
        Ok(())
    }
    let bulkhead = registry().bulkhead("blocking::queue").unwrap();
    thread::scope(|scope| {
        // Inside the scope, so a failed assertion drops the sender and the holder ends.
        let (release, held) = mpsc::channel();
        let holder = scope.spawn(move || hold(&held));
        until(|| bulkhead.active() > 0);
        let queued = scope.spawn(|| {
            let start = Instant::now();
            let result = hold(&mpsc::channel().1);
            (start.elapsed(), result)
        });
        until(|| bulkhead.queued() > 0);
        let start = Instant::now();
        let behind = hold(&mpsc::channel().1);
        assert!(
            matches!(behind, Err(Error::BulkheadFull { .. })),
            "{behind:?}"
        );
        // Half of `max_wait`: slack for a loaded host, and still no queueing.
        assert!(
            start.elapsed() < Duration::from_millis(150),
            "rejected without queueing"
        );

        let (waited, result) = queued.join().unwrap();
        assert!(
            matches!(result, Err(Error::BulkheadFull { .. })),
            "{result:?}"
        );
        assert!(
            waited >= Duration::from_millis(300),
            "queued for `max_wait`: {waited:?}"
        );
        assert!(
            waited < Duration::from_millis(1500),
            "and not much longer: {waited:?}"
        );
        release.send(()).unwrap();
        assert_eq!(holder.join().unwrap(), Ok(()));
    });
    assert_eq!(
        bulkhead.queued(),
        0,
        "the waiter that gave up left the queue"
    );
    assert_eq!(bulkhead.available(), 1);
    assert_eq!(bulkhead.stats().rejections, 2);
}

#[test]
fn a_panic_inside_gives_the_slot_back() {
    #[bulkhead(name = "blocking::panic", max_concurrent = 2, max_wait = 0)]
    fn explode(panics: bool) -> Result<(), Error> {
        assert!(!panics, "the guarded fn panicked");
        Ok(())
    }
    let bulkhead = registry().bulkhead("blocking::panic").unwrap();
    for _ in 0..3 {
        let panicked = thread::spawn(|| explode(true)).join();
        assert!(panicked.is_err());
        assert_eq!(
            bulkhead.available(),
            2,
            "the slot came back as the panic unwound"
        );
    }
    assert_eq!(explode(false), Ok(()));
    assert_eq!(bulkhead.stats().admitted, 4);
}

/// A slot given back by an async caller reaches a thread queued for it, and the other way
/// round: one queue, whoever waits in it.
#[test]
fn sync_and_async_callers_of_one_name_share_one_bulkhead() {
    #[bulkhead(name = "blocking::shared", max_concurrent = 1, max_wait = "2s")]
    fn sync_call(hold: Duration) -> Result<&'static str, Error> {
        thread::sleep(hold);
        Ok("sync")
    }
    #[bulkhead(name = "blocking::shared", max_concurrent = 1, max_wait = "2s")]
    async fn async_call(hold: Duration) -> Result<&'static str, Error> {
        tokio::time::sleep(hold).await;
        Ok("async")
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let bulkhead = registry().bulkhead("blocking::shared").unwrap();

    // An async caller holds the slot; a thread queues behind it and gets it when it ends.
    let held = runtime.spawn(async_call(Duration::from_millis(50)));
    until(|| bulkhead.active() > 0);
    let start = Instant::now();
    assert_eq!(sync_call(Duration::ZERO), Ok("sync"));
    assert!(
        start.elapsed() >= Duration::from_millis(20),
        "waited for the async caller"
    );
    assert_eq!(runtime.block_on(held).unwrap(), Ok("async"));

    // A thread holds the slot; an async caller queues behind it.
    let held = thread::spawn(|| sync_call(Duration::from_millis(50)));
    until(|| bulkhead.active() > 0);
    assert_eq!(runtime.block_on(async_call(Duration::ZERO)), Ok("async"));
    assert_eq!(held.join().unwrap(), Ok("sync"));

    let stats = bulkhead.stats();
    assert_eq!((stats.admitted, stats.rejections, stats.active), (4, 0, 0));
}

#[test]
fn an_owned_blocking_permit_ends_on_another_thread_dropped_or_panicking_and_its_slot_comes_back() {
    let config = BulkheadConfig::DEFAULT
        .max_concurrent(1)
        .max_wait(Duration::from_secs(2));
    let bulkhead = Arc::new(Bulkhead::new("blocking::owned", config).unwrap());
    let permit = Arc::clone(&bulkhead).acquire_owned_blocking().unwrap();
    let waiter = {
        let bulkhead = Arc::clone(&bulkhead);
        thread::spawn(move || bulkhead.acquire_blocking().map(drop))
    };
    until(|| bulkhead.queued() > 0);
    thread::spawn(move || drop(permit)).join().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!((bulkhead.available(), bulkhead.queued()), (1, 0));

    // Held across a panic on the thread it moved to: back as the thread unwinds.
    let permit = Arc::clone(&bulkhead).acquire_owned_blocking().unwrap();
    let panicked = thread::spawn(move || {
        let _held = permit;
        panic!("the work holding the slot panicked");
    })
    .join();
    assert!(panicked.is_err());
    assert_eq!(bulkhead.available(), 1);
}

#[test]
fn a_limiter_admits_its_quota_across_threads_and_no_more() {
    static ADMITTED: AtomicU32 = AtomicU32::new(0);
    #[rate_limit(name = "blocking::quota", max_requests = 5, window = "60s")]
    fn call() -> Result<(), Error> {
        ADMITTED.fetch_add(1, SeqCst);
        Ok(())
    }
    let start = Barrier::new(8);
    let results: Vec<Result<(), Error>> = thread::scope(|scope| {
        let calls: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    (0..4).map(|_| call()).collect::<Vec<_>>()
                })
            })
            .collect();
        calls.into_iter().flat_map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, Error::RateLimited { .. })));
    assert_eq!(ADMITTED.load(SeqCst), 5);
    let stats = registry().rate_limiter("blocking::quota").unwrap().stats();
    assert_eq!((stats.admitted, stats.rejections), (5, 27));
}

#[test]
fn a_limited_call_sleeps_until_the_next_permit_within_max_wait() {
    #[rate_limit(
        name = "blocking::wait",
        max_requests = 1,
        window = "80ms",
        max_wait = "500ms"
    )]
    fn call() -> Result<(), Error> {
        Ok(())
    }
    assert_eq!(call(), Ok(()));
    let start = Instant::now();
    assert_eq!(call(), Ok(()));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(70),
        "slept for the next permit: {waited:?}"
    );
    assert!(waited < Duration::from_millis(450), "{waited:?}");
    let stats = registry().rate_limiter("blocking::wait").unwrap().stats();
    assert_eq!((stats.admitted, stats.waited, stats.rejections), (2, 1, 0));
}

#[test]
fn a_retry_sleeps_its_backoff_between_attempts() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(
        name = "blocking::backoff",
        max_attempts = 3,
        base_delay = "40ms",
        backoff = "constant",
        jitter = false
    )]
    fn flaky() -> Result<u32, Error> {
        match ATTEMPTS.fetch_add(1, SeqCst) {
            0 | 1 => Err(Error::Timeout {
                name: "upstream".into(),
                after: Duration::ZERO,
            }),
            n => Ok(n),
        }
    }
    let start = Instant::now();
    assert_eq!(flaky(), Ok(2));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(80),
        "two waits of 40ms: {took:?}"
    );
    assert!(took < Duration::from_millis(500), "{took:?}");
    let stats = registry().retry("blocking::backoff").unwrap().stats();
    assert_eq!((stats.succeeded_after_retry, stats.retries), (1, 2));
}

#[test]
fn a_retry_gives_up_when_the_next_wait_would_pass_max_elapsed() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(
        max_attempts = 10,
        base_delay = "40ms",
        backoff = "constant",
        jitter = false,
        max_elapsed = "100ms"
    )]
    fn down() -> Result<(), Error> {
        ATTEMPTS.fetch_add(1, SeqCst);
        Err(Error::Timeout {
            name: "upstream".into(),
            after: Duration::ZERO,
        })
    }
    let start = Instant::now();
    assert!(down().is_err());
    let took = start.elapsed();
    // Attempts at 0, 40ms and 80ms; a fourth would start after 100ms. A thread that
    // overslept gives up one attempt earlier.
    let attempts = ATTEMPTS.load(SeqCst);
    assert!((2..=3).contains(&attempts), "{attempts} attempts");
    assert!(took >= Duration::from_millis(40), "{took:?}");
    assert!(took < Duration::from_millis(500), "{took:?}");
}

pub struct Journal {
    lines: Vec<String>,
}

impl Journal {
    /// `&mut self` and an owned argument lent to each attempt, as on the async side.
    #[retry(max_attempts = 3, base_delay = 0)]
    fn append(&mut self, line: String) -> Result<usize, Error> {
        self.lines.push(line.clone()); // `line` is a `&String` here
        if self.lines.len() < 2 {
            return Err(Error::Timeout {
                name: "disk".into(),
                after: Duration::ZERO,
            });
        }
        Ok(self.lines.len())
    }
}

#[test]
fn a_retried_method_borrows_self_and_its_arguments_anew_each_attempt() {
    let mut journal = Journal { lines: Vec::new() };
    assert_eq!(journal.append("entry".into()), Ok(2));
    assert_eq!(journal.lines, ["entry", "entry"]);
}

#[test]
fn a_breaker_opens_rejects_without_running_and_a_panicking_probe_gives_its_slot_back() {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    #[circuit_breaker(
        name = "blocking::breaker",
        failure_threshold = 2,
        recovery_timeout = "50ms",
        half_open_max_calls = 1,
        success_threshold = 1
    )]
    fn call(how: &str) -> Result<(), Error> {
        RUNS.fetch_add(1, SeqCst);
        match how {
            "fail" => Err(Error::Timeout {
                name: "upstream".into(),
                after: Duration::ZERO,
            }),
            "panic" => panic!("the probe panicked"),
            _ => Ok(()),
        }
    }
    let breaker = registry().circuit_breaker("blocking::breaker").unwrap();
    assert!(call("fail").is_err() && call("fail").is_err());
    assert_eq!(breaker.state(), CircuitState::Open);
    assert!(matches!(call("ok"), Err(Error::CircuitOpen { .. })));
    assert_eq!(RUNS.load(SeqCst), 2, "a rejected call does not run");

    thread::sleep(Duration::from_millis(60));
    assert!(catch_unwind(AssertUnwindSafe(|| call("panic"))).is_err());
    assert_eq!(
        breaker.state(),
        CircuitState::HalfOpen,
        "a panic is neither"
    );
    assert_eq!(breaker.stats().abandoned, 1);
    assert_eq!(call("ok"), Ok(()), "the probe slot came back");
    assert_eq!(breaker.state(), CircuitState::Closed);
}

#[test]
fn a_retry_above_a_breaker_stops_at_circuit_open_on_the_blocking_path_too() {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 5, base_delay = 0)]
    #[circuit_breaker(name = "blocking::stack", failure_threshold = 2)]
    fn call() -> Result<(), Error> {
        RUNS.fetch_add(1, SeqCst);
        Err(Error::Timeout {
            name: "upstream".into(),
            after: Duration::ZERO,
        })
    }
    let result = call();
    assert!(
        matches!(result, Err(Error::CircuitOpen { .. })),
        "{result:?}"
    );
    assert_eq!(
        RUNS.load(SeqCst),
        2,
        "two failures opened it; the third attempt was refused"
    );
}

/// Inside a runtime whose clock is paused, a plain fn's waits still pass on the real
/// clock, and its policies read the real clock: a limiter that read the paused clock after
/// its sleep would find no permit and give up at `max_wait`, and a breaker would never
/// see its recovery timeout pass.
#[tokio::test(start_paused = true)]
async fn waits_run_on_the_real_clock_inside_a_paused_runtime() {
    #[rate_limit(
        name = "blocking::paused",
        max_requests = 1,
        window = "50ms",
        max_wait = "900ms"
    )]
    fn limited() -> Result<(), Error> {
        Ok(())
    }
    #[retry(max_attempts = 2, base_delay = "30ms", jitter = false)]
    fn retried(attempts: &AtomicU32) -> Result<(), Error> {
        match attempts.fetch_add(1, SeqCst) {
            0 => Err(Error::Timeout {
                name: "x".into(),
                after: Duration::ZERO,
            }),
            _ => Ok(()),
        }
    }
    #[circuit_breaker(
        name = "blocking::paused",
        failure_threshold = 1,
        recovery_timeout = "40ms"
    )]
    fn broken(fails: bool) -> Result<(), Error> {
        match fails {
            true => Err(Error::Timeout {
                name: "x".into(),
                after: Duration::ZERO,
            }),
            false => Ok(()),
        }
    }
    let paused = tokio::time::Instant::now();
    let start = Instant::now();
    assert_eq!(limited(), Ok(()));
    assert_eq!(limited(), Ok(()), "admitted once the real window passed");
    assert_eq!(retried(&AtomicU32::new(0)), Ok(()));
    assert!(broken(true).is_err());
    assert!(matches!(broken(false), Err(Error::CircuitOpen { .. })));
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        broken(false),
        Ok(()),
        "a probe once the real recovery timeout passed"
    );
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(75), "{took:?}");
    assert!(took < Duration::from_millis(800), "{took:?}");
    assert_eq!(
        paused.elapsed(),
        Duration::ZERO,
        "tokio's clock never moved"
    );
}

/// A plain fn's fallbacks are plain fns, tried in written order, each given the arguments
/// (lent as under `#[retry]`) and the error of the step before it; above a breaker they
/// answer its `CircuitOpen` too.
#[test]
fn a_plain_fallback_chain_answers_in_order_and_above_an_open_breaker() {
    static RUNS: AtomicU32 = AtomicU32::new(0);
    #[fallback(from_cache, from_default, name = "blocking::fallback")]
    #[circuit_breaker(name = "blocking::fallback", failure_threshold = 1)]
    fn price(sku: String) -> Result<String, Error> {
        RUNS.fetch_add(1, SeqCst);
        Err(Error::Timeout {
            name: format!("primary {sku}").into(),
            after: Duration::ZERO,
        })
    }
    fn from_cache(sku: &String, error: Error) -> Result<String, Error> {
        Err(Error::BulkheadFull {
            name: format!("cache {sku} after {}", error.name()).into(),
            max_concurrent: 1,
        })
    }
    fn from_default(sku: &String, error: Error) -> Result<String, Error> {
        Ok(format!("default {sku} after {}", error.name()))
    }
    assert_eq!(
        price("a-1".into()),
        Ok("default a-1 after cache a-1 after primary a-1".into())
    );
    // The breaker opened on that failure: the primary no longer runs, the chain answers.
    assert_eq!(
        price("a-2".into()),
        Ok("default a-2 after cache a-2 after blocking::fallback".into())
    );
    assert_eq!(RUNS.load(SeqCst), 1);
    let stats = registry().fallback("blocking::fallback").unwrap().stats();
    assert_eq!((stats.calls, stats.recovered, stats.all_failed), (2, 2, 0));
    assert_eq!(
        stats.recovered_by(2),
        2,
        "the second fallback answered both"
    );
}

/// One fallback instance, its counters shared by a plain fn and an `async fn` naming it.
#[test]
fn sync_and_async_callers_of_one_name_share_one_fallback() {
    #[fallback(plain_cache, name = "blocking::shared-fallback")]
    fn plain(id: u32) -> Result<u32, Error> {
        Err(Error::BulkheadFull {
            name: "plain".into(),
            max_concurrent: id as usize,
        })
    }
    fn plain_cache(id: u32, _: Error) -> Result<u32, Error> {
        Ok(id)
    }
    #[fallback(async_cache, name = "blocking::shared-fallback")]
    async fn not_plain(id: u32) -> Result<u32, Error> {
        Ok(id + 1)
    }
    async fn async_cache(id: u32, _: Error) -> Result<u32, Error> {
        Ok(id)
    }
    assert_eq!(plain(3), Ok(3));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(not_plain(3)), Ok(4));
    let stats = registry()
        .fallback("blocking::shared-fallback")
        .unwrap()
        .stats();
    assert_eq!(
        (stats.calls, stats.primary_succeeded, stats.recovered),
        (2, 1, 1)
    );
}

/// Called on a current-thread runtime's own thread, a plain fn that queues behind a task of
/// that runtime blocks the only thread the task could run on: the slot cannot come back,
/// and the wait ends at `max_wait` with a rejection, not in a hang. (Through
/// `spawn_blocking` it would have waited on a thread of its own.)
#[tokio::test]
async fn a_plain_fn_queued_behind_a_task_of_its_own_current_thread_runtime_gives_up_at_max_wait() {
    #[bulkhead(
        name = "blocking::current-thread",
        max_concurrent = 1,
        max_wait = "60ms"
    )]
    fn plain() -> Result<(), Error> {
        Ok(())
    }
    #[bulkhead(
        name = "blocking::current-thread",
        max_concurrent = 1,
        max_wait = "60ms"
    )]
    async fn task() -> Result<(), Error> {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok(())
    }
    let held = tokio::spawn(task());
    tokio::task::yield_now().await; // the task takes the slot and sleeps
    let start = Instant::now();
    assert!(matches!(plain(), Err(Error::BulkheadFull { .. })));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(60), "{waited:?}");
    assert!(waited < Duration::from_millis(600), "{waited:?}");
    assert_eq!(held.await.unwrap(), Ok(()));

    let through_spawn_blocking = tokio::spawn(task());
    tokio::task::yield_now().await;
    let waited = tokio::task::spawn_blocking(plain).await.unwrap();
    assert_eq!(waited, Ok(()), "on a thread of its own, the slot came back");
    assert_eq!(through_spawn_blocking.await.unwrap(), Ok(()));
}
