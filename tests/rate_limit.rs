//! `#[rate_limit]` and `RateLimiter`: each algorithm's quota, waiting, and giving up.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::{rate_limit, registry, Algorithm, Error, RateLimiter, RateLimiterConfig};
use tokio::time::{advance, Instant};

const MS: Duration = Duration::from_millis(1);

fn limiter(name: &str, max_requests: u32, window: Duration, algorithm: Algorithm) -> RateLimiter {
    RateLimiter::new(
        name,
        RateLimiterConfig::DEFAULT
            .max_requests(max_requests)
            .window(window)
            .algorithm(algorithm),
    )
    .unwrap()
}

fn limited(name: &str, retry_after: Duration) -> Result<(), Error> {
    Err(Error::RateLimited {
        name: name.into(),
        retry_after,
    })
}

#[tokio::test(start_paused = true)]
async fn token_bucket_allows_a_burst_then_refills_evenly() {
    let limiter = limiter(
        "rl::bucket",
        4,
        Duration::from_secs(1),
        Algorithm::TokenBucket,
    );
    for _ in 0..4 {
        limiter.try_acquire().unwrap();
    }
    assert_eq!(limiter.try_acquire(), limited("rl::bucket", MS * 250));
    advance(MS * 250).await;
    limiter.try_acquire().unwrap();
    assert_eq!(limiter.try_acquire(), limited("rl::bucket", MS * 250));
}

#[tokio::test(start_paused = true)]
async fn burst_sets_the_bucket_capacity() {
    #[rate_limit(name = "rl::burst", max_requests = 10, window = "1s", burst = 2)]
    async fn call() -> Result<(), Error> {
        Ok(())
    }
    call().await.unwrap();
    call().await.unwrap();
    assert_eq!(call().await, limited("rl::burst", MS * 100));
}

#[tokio::test(start_paused = true)]
async fn sliding_window_never_admits_more_than_max_in_any_window() {
    let limiter = limiter(
        "rl::sliding",
        3,
        Duration::from_secs(10),
        Algorithm::SlidingWindow,
    );
    limiter.try_acquire().unwrap();
    advance(Duration::from_secs(4)).await;
    limiter.try_acquire().unwrap();
    limiter.try_acquire().unwrap();
    assert_eq!(
        limiter.try_acquire(),
        limited("rl::sliding", Duration::from_secs(6))
    );
    advance(Duration::from_secs(6)).await;
    limiter.try_acquire().unwrap();
    assert_eq!(
        limiter.try_acquire(),
        limited("rl::sliding", Duration::from_secs(4))
    );
}

#[tokio::test(start_paused = true)]
async fn fixed_window_resets_at_each_boundary() {
    let limiter = limiter(
        "rl::fixed",
        2,
        Duration::from_secs(1),
        Algorithm::FixedWindow,
    );
    advance(MS * 900).await;
    limiter.try_acquire().unwrap();
    limiter.try_acquire().unwrap();
    assert_eq!(limiter.try_acquire(), limited("rl::fixed", MS * 100));
    advance(MS * 100).await;
    limiter.try_acquire().unwrap();
    limiter.try_acquire().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_waits_up_to_max_wait_for_a_permit() {
    #[rate_limit(name = "rl::wait", max_requests = 2, window = "1s", max_wait = "500ms")]
    async fn call() -> Result<(), Error> {
        Ok(())
    }
    call().await.unwrap();
    call().await.unwrap();
    let start = Instant::now();
    call().await.unwrap();
    assert_eq!(start.elapsed(), MS * 500, "waited for the next token");
    let start = Instant::now();
    call().await.unwrap();
    assert_eq!(start.elapsed(), MS * 500);
    let stats = registry().rate_limiter("rl::wait").unwrap().stats();
    assert_eq!((stats.admitted, stats.waited, stats.rejections), (4, 2, 0));
}

#[tokio::test(start_paused = true)]
async fn a_wait_longer_than_max_wait_is_rejected_at_once() {
    let limiter = RateLimiter::new(
        "rl::too_long",
        RateLimiterConfig::DEFAULT
            .max_requests(1)
            .window(Duration::from_secs(10))
            .max_wait(Duration::from_secs(1)),
    )
    .unwrap();
    limiter.acquire().await.unwrap();
    let start = Instant::now();
    assert_eq!(
        limiter.acquire().await,
        limited("rl::too_long", Duration::from_secs(10))
    );
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_waiter_that_gives_up_takes_no_permit() {
    let limiter = RateLimiter::new(
        "rl::give_up",
        RateLimiterConfig::DEFAULT
            .max_requests(1)
            .window(Duration::from_secs(1))
            .max_wait(Duration::from_secs(5)),
    )
    .unwrap();
    limiter.acquire().await.unwrap();
    assert!(
        tokio::time::timeout(MS * 500, limiter.acquire())
            .await
            .is_err(),
        "gave up half way"
    );
    advance(MS * 500).await;
    limiter
        .try_acquire()
        .expect("the permit the waiter would have taken is still there");
    assert_eq!(limiter.stats().admitted, 2);
}

/// Many callers on two worker threads, some cancelled while they wait, against a quota short
/// enough that callers do wait for it (real time, since the workers cannot share a paused
/// clock): never more admitted than the quota allows over the time the run took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_over_quota_under_contention_and_cancellation() {
    const MAX: u32 = 10;
    const WINDOW: Duration = Duration::from_millis(50);
    for algorithm in [
        Algorithm::TokenBucket,
        Algorithm::SlidingWindow,
        Algorithm::FixedWindow,
    ] {
        let limiter = Arc::new(
            RateLimiter::new(
                "rl::stress",
                RateLimiterConfig::DEFAULT
                    .max_requests(MAX)
                    .window(WINDOW)
                    .algorithm(algorithm)
                    .max_wait(WINDOW + MS * 10),
            )
            .unwrap(),
        );
        let start = std::time::Instant::now();
        let ran = Arc::new(AtomicU32::new(0));
        let calls: Vec<_> = (0..400)
            .map(|i| {
                let (limiter, ran) = (Arc::clone(&limiter), Arc::clone(&ran));
                let call = tokio::spawn(async move {
                    limiter
                        .call(|| async {
                            ran.fetch_add(1, SeqCst);
                            Ok::<_, Error>(())
                        })
                        .await
                });
                (call, i % 7 == 0)
            })
            .collect();
        // Cancelled a few milliseconds in, while the quota is spent and they wait.
        tokio::time::sleep(MS * 3).await;
        let mut handles = Vec::new();
        for (call, cancel) in calls {
            if cancel {
                call.abort();
            }
            handles.push(call);
        }
        for call in handles {
            let _ = call.await;
        }
        let windows = u32::try_from(start.elapsed().as_nanos() / WINDOW.as_nanos()).unwrap();
        let stats = limiter.stats();
        let ran = u64::from(ran.load(SeqCst));
        assert!(
            stats.admitted <= u64::from(MAX * (windows + 2)),
            "{algorithm:?}: {stats:?} in {windows} windows"
        );
        assert!(ran <= stats.admitted, "{algorithm:?}: {ran} ran, {stats:?}");
        assert!(
            stats.waited > 0 && stats.rejections > 0,
            "{algorithm:?}: callers must have waited, and some in vain: {stats:?}"
        );
    }
}

/// Quotas slower than 584 years per bucket once made the arithmetic saturate, and a
/// saturated bucket admitted everything. Each admits its burst and then nothing.
#[tokio::test(start_paused = true)]
async fn a_bucket_slower_than_nanoseconds_can_count_still_limits() {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    let cases = [
        (1, YEAR * 600, None),
        (1, YEAR, Some(1000)),
        (1, Duration::MAX, None),
    ];
    for (max_requests, window, burst) in cases {
        let config = RateLimiterConfig::DEFAULT
            .max_requests(max_requests)
            .window(window);
        let config = burst.map_or(config.clone(), |burst| config.burst(burst));
        let limiter = RateLimiter::new("rl::slow", config).unwrap();
        let admitted = (0..5000).filter(|_| limiter.try_acquire().is_ok()).count();
        assert_eq!(
            admitted,
            burst.unwrap_or(1) as usize,
            "{window:?} {burst:?}"
        );
        advance(Duration::from_secs(24 * 3600)).await;
        assert!(
            limiter.try_acquire().is_err(),
            "{window:?} {burst:?} a day later"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn reset_gives_back_the_full_quota_and_zero_counters() {
    for algorithm in [
        Algorithm::TokenBucket,
        Algorithm::SlidingWindow,
        Algorithm::FixedWindow,
    ] {
        let limiter = limiter("rl::reset", 3, Duration::from_secs(60), algorithm);
        advance(Duration::from_secs(30)).await;
        let admitted = (0..10).filter(|_| limiter.try_acquire().is_ok()).count();
        assert_eq!(admitted, 3, "{algorithm:?}");
        limiter.reset();
        let stats = limiter.stats();
        assert_eq!(
            (stats.admitted, stats.waited, stats.rejections),
            (0, 0, 0),
            "{algorithm:?}"
        );
        let admitted = (0..10).filter(|_| limiter.try_acquire().is_ok()).count();
        assert_eq!(admitted, 3, "{algorithm:?} after reset");
        // Nothing refills before a token's interval (20s) or the window's end.
        advance(Duration::from_secs(19)).await;
        assert!(
            limiter.try_acquire().is_err(),
            "{algorithm:?} refilled early"
        );
    }
}
