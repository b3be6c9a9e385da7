//! What each policy adds to a call, against a bare call and the crates that do the same job,
//! in one run. Every body is trivial and ready at once, awaited on a current-thread runtime,
//! so the numbers are the policies' own cost.
//!
//! ```text
//! cargo bench --manifest-path benches/Cargo.toml
//! python3 benches/report.py   # the README's table, from target/criterion
//! ```

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use resilience::config::Document;
use resilience::{
    bulkhead, circuit_breaker, hedge, rate_limit, registry, retry, timeout, Bulkhead,
    BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, Error, Hedge, HedgeConfig, KeyedConfig,
    KeyedRateLimiter, RateLimiter, RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};
use tokio::runtime::Runtime;
use tower::{Service, ServiceBuilder, ServiceExt};

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

async fn bare() -> Result<u64, Error> {
    Ok(black_box(1))
}

#[circuit_breaker(name = "bench::cb")]
async fn with_breaker() -> Result<u64, Error> {
    Ok(black_box(1))
}

/// Rate mode: a failure rate over the last 100 calls, no clock read.
#[circuit_breaker(name = "bench::cb_rate", failure_rate_threshold = 50)]
async fn with_rate_breaker() -> Result<u64, Error> {
    Ok(black_box(1))
}

/// Rate mode on a time window: one clock read per call, to find the outcome's bucket.
#[circuit_breaker(
    name = "bench::cb_rate_windowed",
    failure_rate_threshold = 50,
    sliding_window = "60s"
)]
async fn with_windowed_rate_breaker() -> Result<u64, Error> {
    Ok(black_box(1))
}

/// Rate mode on a time window with a slow-call rule: two clock reads per call.
#[circuit_breaker(
    name = "bench::cb_rate_timed",
    failure_rate_threshold = 50,
    slow_call_duration = "1s",
    sliding_window = "60s"
)]
async fn with_timed_rate_breaker() -> Result<u64, Error> {
    Ok(black_box(1))
}

fn rate_mode() -> CircuitBreakerConfig {
    CircuitBreakerConfig::DEFAULT.failure_rate_threshold(50)
}

#[retry(name = "bench::retry")]
async fn with_retry() -> Result<u64, Error> {
    Ok(black_box(1))
}

#[timeout("10s", name = "bench::timeout")]
async fn with_timeout() -> Result<u64, Error> {
    Ok(black_box(1))
}

#[hedge(name = "bench::hedge", delay = "10s")]
async fn with_hedge() -> Result<u64, Error> {
    Ok(black_box(1))
}

#[bulkhead(name = "bench::bulkhead", max_concurrent = 100)]
async fn with_bulkhead() -> Result<u64, Error> {
    Ok(black_box(1))
}

#[rate_limit(
    name = "bench::rate_limit",
    max_requests = 4_000_000_000,
    window = "1s"
)]
async fn with_rate_limit() -> Result<u64, Error> {
    Ok(black_box(1))
}

#[rate_limit(
    name = "bench::keyed_rl",
    max_requests = 4_000_000_000,
    window = "1s",
    key = user
)]
async fn with_keyed_rate_limit(user: u64) -> Result<u64, Error> {
    Ok(black_box(user))
}

/// The keys the keyed rows cycle through, every one already held: the cost of a call by a
/// known user, not of admitting a new one.
const KEYS: u64 = 1024;

#[circuit_breaker(name = "bench::stack")]
#[retry(name = "bench::stack")]
#[timeout("10s", name = "bench::stack")]
#[bulkhead(name = "bench::stack", max_concurrent = 100)]
#[rate_limit(name = "bench::stack", max_requests = 4_000_000_000, window = "1s")]
async fn with_all_five() -> Result<u64, Error> {
    Ok(black_box(1))
}

/// The stack again, under names of its own, for the reload row: each of its instances has
/// its config swapped while in use before it is measured.
#[circuit_breaker(name = "bench::reloaded")]
#[retry(name = "bench::reloaded")]
#[timeout("10s", name = "bench::reloaded")]
#[bulkhead(name = "bench::reloaded", max_concurrent = 100)]
#[rate_limit(name = "bench::reloaded", max_requests = 4_000_000_000, window = "1s")]
async fn with_all_five_reloaded() -> Result<u64, Error> {
    Ok(black_box(1))
}

type Svc = tower::util::ServiceFn<fn(u64) -> std::future::Ready<Result<u64, Error>>>;

fn service() -> Svc {
    tower::service_fn(|n| std::future::ready(Ok(black_box(n))))
}

/// One call through a tower service, as tower's users make it: clone (services are cheap
/// handles), wait until ready, call.
async fn tower_call<S: Service<u64>>(mut svc: S) -> Result<S::Response, S::Error> {
    svc.ready().await?.call(1).await
}

/// tower's retry policy for calls that succeed: never retries.
#[derive(Clone)]
struct NoRetryOnSuccess;

impl tower::retry::Policy<u64, u64, Error> for NoRetryOnSuccess {
    type Future = std::future::Ready<()>;
    fn retry(&mut self, _: &mut u64, result: &mut Result<u64, Error>) -> Option<Self::Future> {
        result.is_err().then(|| std::future::ready(()))
    }
    fn clone_request(&mut self, request: &u64) -> Option<u64> {
        Some(*request)
    }
}

fn circuit_breakers(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("circuit_breaker");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| {
        b.to_async(&rt).iter(with_breaker)
    });
    let ours = CircuitBreaker::new("bench::cb_by_hand", CircuitBreakerConfig::default()).unwrap();
    group.bench_function("resilience by hand", |b| {
        b.to_async(&rt).iter(|| ours.call(bare))
    });
    group.bench_function("resilience rate mode", |b| {
        b.to_async(&rt).iter(with_rate_breaker)
    });
    group.bench_function("resilience rate mode, time window", |b| {
        b.to_async(&rt).iter(with_windowed_rate_breaker)
    });
    group.bench_function("resilience rate mode, time window, slow-call rule", |b| {
        b.to_async(&rt).iter(with_timed_rate_breaker)
    });
    let rated = CircuitBreaker::new("bench::cb_rate_by_hand", rate_mode()).unwrap();
    group.bench_function("resilience rate mode by hand", |b| {
        b.to_async(&rt).iter(|| rated.call(bare))
    });
    let recloser = recloser::AsyncRecloser::from(recloser::Recloser::default());
    group.bench_function("recloser", |b| {
        b.to_async(&rt).iter(|| recloser.call(bare()))
    });
    let consecutive = failsafe::Config::new()
        .failure_policy(failsafe::failure_policy::consecutive_failures(
            5,
            failsafe::backoff::constant(Duration::from_secs(60)),
        ))
        .build();
    group.bench_function("failsafe consecutive", |b| {
        b.to_async(&rt)
            .iter(|| failsafe::futures::CircuitBreaker::call(&consecutive, bare()))
    });
    let default = failsafe::Config::new().build();
    group.bench_function("failsafe default", |b| {
        b.to_async(&rt)
            .iter(|| failsafe::futures::CircuitBreaker::call(&default, bare()))
    });
    let layer = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .unwrap();
    let svc = ServiceBuilder::new().layer(layer).service(service());
    group.bench_function("tower-resilience", |b| {
        b.to_async(&rt).iter(|| tower_call(svc.clone()))
    });
    group.finish();
}

fn rate_limiters(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("rate_limit");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| {
        b.to_async(&rt).iter(with_rate_limit)
    });
    let config = RateLimiterConfig::DEFAULT
        .max_requests(4_000_000_000)
        .window(Duration::from_secs(1));
    let ours = RateLimiter::new("bench::rl_by_hand", config).unwrap();
    group.bench_function("resilience try_acquire", |b| b.iter(|| ours.try_acquire()));
    let governor = governor::RateLimiter::direct(governor::Quota::per_second(NonZeroU32::MAX));
    group.bench_function("governor check", |b| b.iter(|| governor.check()));
    group.finish();
}

fn keyed_rate_limiters(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("keyed_rate_limit");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    let mut next = 0_u64;
    let mut key = move || {
        next = (next + 1) % KEYS;
        next
    };
    group.bench_function("resilience attribute", |b| {
        b.to_async(&rt).iter(|| with_keyed_rate_limit(key()))
    });
    let config = KeyedConfig::new(
        RateLimiterConfig::DEFAULT
            .max_requests(4_000_000_000)
            .window(Duration::from_secs(1)),
    );
    let ours = KeyedRateLimiter::new("bench::keyed_rl_by_hand", config).unwrap();
    group.bench_function("resilience try_acquire", |b| {
        b.iter(|| ours.try_acquire(&key()))
    });
    let governor = governor::RateLimiter::keyed(governor::Quota::per_second(NonZeroU32::MAX));
    group.bench_function("governor check_key", |b| {
        b.iter(|| governor.check_key(&key()))
    });
    group.finish();
}

fn bulkheads(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("bulkhead");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| {
        b.to_async(&rt).iter(with_bulkhead)
    });
    let ours = Bulkhead::new(
        "bench::bh_by_hand",
        BulkheadConfig::DEFAULT.max_concurrent(100),
    )
    .unwrap();
    group.bench_function("resilience by hand", |b| {
        b.to_async(&rt).iter(|| ours.call(bare))
    });
    let semaphore = tokio::sync::Semaphore::new(100);
    group.bench_function("tokio Semaphore try_acquire", |b| {
        b.iter(|| drop(black_box(semaphore.try_acquire())))
    });
    let svc = ServiceBuilder::new()
        .concurrency_limit(100)
        .service(service());
    group.bench_function("tower ConcurrencyLimit", |b| {
        b.to_async(&rt).iter(|| tower_call(svc.clone()))
    });
    group.finish();
}

fn timeouts(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("timeout");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| {
        b.to_async(&rt).iter(with_timeout)
    });
    let ours = Timeout::new(
        "bench::to_by_hand",
        TimeoutConfig::DEFAULT.duration(Duration::from_secs(10)),
    )
    .unwrap();
    group.bench_function("resilience by hand", |b| {
        b.to_async(&rt).iter(|| ours.call(bare))
    });
    group.bench_function("tokio::time::timeout", |b| {
        b.to_async(&rt)
            .iter(|| tokio::time::timeout(Duration::from_secs(10), bare()))
    });
    let svc = ServiceBuilder::new()
        .timeout(Duration::from_secs(10))
        .service(service());
    group.bench_function("tower Timeout", |b| {
        b.to_async(&rt).iter(|| tower_call(svc.clone()))
    });
    group.finish();
}

/// A hedged call whose first attempt answers at once: the target is to cost no more than
/// a timeout with a ready body (both poll the body before any timer exists).
fn hedges(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("hedge");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| b.to_async(&rt).iter(with_hedge));
    let ours = Hedge::new(
        "bench::hedge_by_hand",
        HedgeConfig::DEFAULT.delay(Duration::from_secs(10)),
    )
    .unwrap();
    group.bench_function("resilience by hand", |b| {
        b.to_async(&rt).iter(|| ours.call(bare))
    });
    group.bench_function("resilience timeout attribute", |b| {
        b.to_async(&rt).iter(with_timeout)
    });
    group.finish();
}

fn retries(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("retry");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| b.to_async(&rt).iter(with_retry));
    let ours = Retry::new("bench::re_by_hand", RetryConfig::default()).unwrap();
    group.bench_function("resilience by hand", |b| {
        b.to_async(&rt).iter(|| ours.call(bare))
    });
    let svc = ServiceBuilder::new()
        .retry(NoRetryOnSuccess)
        .service(service());
    group.bench_function("tower Retry", |b| {
        b.to_async(&rt).iter(|| tower_call(svc.clone()))
    });
    group.bench_function("backon", |b| {
        b.to_async(&rt)
            .iter(|| backon::Retryable::retry(bare, backon::ExponentialBuilder::default()))
    });
    group.finish();
}

fn full_stack(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("full_stack");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience all five attributes", |b| {
        b.to_async(&rt).iter(with_all_five)
    });
    group.finish();
}

/// One stack before and after a live reload of each of its five instances
/// (`registry().apply`): a config swapped in at run time is read as cheaply as the one an
/// instance started with, one load. The same fn on both sides, so the code measured is the
/// same and only the instances' configs moved. Compared across branches, the first row is
/// also the before/after of holding configs in swappable cells at all.
fn reloaded(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("reloaded");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience all five attributes, before a reload", |b| {
        b.to_async(&rt).iter(with_all_five_reloaded)
    });
    let document = Document::from_toml(
        r#"
        [circuit_breaker.instances."bench::reloaded"]
        failure_threshold = 6
        [retry.instances."bench::reloaded"]
        max_attempts = 4
        [timeout.instances."bench::reloaded"]
        duration = "20s"
        [bulkhead.instances."bench::reloaded"]
        max_concurrent = 200
        [rate_limit.instances."bench::reloaded"]
        window = "2s"
        "#,
    )
    .unwrap();
    let changed = registry().apply(&document).unwrap();
    assert_eq!(
        changed.len(),
        5,
        "every instance of the row reloaded: {changed:?}"
    );
    group.bench_function("resilience all five attributes, after a reload", |b| {
        b.to_async(&rt).iter(with_all_five_reloaded)
    });
    group.finish();
}

/// The breaker and the whole stack again, observed: an event subscriber on the registry, and
/// every metric scraped each 10 ms on another thread. Neither may cost a call that succeeds
/// anything: events are built only off the success path, metrics are read from the
/// instances' own counters when scraped.
fn observed(c: &mut Criterion) {
    let rt = runtime();
    let _events = resilience::registry().subscribe();
    let scraping = Arc::new(AtomicBool::new(true));
    let scraper = {
        let scraping = Arc::clone(&scraping);
        std::thread::spawn(move || {
            while scraping.load(Relaxed) {
                black_box(resilience::metrics::encode_text());
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let mut group = c.benchmark_group("observed");
    group.bench_function("bare call", |b| b.to_async(&rt).iter(bare));
    group.bench_function("resilience attribute", |b| {
        b.to_async(&rt).iter(with_breaker)
    });
    group.bench_function("resilience all five attributes", |b| {
        b.to_async(&rt).iter(with_all_five)
    });
    group.finish();
    scraping.store(false, Relaxed);
    scraper.join().unwrap();
}

/// Two threads calling one shared instance; the time is per call, per thread.
fn contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("contended_2_threads");
    let ours =
        Arc::new(CircuitBreaker::new("bench::contended", CircuitBreakerConfig::default()).unwrap());
    group.bench_function("resilience breaker", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &ours, |cb, iters| async move {
                for _ in 0..iters {
                    black_box(cb.call(bare).await.ok());
                }
            })
        })
    });
    let rated = Arc::new(CircuitBreaker::new("bench::contended_rate", rate_mode()).unwrap());
    group.bench_function("resilience rate mode breaker", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &rated, |cb, iters| async move {
                for _ in 0..iters {
                    black_box(cb.call(bare).await.ok());
                }
            })
        })
    });
    let recloser = Arc::new(recloser::AsyncRecloser::from(recloser::Recloser::default()));
    group.bench_function("recloser", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &recloser, |r, iters| async move {
                for _ in 0..iters {
                    black_box(r.call(bare()).await.ok());
                }
            })
        })
    });
    let failsafe = Arc::new(
        failsafe::Config::new()
            .failure_policy(failsafe::failure_policy::consecutive_failures(
                5,
                failsafe::backoff::constant(Duration::from_secs(60)),
            ))
            .build(),
    );
    group.bench_function("failsafe consecutive", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &failsafe, |f, iters| async move {
                for _ in 0..iters {
                    black_box(
                        failsafe::futures::CircuitBreaker::call(&*f, bare())
                            .await
                            .ok(),
                    );
                }
            })
        })
    });
    group.finish();
}

/// Runs `calls(shared, iters)` on each of two threads at once, each thread holding its own
/// `Arc` (so the harness shares no cache line); the mean wall time per call.
fn two_threads<S, F, Fut>(iters: u64, shared: &Arc<S>, calls: F) -> Duration
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, u64) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (shared, barrier) = (Arc::clone(shared), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let rt = runtime();
                barrier.wait();
                let start = Instant::now();
                rt.block_on(calls(shared, iters));
                start.elapsed()
            })
        })
        .collect();
    let total: Duration = threads.into_iter().map(|t| t.join().unwrap()).sum();
    total / 2
}

/// Calls through a service made by `make` once per sample, as a connection's task calls
/// its own service: wait until ready, call, again. One service throughout, not a clone per
/// call, so tower's `RateLimit` (not `Clone`) is measured the same way as the others.
fn bench_service<S, M>(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, name: &str, make: M)
where
    M: Fn() -> S,
    S: Service<u64>,
{
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let mut svc = make();
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    if let Ok(ready) = svc.ready().await {
                        black_box(ready.call(1).await.is_ok());
                    }
                }
                start.elapsed()
            }
        })
    });
}

/// The tower layers, each against tower's own layer for the job and tower-resilience's.
fn tower_layers(c: &mut Criterion) {
    use resilience::tower::{
        BulkheadLayer, CircuitBreakerLayer, RateLimitLayer, RetryLayer, TimeoutLayer,
    };
    let rt = runtime();
    let ten_seconds = Duration::from_secs(10);

    let mut group = c.benchmark_group("tower_circuit_breaker");
    bench_service(&mut group, &rt, "bare call", service);
    let ours = registry()
        .get_or_create("bench::tower_cb", CircuitBreakerConfig::default())
        .unwrap();
    bench_service(&mut group, &rt, "resilience CircuitBreakerLayer", || {
        ServiceBuilder::new()
            .layer(CircuitBreakerLayer::named(ours.name()).unwrap())
            .service(service())
    });
    bench_service(&mut group, &rt, "tower-resilience", || {
        let layer = tower_resilience::circuitbreaker::CircuitBreakerLayer::builder()
            .build()
            .unwrap();
        ServiceBuilder::new().layer(layer).service(service())
    });
    group.finish();

    let mut group = c.benchmark_group("tower_retry");
    bench_service(&mut group, &rt, "bare call", service);
    let ours = registry()
        .get_or_create("bench::tower_retry", RetryConfig::default())
        .unwrap();
    bench_service(&mut group, &rt, "resilience RetryLayer", || {
        ServiceBuilder::new()
            .layer(RetryLayer::named(ours.name()).unwrap())
            .service(service())
    });
    bench_service(&mut group, &rt, "tower Retry", || {
        ServiceBuilder::new()
            .retry(NoRetryOnSuccess)
            .service(service())
    });
    bench_service(&mut group, &rt, "tower-resilience", || {
        let layer = tower_resilience::retry::RetryLayer::<u64, u64, Error>::builder()
            .max_attempts(3)
            .build();
        ServiceBuilder::new().layer(layer).service(service())
    });
    group.finish();

    let mut group = c.benchmark_group("tower_timeout");
    bench_service(&mut group, &rt, "bare call", service);
    let config = TimeoutConfig::DEFAULT.duration(ten_seconds);
    let ours = registry()
        .get_or_create("bench::tower_timeout", config)
        .unwrap();
    bench_service(&mut group, &rt, "resilience TimeoutLayer", || {
        ServiceBuilder::new()
            .layer(TimeoutLayer::named(ours.name()).unwrap())
            .service(service())
    });
    bench_service(&mut group, &rt, "tower Timeout", || {
        ServiceBuilder::new()
            .timeout(ten_seconds)
            .service(service())
    });
    bench_service(&mut group, &rt, "tower-resilience", || {
        let layer = tower_resilience::timelimiter::TimeLimiterLayer::builder()
            .timeout_duration(ten_seconds)
            .build();
        ServiceBuilder::new().layer(layer).service(service())
    });
    group.finish();

    let mut group = c.benchmark_group("tower_bulkhead");
    bench_service(&mut group, &rt, "bare call", service);
    let config = BulkheadConfig::DEFAULT.max_concurrent(100);
    let ours = registry()
        .get_or_create("bench::tower_bulkhead", config)
        .unwrap();
    bench_service(&mut group, &rt, "resilience BulkheadLayer", || {
        ServiceBuilder::new()
            .layer(BulkheadLayer::named(ours.name()).unwrap())
            .service(service())
    });
    bench_service(&mut group, &rt, "tower ConcurrencyLimit", || {
        ServiceBuilder::new()
            .concurrency_limit(100)
            .service(service())
    });
    bench_service(&mut group, &rt, "tower-resilience", || {
        let layer = tower_resilience::bulkhead::BulkheadLayer::builder()
            .max_concurrent_calls(100)
            .build()
            .unwrap();
        ServiceBuilder::new().layer(layer).service(service())
    });
    group.finish();

    let mut group = c.benchmark_group("tower_rate_limit");
    bench_service(&mut group, &rt, "bare call", service);
    let config = RateLimiterConfig::DEFAULT
        .max_requests(4_000_000_000)
        .window(Duration::from_secs(1));
    let ours = registry()
        .get_or_create("bench::tower_rate_limit", config)
        .unwrap();
    bench_service(&mut group, &rt, "resilience RateLimitLayer", || {
        ServiceBuilder::new()
            .layer(RateLimitLayer::named(ours.name()).unwrap())
            .service(service())
    });
    bench_service(&mut group, &rt, "tower RateLimit", || {
        ServiceBuilder::new()
            .rate_limit(u64::MAX, Duration::from_secs(1))
            .service(service())
    });
    bench_service(&mut group, &rt, "tower-resilience", || {
        let layer = tower_resilience::ratelimiter::RateLimiterLayer::builder()
            .limit_for_period(4_000_000_000)
            .refresh_period(Duration::from_secs(1))
            .build()
            .unwrap();
        ServiceBuilder::new().layer(layer).service(service())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = circuit_breakers, rate_limiters, keyed_rate_limiters, bulkheads, timeouts, retries, hedges, full_stack, reloaded, contended, observed, tower_layers
}
criterion_main!(benches);
