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
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use resilience::{
    bulkhead, circuit_breaker, hedge, rate_limit, retry, timeout, Bulkhead, BulkheadConfig,
    CircuitBreaker, CircuitBreakerConfig, Error, Hedge, HedgeConfig, RateLimiter,
    RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
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

#[circuit_breaker(name = "bench::stack")]
#[retry(name = "bench::stack")]
#[timeout("10s", name = "bench::stack")]
#[bulkhead(name = "bench::stack", max_concurrent = 100)]
#[rate_limit(name = "bench::stack", max_requests = 4_000_000_000, window = "1s")]
async fn with_all_five() -> Result<u64, Error> {
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

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = circuit_breakers, rate_limiters, bulkheads, timeouts, retries, hedges, full_stack, contended
}
criterion_main!(benches);
