//! `#[bulkhead]` and `Bulkhead`: slots, queueing, and slots coming back however a call ends.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::{bulkhead, registry, Bulkhead, BulkheadConfig, Error};
use tokio::time::{sleep, Instant};

/// Counts bodies running at once and remembers the most seen.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Gauge {
    fn enter(&self) -> impl Drop + '_ {
        let now = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        Exit(&self.now)
    }
}

struct Exit<'a>(&'a AtomicUsize);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn at_most_max_concurrent_run_and_the_rest_queue_in_order() {
    static GAUGE: Gauge = Gauge {
        now: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    };
    #[bulkhead(name = "bulkhead::queue", max_concurrent = 2, max_wait = "10s")]
    async fn work(i: u32) -> Result<(u32, Duration), Error> {
        let _inside = GAUGE.enter();
        sleep(Duration::from_secs(1)).await;
        Ok((i, Duration::ZERO))
    }
    let start = Instant::now();
    let calls: Vec<_> = (0..5)
        .map(|i| tokio::spawn(async move { work(i).await.map(|(i, _)| (i, start.elapsed())) }))
        .collect();
    let mut finished = Vec::new();
    for call in calls {
        finished.push(call.await.unwrap().unwrap());
    }
    assert_eq!(GAUGE.most.load(SeqCst), 2);
    let seconds: Vec<u64> = finished.iter().map(|(_, at)| at.as_secs()).collect();
    assert_eq!(
        seconds,
        [1, 1, 2, 2, 3],
        "first come, first served, two at a time"
    );
    let stats = registry().bulkhead("bulkhead::queue").unwrap().stats();
    assert_eq!(
        (stats.admitted, stats.rejections, stats.active, stats.queued),
        (5, 0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn max_wait_zero_rejects_at_once_and_a_queued_call_gives_up_at_max_wait() {
    let bulkhead = Arc::new(
        Bulkhead::new(
            "bulkhead::full",
            BulkheadConfig::DEFAULT
                .max_concurrent(1)
                .max_wait(Duration::ZERO),
        )
        .unwrap(),
    );
    let holder = Arc::clone(&bulkhead);
    let _busy = tokio::spawn(async move {
        holder
            .call(|| async {
                sleep(Duration::from_secs(60)).await;
                Ok::<_, Error>(())
            })
            .await
    });
    tokio::task::yield_now().await;
    let start = Instant::now();
    let full = Error::BulkheadFull {
        name: "bulkhead::full".into(),
        max_concurrent: 1,
    };
    assert_eq!(
        bulkhead.call(|| async { Ok::<_, Error>(()) }).await,
        Err(full)
    );
    assert_eq!(start.elapsed(), Duration::ZERO);

    #[bulkhead(name = "bulkhead::wait", max_concurrent = 1, max_wait = "2s")]
    async fn slow() -> Result<(), Error> {
        sleep(Duration::from_secs(60)).await;
        Ok(())
    }
    let _first = tokio::spawn(slow());
    tokio::task::yield_now().await;
    let start = Instant::now();
    assert!(matches!(
        slow().await,
        Err(Error::BulkheadFull {
            max_concurrent: 1,
            ..
        })
    ));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_slot_comes_back_when_a_running_or_queued_call_is_dropped() {
    let bulkhead = Bulkhead::new(
        "bulkhead::drop",
        BulkheadConfig::DEFAULT
            .max_concurrent(1)
            .max_wait(Duration::from_secs(60)),
    )
    .unwrap();
    let hold = || async {
        sleep(Duration::from_secs(10)).await;
        Ok::<_, Error>(())
    };
    let running = bulkhead.call(hold);
    let queued = bulkhead.call(hold);
    let both = async { tokio::join!(running, queued) };
    assert!(tokio::time::timeout(Duration::from_secs(1), both)
        .await
        .is_err());
    assert_eq!(
        (bulkhead.active(), bulkhead.queued(), bulkhead.available()),
        (0, 0, 1)
    );

    let running = bulkhead.call(hold);
    assert!(tokio::time::timeout(Duration::from_secs(1), running)
        .await
        .is_err());
    assert_eq!(bulkhead.available(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_comes_back_when_the_body_panics() {
    let bulkhead = Arc::new(
        Bulkhead::new("bulkhead::panic", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap(),
    );
    let inner = Arc::clone(&bulkhead);
    let joined = tokio::spawn(async move {
        inner
            .call(|| async { panic!("body panicked") as Result<(), Error> })
            .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(bulkhead.available(), 1);
    assert_eq!(bulkhead.call(|| async { Ok::<_, Error>(7) }).await, Ok(7));
}

/// Thousands of calls on two worker threads, cut short at random points while queued or
/// running (by a timeout around the call, or by aborting its task), some panicking in the
/// body: never more than `max_concurrent` bodies at once, every slot back at the end, and
/// the run did reach the contention it is about (every slot busy with callers queued).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_over_max_concurrent_under_cancellation_and_panics() {
    stress(3_000).await;
}

/// The same with two hundred thousand calls:
/// `cargo test --release --test bulkhead -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak run of a minute or so; the default suite runs the same with 3000 calls"]
async fn soak_never_over_max_concurrent_under_cancellation_and_panics() {
    stress(200_000).await;
}

async fn stress(count: u64) {
    const MAX: usize = 3;
    let gauge = Arc::new(Gauge::default());
    let most_queued = Arc::new(AtomicUsize::new(0));
    let config = BulkheadConfig::DEFAULT
        .max_concurrent(MAX)
        .max_wait(Duration::from_micros(300));
    let bulkhead = Arc::new(Bulkhead::new("bulkhead::stress", config).unwrap());
    let mut random = 0x9E37_79B9_u64;
    let mut calls = Vec::new();
    for _ in 0..count {
        most_queued.fetch_max(bulkhead.queued(), SeqCst);
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let (bulkhead, gauge, roll) = (Arc::clone(&bulkhead), Arc::clone(&gauge), random % 1000);
        let most_queued = Arc::clone(&most_queued);
        calls.push(tokio::spawn(async move {
            let call = bulkhead.call(|| async {
                let _inside = gauge.enter();
                most_queued.fetch_max(bulkhead.queued(), SeqCst);
                if roll % 2 == 0 {
                    tokio::time::sleep(Duration::from_micros(roll)).await;
                } else {
                    tokio::task::yield_now().await;
                }
                assert!(roll % 50 != 7, "panics inside the body");
                Ok::<_, Error>(())
            });
            // Gives up after a random while: queued, running, or not at all.
            tokio::time::timeout(Duration::from_micros(roll * 3), call).await
        }));
        if roll % 10 == 0 {
            tokio::task::yield_now().await;
            calls.last().expect("pushed").abort();
        }
    }
    for call in calls {
        let _ = call.await;
    }
    assert!(
        gauge.most.load(SeqCst) <= MAX,
        "{} bodies ran at once",
        gauge.most.load(SeqCst)
    );
    assert_eq!(gauge.now.load(SeqCst), 0);
    assert_eq!(
        (bulkhead.available(), bulkhead.active(), bulkhead.queued()),
        (MAX, 0, 0)
    );
    let stats = bulkhead.stats();
    assert!(
        stats.admitted > 0 && stats.admitted < count,
        "some calls ran, some did not: {stats:?}"
    );
    assert_eq!(
        gauge.most.load(SeqCst),
        MAX,
        "never every slot busy at once"
    );
    assert!(
        most_queued.load(SeqCst) > 0,
        "no body ever ran with callers queued behind it: {stats:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_that_finds_max_queued_waiting_is_rejected_at_once() {
    let bulkhead = Arc::new(
        Bulkhead::new(
            "bulkhead::max_queued",
            BulkheadConfig::DEFAULT
                .max_concurrent(1)
                .max_wait(Duration::from_secs(10))
                .max_queued(1),
        )
        .unwrap(),
    );
    let slow = |bulkhead: Arc<Bulkhead>| async move {
        bulkhead
            .call(|| async {
                sleep(Duration::from_secs(1)).await;
                Ok::<_, Error>(())
            })
            .await
    };
    let running = tokio::spawn(slow(Arc::clone(&bulkhead)));
    let queued = tokio::spawn(slow(Arc::clone(&bulkhead)));
    tokio::task::yield_now().await;
    assert_eq!((bulkhead.active(), bulkhead.queued()), (1, 1));
    let start = Instant::now();
    assert_eq!(
        slow(Arc::clone(&bulkhead)).await,
        Err(Error::BulkheadFull {
            name: "bulkhead::max_queued".into(),
            max_concurrent: 1
        })
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(running.await.unwrap(), Ok(()));
    assert_eq!(queued.await.unwrap(), Ok(()));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    let stats = bulkhead.stats();
    assert_eq!((stats.admitted, stats.rejections), (2, 1));
    bulkhead.reset();
    let stats = bulkhead.stats();
    assert_eq!((stats.admitted, stats.rejections), (0, 0));
}
