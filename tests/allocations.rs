//! No admitted path allocates: once a call site has resolved its instance (its first call),
//! a guarded call through any policy, or all five, performs no allocation at all. Counted by
//! a global allocator, per thread, so nothing else in the process disturbs the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use resilience::{bulkhead, circuit_breaker, fallback, hedge, rate_limit, retry, timeout, Error};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator, which upholds the contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[circuit_breaker(name = "alloc::cb")]
async fn breaker() -> Result<u32, Error> {
    Ok(1)
}

#[retry(name = "alloc::retry")]
async fn retried() -> Result<u32, Error> {
    Ok(1)
}

#[timeout("1s", name = "alloc::timeout")]
async fn timed() -> Result<u32, Error> {
    Ok(1)
}

#[bulkhead(name = "alloc::bulkhead")]
async fn bounded() -> Result<u32, Error> {
    Ok(1)
}

#[rate_limit(name = "alloc::rate_limit", max_requests = 1_000_000, window = "1s")]
async fn limited() -> Result<u32, Error> {
    Ok(1)
}

#[rate_limit(
    name = "alloc::sliding",
    max_requests = 10,
    window = "1ms",
    algorithm = "sliding_window"
)]
async fn sliding() -> Result<u32, Error> {
    Ok(1)
}

#[fallback(never_needed, name = "alloc::fallback")]
async fn with_fallback(id: u32, text: String) -> Result<usize, Error> {
    Ok(text.len() + id as usize)
}

async fn never_needed(_: u32, _: &String, error: Error) -> Result<usize, Error> {
    Err(error)
}

#[hedge(name = "alloc::hedge", delay = "10ms", max_attempts = 3)]
async fn hedged(text: String) -> Result<usize, Error> {
    Ok(text.len())
}

#[circuit_breaker(name = "alloc::five")]
#[retry(name = "alloc::five")]
#[timeout("1s", name = "alloc::five")]
#[bulkhead(name = "alloc::five")]
#[rate_limit(name = "alloc::five", max_requests = 1_000_000, window = "1s")]
async fn all_five(n: u32, text: String) -> Result<usize, Error> {
    Ok(text.len() + n as usize)
}

/// A thousand calls that succeed through each of the five policies, one after another.
async fn each_policy_a_thousand_times() {
    for _ in 0..1000 {
        breaker().await.unwrap();
        retried().await.unwrap();
        timed().await.unwrap();
        bounded().await.unwrap();
        limited().await.unwrap();
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn admitted_calls_do_not_allocate() {
    // First calls: each call site resolves its instance by name, which allocates once.
    let start = allocations();
    breaker().await.unwrap();
    retried().await.unwrap();
    timed().await.unwrap();
    bounded().await.unwrap();
    limited().await.unwrap();
    let text = String::from("abc");
    all_five(1, text.clone()).await.unwrap();
    with_fallback(1, text.clone()).await.unwrap();
    hedged(text.clone()).await.unwrap();
    for _ in 0..20 {
        sliding().await.unwrap();
        tokio::time::advance(std::time::Duration::from_millis(1)).await;
    }
    assert!(
        allocations() > start,
        "the counter sees the instances being created"
    );

    let before = allocations();
    each_policy_a_thousand_times().await;
    assert_eq!(allocations() - before, 0, "one policy at a time");

    let before = allocations();
    for _ in 0..1000 {
        sliding().await.unwrap();
        tokio::time::advance(std::time::Duration::from_millis(1)).await;
    }
    assert_eq!(
        allocations() - before,
        0,
        "the sliding log at its full size"
    );

    let moved: Vec<String> = (0..1000).map(|_| text.clone()).collect();
    let before = allocations();
    for text in moved {
        all_five(2, text).await.unwrap();
    }
    // The loop frees the moved strings but allocates nothing.
    assert_eq!(allocations() - before, 0, "all five stacked");

    // Subscribers of every instance and of one: calls that succeed still allocate nothing.
    let _everything = resilience::registry().subscribe();
    let _breaker = resilience::registry()
        .circuit_breaker("alloc::cb")
        .unwrap()
        .subscribe();
    let before = allocations();
    each_policy_a_thousand_times().await;
    assert_eq!(allocations() - before, 0, "with event subscribers");
    let moved: Vec<String> = (0..2000).map(|_| text.clone()).collect();
    let mut moved = moved.into_iter();
    let before = allocations();
    for _ in 0..1000 {
        with_fallback(3, moved.next().unwrap()).await.unwrap();
        hedged(moved.next().unwrap()).await.unwrap();
    }
    assert_eq!(
        allocations() - before,
        0,
        "a fallback whose primary succeeds, a hedge whose first attempt answers at once"
    );

    // Every instance reloaded with a new config while in use (the reload allocates): the
    // calls after it read the new one and still allocate nothing.
    let document = resilience::config::Document::from_toml(
        r#"
        [circuit_breaker.instances."alloc::cb"]
        failure_threshold = 9
        [retry.instances."alloc::retry"]
        max_attempts = 5
        [timeout.instances."alloc::timeout"]
        duration = "2s"
        [bulkhead.instances."alloc::bulkhead"]
        max_concurrent = 20
        [rate_limit.instances."alloc::rate_limit"]
        max_requests = 2000000
        "#,
    )
    .unwrap();
    resilience::registry().apply(&document).unwrap();
    let before = allocations();
    each_policy_a_thousand_times().await;
    assert_eq!(allocations() - before, 0, "after a reload");
}

/// The tower layers, all five stacked over a service that answers at once: no call
/// allocates, as none of their response futures is boxed (a retry's or a timeout's timer
/// is boxed only when it is needed).
#[cfg(feature = "tower")]
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn tower_layers_do_not_allocate_per_call() {
    use std::sync::Arc;

    use resilience::tower::{
        BulkheadLayer, CircuitBreakerLayer, RateLimitLayer, RetryLayer, TimeoutLayer,
    };
    use resilience::{
        Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, RateLimiter,
        RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
    };
    use tower::{service_fn, Service, ServiceBuilder, ServiceExt};

    let name = "alloc::tower";
    let limit = RateLimiterConfig::DEFAULT
        .max_requests(1_000_000)
        .window(std::time::Duration::from_secs(1));
    let mut service = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(Arc::new(
            CircuitBreaker::new(name, CircuitBreakerConfig::DEFAULT).unwrap(),
        )))
        .layer(RetryLayer::new(Arc::new(
            Retry::new(name, RetryConfig::DEFAULT).unwrap(),
        )))
        .layer(TimeoutLayer::new(Arc::new(
            Timeout::new(name, TimeoutConfig::DEFAULT).unwrap(),
        )))
        .layer(BulkheadLayer::new(Arc::new(
            Bulkhead::new(name, BulkheadConfig::DEFAULT).unwrap(),
        )))
        .layer(RateLimitLayer::new(Arc::new(
            RateLimiter::new(name, limit).unwrap(),
        )))
        .service(service_fn(|n: u32| std::future::ready(Ok::<_, Error>(n))));
    service.ready().await.unwrap().call(0).await.unwrap();

    let before = allocations();
    for n in 0..1000 {
        assert_eq!(service.ready().await.unwrap().call(n).await.unwrap(), n);
    }
    assert_eq!(allocations() - before, 0, "all five tower layers stacked");
}
