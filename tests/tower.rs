//! The tower layers (feature `tower`): each layer's behaviour against tower-test's mock
//! service, the permit rules under a multi-threaded runtime with cancellation, and an
//! axum gateway over real HTTP on loopback sharing instances with attributes.

#![cfg(feature = "tower")]

#[path = "../examples/tower/gateway.rs"]
mod gateway;

use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use resilience::events::Detail;
use resilience::tower::{
    BoxError, BulkheadLayer, CircuitBreakerLayer, RateLimitLayer, RetryLayer, TimeoutLayer,
};
use resilience::{
    circuit_breaker, registry, Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig,
    CircuitState, ConfigError, Error, Jitter, Kind, RateLimiter, RateLimiterConfig, Retry,
    RetryConfig, Timeout, TimeoutConfig,
};
use tokio::time::{advance, Instant};
use tower::{service_fn, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::mock::{self, Spawn};

/// The rejection a layer answered with.
fn rejection(error: &BoxError) -> &Error {
    error
        .downcast_ref::<Error>()
        .unwrap_or_else(|| panic!("not a rejection: {error}"))
}

fn breaker(failure_threshold: u32) -> Arc<CircuitBreaker> {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(failure_threshold)
        .success_threshold(1)
        .recovery_timeout(Duration::from_secs(10));
    Arc::new(CircuitBreaker::new("breaker", config).unwrap())
}

fn retry(max_attempts: u32) -> Arc<Retry> {
    let config = RetryConfig::DEFAULT
        .max_attempts(max_attempts)
        .base_delay(Duration::from_millis(100))
        .jitter(Jitter::None);
    Arc::new(Retry::new("retry", config).unwrap())
}

fn timeout(secs: u64) -> Arc<Timeout> {
    let config = TimeoutConfig::DEFAULT.duration(Duration::from_secs(secs));
    Arc::new(Timeout::new("timeout", config).unwrap())
}

/// The next request the mock received; fails instead of hanging when none comes (on the
/// paused clock, the wait is over at once once every task is idle).
async fn next_request<T, U>(handle: &mut mock::Handle<T, U>) -> (T, mock::SendResponse<U>) {
    tokio::time::timeout(Duration::from_secs(60), handle.next_request())
        .await
        .expect("a request reaches the inner service")
        .expect("the service is alive")
}

/// An error of the inner service's own type, to be found again behind the layers.
#[derive(Debug, PartialEq)]
struct Declined(u32);

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "declined {}", self.0)
    }
}

impl std::error::Error for Declined {}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_rejects_without_calling_the_inner_service() {
    let breaker = breaker(1);
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(CircuitBreakerLayer::new(Arc::clone(&breaker)));

    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let call = service.call("a");
    let (_, respond) = next_request(&mut handle).await;
    respond.send_error(Declined(1));
    let error = call.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Declined>(), Some(&Declined(1)));
    assert!(breaker.is_open(), "the inner error counted as a failure");

    // Open: ready at once, without asking the inner service, and the call never reaches it.
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let error = service.call("b").await.unwrap_err();
    assert!(
        matches!(rejection(&error), Error::CircuitOpen { retry_after, .. } if *retry_after == Duration::from_secs(10)),
        "{error}"
    );
    assert!(
        handle.poll_request().is_pending(),
        "the inner service was not called"
    );
    assert_eq!(breaker.stats().rejections, 1);

    // Readiness is asked again before each call, so a service refused while the breaker
    // was open is not pinned to that: once the recovery timeout is over, its call is the
    // probe.
    advance(Duration::from_secs(10)).await;
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let call = service.call("c");
    let (request, respond) = next_request(&mut handle).await;
    assert_eq!(request, "c");
    respond.send_response("ok");
    assert_eq!(call.await.unwrap(), "ok");
    assert!(breaker.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_breaker_decides_at_the_call_not_at_readiness() {
    let breaker = breaker(1);
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(CircuitBreakerLayer::new(Arc::clone(&breaker)));
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    breaker.force_open();
    let error = service.call("a").await.unwrap_err();
    assert!(matches!(rejection(&error), Error::CircuitOpen { .. }));
    assert!(handle.poll_request().is_pending());
    // A response future dropped before its end counts as abandoned, not as a failure.
    breaker.reset();
    let call = service.call("b");
    let _request = next_request(&mut handle).await;
    drop(call);
    let stats = breaker.stats();
    assert_eq!((stats.failures, stats.abandoned), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_breaker_reads_inner_rejections_as_the_attributes_do() {
    // An inner timeout is a failure: it opens the breaker.
    let opened = breaker(1);
    let mut slow = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(Arc::clone(&opened)))
        .layer(TimeoutLayer::new(timeout(1)))
        .service(service_fn(|()| pending::<Result<(), BoxError>>()));
    let error = slow.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(matches!(rejection(&error), Error::Timeout { .. }));
    assert!(opened.is_open());

    // An inner rate limit is neither: the breaker stays closed however many there are.
    let closed = breaker(1);
    let limiter = RateLimiter::new("quota", RateLimiterConfig::DEFAULT.max_requests(1)).unwrap();
    let mut limited = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(Arc::clone(&closed)))
        .layer(RateLimitLayer::new(limiter.into()))
        .service(service_fn(|()| async { Ok::<_, BoxError>(()) }));
    for _ in 0..3 {
        let _ = limited.ready().await.unwrap().call(()).await;
    }
    assert!(closed.is_closed());
    assert_eq!((closed.stats().failures, closed.stats().abandoned), (0, 2));
}

#[tokio::test(start_paused = true)]
async fn the_inner_error_passes_every_layer_unchanged() {
    let bulkhead = Bulkhead::new("pool", BulkheadConfig::DEFAULT).unwrap();
    let limiter = RateLimiter::new("quota", RateLimiterConfig::DEFAULT).unwrap();
    let mut service = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker(5)))
        .layer(RetryLayer::new(retry(2)))
        .layer(TimeoutLayer::new(timeout(1)))
        .layer(BulkheadLayer::new(bulkhead.into()))
        .layer(RateLimitLayer::new(limiter.into()))
        .service(service_fn(
            |n: u32| async move { Err::<(), _>(Declined(n)) },
        ));
    let error = service.ready().await.unwrap().call(7).await.unwrap_err();
    assert_eq!(error.downcast_ref::<Declined>(), Some(&Declined(7)));
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_reserves_in_poll_ready_and_a_dropped_or_cloned_service_gives_it_back() {
    let config = BulkheadConfig::DEFAULT
        .max_concurrent(1)
        .max_wait(Duration::from_secs(1));
    let bulkhead = Arc::new(Bulkhead::new("pool", config).unwrap());
    let (mut first, mut handle) =
        mock::spawn_layer::<&str, &str, _>(BulkheadLayer::new(Arc::clone(&bulkhead)));

    assert!(matches!(first.poll_ready(), Poll::Ready(Ok(()))));
    assert_eq!(bulkhead.available(), 0, "reserved by readiness alone");
    let mut second = Spawn::new(first.get_ref().clone());
    assert_eq!(
        bulkhead.available(),
        0,
        "a clone starts without a reservation"
    );
    assert!(second.poll_ready().is_pending(), "and queues for one");
    assert_eq!(bulkhead.queued(), 1);

    drop(first);
    assert!(
        matches!(second.poll_ready(), Poll::Ready(Ok(()))),
        "the dropped reservation passed on"
    );
    assert_eq!((bulkhead.available(), bulkhead.queued()), (0, 0));

    // Queued past `max_wait`: ready, and the call is rejected without reaching the inner
    // service, which the reservation still held keeps busy.
    let mut third = Spawn::new(second.get_ref().clone());
    assert!(third.poll_ready().is_pending());
    advance(Duration::from_secs(1)).await;
    assert!(matches!(third.poll_ready(), Poll::Ready(Ok(()))));
    let error = third.call("rejected").await.unwrap_err();
    assert!(matches!(
        rejection(&error),
        Error::BulkheadFull {
            max_concurrent: 1,
            ..
        }
    ));

    let call = second.call("admitted");
    let (request, respond) = next_request(&mut handle).await;
    assert_eq!(request, "admitted");
    assert_eq!(bulkhead.active(), 1, "held while the call runs");
    respond.send_response("done");
    assert_eq!(call.await.unwrap(), "done");
    assert_eq!(bulkhead.available(), 1, "given back as the call ends");
    assert!(
        handle.poll_request().is_pending(),
        "the rejected call was never made"
    );
}

/// Counts the calls inside the inner service, and the most at once.
#[derive(Default)]
struct Load {
    running: AtomicUsize,
    most: AtomicUsize,
    calls: AtomicUsize,
}

struct Running(Arc<Load>);

impl Running {
    fn start(load: &Arc<Load>) -> Self {
        let now = load.running.fetch_add(1, SeqCst) + 1;
        load.most.fetch_max(now, SeqCst);
        load.calls.fetch_add(1, SeqCst);
        Running(Arc::clone(load))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulkhead_layer_never_runs_more_than_its_limit_under_cancellation() {
    const LIMIT: usize = 3;
    let bulkhead =
        Arc::new(Bulkhead::new("pool", BulkheadConfig::DEFAULT.max_concurrent(LIMIT)).unwrap());
    let load = Arc::new(Load::default());
    let inner_load = Arc::clone(&load);
    let service = ServiceBuilder::new()
        .layer(BulkheadLayer::new(Arc::clone(&bulkhead)))
        .service(service_fn(move |n: u64| {
            let running = Running::start(&inner_load);
            async move {
                let _running = running;
                tokio::time::sleep(Duration::from_micros(50 * (n % 7))).await;
                Ok::<_, BoxError>(n)
            }
        }));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..48u64)
        .map(|task| {
            let service = service.clone();
            let cancelled = Arc::clone(&cancelled);
            tokio::spawn(async move {
                for i in 0..20u64 {
                    let mut service = service.clone();
                    let n = task * 20 + i;
                    match n % 4 {
                        // Readiness cancelled after one poll: queued or reserved, then dropped.
                        0 => {
                            if tokio::time::timeout(Duration::ZERO, service.ready())
                                .await
                                .is_err()
                            {
                                cancelled.fetch_add(1, SeqCst);
                            }
                        }
                        // Reserved, then the service dropped without a call.
                        1 => drop(service.ready().await.unwrap()),
                        // A call cancelled while it runs.
                        2 => {
                            let call = service.ready().await.unwrap().call(n);
                            if tokio::time::timeout(Duration::from_micros(100), call)
                                .await
                                .is_err()
                            {
                                cancelled.fetch_add(1, SeqCst);
                            }
                        }
                        _ => assert_eq!(service.ready().await.unwrap().call(n).await.unwrap(), n),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        load.most.load(SeqCst) <= LIMIT,
        "over the limit: {}",
        load.most.load(SeqCst)
    );
    assert_eq!(
        load.most.load(SeqCst),
        LIMIT,
        "the limit was reached: contention happened"
    );
    assert!(cancelled.load(SeqCst) > 0, "cancellations happened");
    assert_eq!(bulkhead.available(), LIMIT, "every slot came back");
    assert_eq!(bulkhead.queued(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_layer_admits_its_quota_and_readiness_spends_nothing() {
    let config = RateLimiterConfig::DEFAULT
        .max_requests(2)
        .window(Duration::from_secs(1));
    let limiter = Arc::new(RateLimiter::new("quota", config).unwrap());
    let (mut service, mut handle) =
        mock::spawn_layer::<u32, u32, _>(RateLimitLayer::new(Arc::clone(&limiter)));

    for _ in 0..10 {
        let mut ready = Spawn::new(service.get_ref().clone());
        assert!(matches!(ready.poll_ready(), Poll::Ready(Ok(()))));
    }
    assert_eq!(
        limiter.stats().admitted,
        0,
        "services made ready and dropped spent nothing"
    );

    for n in 0..2 {
        assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
        let call = service.call(n);
        let (request, respond) = next_request(&mut handle).await;
        respond.send_response(request);
        assert_eq!(call.await.unwrap(), n);
    }
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let error = service.call(2).await.unwrap_err();
    assert_eq!(
        rejection(&error),
        &Error::RateLimited {
            name: "quota".into(),
            retry_after: Duration::from_millis(500)
        }
    );
    assert!(
        handle.poll_request().is_pending(),
        "over quota, the inner service was not called"
    );

    advance(Duration::from_millis(500)).await;
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let call = service.call(3);
    let (request, respond) = next_request(&mut handle).await;
    respond.send_response(request);
    assert_eq!(
        call.await.unwrap(),
        3,
        "the readied service is still ready; a permit came back"
    );
    assert_eq!(limiter.stats().admitted, 3);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_layer_waits_up_to_max_wait_before_calling() {
    let config = RateLimiterConfig::DEFAULT
        .max_requests(1)
        .window(Duration::from_secs(1))
        .max_wait(Duration::from_secs(2));
    let limiter = Arc::new(RateLimiter::new("quota", config).unwrap());
    let (mut service, mut handle) =
        mock::spawn_layer::<u32, u32, _>(RateLimitLayer::new(Arc::clone(&limiter)));
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let first = service.call(1);
    let (_, respond) = next_request(&mut handle).await;
    respond.send_response(1);
    first.await.unwrap();

    let start = Instant::now();
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let waiting = tokio::spawn(service.call(2));
    advance(Duration::from_millis(999)).await;
    assert!(
        handle.poll_request().is_pending(),
        "not before the next permit"
    );
    let (request, respond) = next_request(&mut handle).await;
    assert_eq!((request, start.elapsed()), (2, Duration::from_secs(1)));
    respond.send_response(2);
    assert_eq!(waiting.await.unwrap().unwrap(), 2);
    assert_eq!(limiter.stats().waited, 1);
}

/// Sets its flag when dropped: shows that a future holding it was dropped.
struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_layer_drops_the_inner_future_when_time_runs_out() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&dropped);
    let mut service = ServiceBuilder::new()
        .layer(TimeoutLayer::new(timeout(2)))
        .service(service_fn(move |()| {
            let guard = DropGuard(Arc::clone(&flag));
            async move {
                let _guard = guard;
                pending::<Result<(), BoxError>>().await
            }
        }));
    let start = Instant::now();
    let call = tokio::spawn(service.ready().await.unwrap().call(()));
    tokio::task::yield_now().await; // its first poll starts the clock
    advance(Duration::from_millis(1999)).await;
    assert!(!dropped.load(SeqCst), "still running before the deadline");
    let error = call.await.unwrap().unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(
        rejection(&error),
        &Error::Timeout {
            name: "timeout".into(),
            after: Duration::from_secs(2)
        }
    );
    assert!(dropped.load(SeqCst), "the inner future was dropped");
}

#[tokio::test(start_paused = true)]
async fn a_retry_layer_sends_a_clone_of_the_request_to_each_attempt() {
    let retry = retry(3);
    let (mut service, mut handle) =
        mock::spawn_layer::<String, &str, _>(RetryLayer::new(Arc::clone(&retry)));
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let start = Instant::now();
    let call = tokio::spawn(service.call("order-1".to_string()));
    let mut seen = Vec::new();
    for attempt in 0..3 {
        let (request, respond) = next_request(&mut handle).await;
        seen.push((request, start.elapsed()));
        if attempt < 2 {
            respond.send_error("busy");
        } else {
            respond.send_response("charged");
        }
    }
    assert_eq!(call.await.unwrap().unwrap(), "charged");
    let at = |ms| Duration::from_millis(ms);
    assert_eq!(
        seen,
        [
            ("order-1".to_string(), at(0)),
            ("order-1".to_string(), at(100)),
            ("order-1".to_string(), at(300)),
        ],
        "the same request each time, after the backoff's delays"
    );
    assert_eq!(retry.stats().retries, 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_above_a_breaker_does_not_retry_circuit_open_but_retries_a_timeout() {
    let calls = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&calls);
    let open = breaker(1);
    open.force_open();
    let outer = retry(3);
    let mut service = ServiceBuilder::new()
        .layer(RetryLayer::new(Arc::clone(&outer)))
        .layer(CircuitBreakerLayer::new(open))
        .service(service_fn(move |()| {
            counted.fetch_add(1, SeqCst);
            async { Ok::<_, BoxError>(()) }
        }));
    let error = service.ready().await.unwrap().call(()).await.unwrap_err();
    assert!(matches!(rejection(&error), Error::CircuitOpen { .. }));
    assert_eq!(calls.load(SeqCst), 0);
    let stats = outer.stats();
    assert_eq!((stats.retries, stats.failed_without_retry), (0, 1));

    // The first attempt hangs past the timeout, the second answers.
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&attempts);
    let mut service = ServiceBuilder::new()
        .layer(RetryLayer::new(retry(3)))
        .layer(TimeoutLayer::new(timeout(1)))
        .service(service_fn(move |()| {
            let first = counted.fetch_add(1, SeqCst) == 0;
            async move {
                if first {
                    pending::<()>().await;
                }
                Ok::<_, BoxError>("answered")
            }
        }));
    assert_eq!(
        service.ready().await.unwrap().call(()).await.unwrap(),
        "answered"
    );
    assert_eq!(attempts.load(SeqCst), 2);
}

#[circuit_breaker(name = "tower::shared", failure_threshold = 2)]
async fn guarded() -> Result<(), Error> {
    Ok(())
}

#[tokio::test]
async fn a_named_layer_uses_the_attribute_s_instance() {
    let layer = CircuitBreakerLayer::named("tower::shared").unwrap();
    let attribute = registry().circuit_breaker("tower::shared").unwrap();
    assert!(Arc::ptr_eq(layer.breaker(), &attribute));
    assert_eq!(
        attribute.config().failure_threshold,
        2,
        "the attribute's config"
    );
    let mut service = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(|()| async { Ok::<_, BoxError>(()) }));
    service.ready().await.unwrap().call(()).await.unwrap();
    guarded().await.unwrap();
    assert_eq!(attribute.stats().successes, 2, "both count in one instance");
}

#[test]
fn a_name_nothing_declares_is_an_error_that_suggests_the_nearest() {
    let error = CircuitBreakerLayer::named("tower::shraed").err().unwrap();
    assert!(
        matches!(&error, ConfigError::Undeclared { kind: Kind::CircuitBreaker, did_you_mean: Some(near), .. } if &**near == "tower::shared"),
        "{error}"
    );
    assert!(
        RetryLayer::named("tower::shared").is_err(),
        "kinds have their own names"
    );
    assert!(
        registry().retry("tower::shared").is_none(),
        "and looking created nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_gateway_shares_instances_with_attributes_and_answers_503_and_429() {
    let story = gateway::run().await.unwrap();
    let answers: Vec<(&str, u16)> = story
        .answers
        .iter()
        .map(|(what, a)| (*what, a.status))
        .collect();
    assert_eq!(
        answers,
        [
            ("payment", 200),
            ("payment during the outage", 503),
            ("search", 200),
            ("search", 200),
            ("search over quota", 429),
        ]
    );
    // The settlement job's failures opened the breaker the route uses: 503 until the
    // recovery timeout (30s) is over, in whole seconds (real time: a slow machine may have
    // spent some of it before the request).
    let seconds = |answer: &gateway::Answer| -> u64 {
        answer
            .retry_after
            .as_deref()
            .expect("a Retry-After")
            .parse()
            .unwrap()
    };
    assert!(
        (25..=30).contains(&seconds(&story.answers[1].1)),
        "{:?}",
        story.answers[1]
    );
    // The limiter refills one of its 3 permits per minute every 20s.
    assert!(
        (15..=20).contains(&seconds(&story.answers[4].1)),
        "{:?}",
        story.answers[4]
    );
    assert_eq!(story.answers[0].1.retry_after, None);

    // One instance each, counting the route's calls and the attributes' together.
    let breakers: Vec<_> = story
        .snapshot
        .instances
        .iter()
        .filter(|i| i.name.starts_with("gateway::"))
        .map(|i| (i.kind, &*i.name))
        .collect();
    assert_eq!(
        breakers,
        [
            (Kind::CircuitBreaker, gateway::PAYMENTS),
            (Kind::RateLimiter, gateway::SEARCH)
        ]
    );
    let payments = registry()
        .circuit_breaker(gateway::PAYMENTS)
        .unwrap()
        .stats();
    assert_eq!(
        (payments.successes, payments.failures, payments.rejections),
        (1, 3, 1),
        "the route's payment, the job's three failures, the route's rejected payment"
    );
    let search = registry().rate_limiter(gateway::SEARCH).unwrap().stats();
    assert_eq!(
        (search.admitted, search.rejections),
        (3, 1),
        "the indexer's and the route's"
    );
}

#[test]
fn every_service_is_clone_send_and_sync_when_its_inner_one_is() {
    // What axum's `Router::layer` asks of a layer's service; checked at compile time.
    fn shareable<S: Clone + Send + Sync + 'static>(_: &S) {}
    type Inner = tower::util::ServiceFn<fn(u8) -> std::future::Ready<Result<u8, BoxError>>>;
    let inner: Inner = service_fn(|n| std::future::ready(Ok(n)));
    let bulkhead = Bulkhead::new("pool", BulkheadConfig::DEFAULT).unwrap();
    let limiter = RateLimiter::new("quota", RateLimiterConfig::DEFAULT).unwrap();
    let every = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(breaker(1)))
        .layer(RetryLayer::new(retry(1)))
        .layer(TimeoutLayer::new(timeout(1)))
        .layer(BulkheadLayer::new(bulkhead.into()))
        .layer(RateLimitLayer::new(limiter.into()))
        .service(inner);
    shareable(&every);
}

#[tokio::test(start_paused = true)]
async fn a_retry_reads_a_clone_s_failed_readiness_as_the_attempt_s_error_and_uses_a_new_clone() {
    let retry = retry(3);
    let (mut service, mut handle) =
        mock::spawn_layer::<u32, u32, _>(RetryLayer::new(Arc::clone(&retry)));
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let call = tokio::spawn(service.call(7));
    let (_, respond) = next_request(&mut handle).await;
    respond.send_error("busy");
    // The next clone's readiness fails once.
    handle.send_error(Declined(2));
    let (request, respond) = next_request(&mut handle).await;
    respond.send_response(request);
    assert_eq!(call.await.unwrap().unwrap(), 7);
    let stats = retry.stats();
    assert_eq!(
        (stats.retries, stats.succeeded_after_retry),
        (2, 1),
        "three attempts, two calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_open_breaker_layer_lets_its_probes_through_and_cancelled_ones_give_back_their_slots(
) {
    const PROBES: usize = 2;
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .success_threshold(PROBES as u32)
        .half_open_max_calls(PROBES as u32)
        .recovery_timeout(Duration::from_millis(5));
    let breaker = Arc::new(CircuitBreaker::new("flood", config).unwrap());
    breaker.record_failure();
    // Real time on two workers; bounded, so a breaker that never recovers fails the test.
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    let wait_until = |done: &dyn Fn() -> bool, what: &str| {
        assert!(std::time::Instant::now() < give_up, "{what}");
        done()
    };
    while !wait_until(&|| breaker.is_half_open(), "never half-open") {
        tokio::task::yield_now().await;
    }
    // Probes wait at the gate until the test opens it.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let load = Arc::new(Load::default());
    let (inner_gate, inner_load) = (Arc::clone(&gate), Arc::clone(&load));
    let service = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(Arc::clone(&breaker)))
        .service(service_fn(move |()| {
            let (gate, running) = (Arc::clone(&inner_gate), Running::start(&inner_load));
            async move {
                let _running = running;
                drop(gate.acquire().await);
                Ok::<_, Declined>(())
            }
        }));
    let flood: Vec<_> = (0..100)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move { service.oneshot(()).await })
        })
        .collect();
    while !wait_until(
        &|| load.running.load(SeqCst) == PROBES,
        "the probes never started",
    ) {
        tokio::task::yield_now().await;
    }
    let finished = || flood.iter().filter(|call| call.is_finished()).count();
    while !wait_until(
        &|| finished() == flood.len() - PROBES,
        "the others were not rejected",
    ) {
        tokio::task::yield_now().await;
    }
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        finished(),
        flood.len() - PROBES,
        "everyone but the probes was rejected"
    );
    assert_eq!(
        load.most.load(SeqCst),
        PROBES,
        "never more probes at once than allowed"
    );

    // Cancel the probes: their slots come back, counted as abandoned, and the next calls
    // are probes again.
    for call in flood {
        call.abort();
    }
    while !wait_until(
        &|| load.running.load(SeqCst) == 0,
        "the probes were never dropped",
    ) {
        tokio::task::yield_now().await;
    }
    assert_eq!(breaker.stats().abandoned, PROBES as u64);
    gate.add_permits(PROBES);
    for _ in 0..PROBES {
        service.clone().oneshot(()).await.unwrap();
    }
    assert!(breaker.is_closed(), "the new probes closed it");
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_call_made_without_poll_ready_still_keeps_the_limit() {
    let bulkhead =
        Arc::new(Bulkhead::new("pool", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap());
    let mut service = ServiceBuilder::new()
        .layer(BulkheadLayer::new(Arc::clone(&bulkhead)))
        .service(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }));
    // Against tower's contract, but it must not over-admit (nor panic): a free slot is
    // taken at the call, and with none free the call is rejected.
    let admitted = service.call(1);
    assert_eq!(bulkhead.active(), 1);
    let error = service.call(2).await.unwrap_err();
    assert!(matches!(rejection(&error), Error::BulkheadFull { .. }));
    assert_eq!(admitted.await.unwrap(), 1);
    assert_eq!(bulkhead.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_does_not_ask_the_bulkhead_below_it_for_readiness() {
    let breaker = breaker(1);
    let config = BulkheadConfig::DEFAULT
        .max_concurrent(1)
        .max_wait(Duration::from_secs(5));
    let bulkhead = Arc::new(Bulkhead::new("below", config).unwrap());
    let layers = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(Arc::clone(&breaker)))
        .layer(BulkheadLayer::new(Arc::clone(&bulkhead)))
        .into_inner();
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(layers);
    // The mock is not ready: a readiness that reached it would be pending.
    handle.allow(0);
    breaker.record_failure();
    assert!(breaker.is_open());

    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    assert_eq!(bulkhead.available(), 1, "no slot reserved below");
    let error = service.call("shed").await.unwrap_err();
    assert!(
        matches!(
            rejection(&error),
            Error::CircuitOpen { state: CircuitState::Open, retry_after, .. }
                if *retry_after == Duration::from_secs(10)
        ),
        "{error}"
    );
    assert_eq!(breaker.stats().rejections, 1);

    // With the bulkhead's only slot taken elsewhere, the call is still shed at once: not
    // queued below for up to `max_wait`.
    let elsewhere = Arc::clone(&bulkhead).try_acquire_owned().unwrap();
    let start = Instant::now();
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    assert_eq!(bulkhead.queued(), 0, "nobody waits below");
    let error = service.call("shed").await.unwrap_err();
    assert!(matches!(rejection(&error), Error::CircuitOpen { .. }));
    assert_eq!(start.elapsed(), Duration::ZERO);
    drop(elsewhere);
    let stats = bulkhead.stats();
    assert_eq!(
        (stats.admitted, stats.rejections),
        (1, 0),
        "only the slot taken by hand"
    );
    assert!(
        handle.poll_request().is_pending(),
        "the mock was never called"
    );

    // Closed again: readiness goes down the stack, the bulkhead's reservation first.
    breaker.reset();
    assert!(
        service.poll_ready().is_pending(),
        "the mock is asked, and not ready"
    );
    assert_eq!(bulkhead.available(), 0, "reserved below");
    handle.allow(1);
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let call = service.call("through");
    let (request, respond) = next_request(&mut handle).await;
    assert_eq!(request, "through");
    respond.send_response("ok");
    assert_eq!(call.await.unwrap(), "ok");
    assert_eq!(bulkhead.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_call_refused_at_readiness_is_rejected_after_the_breaker_recovers_and_takes_no_probe_slot(
) {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(Duration::from_secs(10));
    let breaker = Arc::new(CircuitBreaker::new("refusing", config).unwrap());
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(CircuitBreakerLayer::new(Arc::clone(&breaker)));
    breaker.record_failure();
    let mut events = breaker.subscribe();

    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    advance(Duration::from_secs(10)).await;
    assert!(breaker.is_half_open(), "a probe would be admitted by now");
    let error = service.call("refused").await.unwrap_err();
    assert_eq!(
        rejection(&error),
        &Error::CircuitOpen {
            name: "refusing".into(),
            state: CircuitState::Open,
            retry_after: Duration::from_millis(1),
        },
        "refused as it was at readiness, with the least wait there is"
    );
    assert!(
        handle.poll_request().is_pending(),
        "the inner service was not called"
    );
    assert_eq!(breaker.stats().rejections, 1);
    assert!(matches!(
        events.try_recv().unwrap().detail,
        Detail::Rejected {
            error: Error::CircuitOpen { .. }
        }
    ));

    // The only probe slot is still free: the next call, made ready now, is the probe.
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let probe = service.call("probe");
    let (request, respond) = next_request(&mut handle).await;
    assert_eq!(request, "probe");
    respond.send_response("ok");
    assert_eq!(probe.await.unwrap(), "ok");
    assert!(breaker.is_closed());

    // Forced open, the same: refused at readiness, rejected after a reset.
    breaker.force_open();
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    breaker.reset();
    let error = service.call("refused").await.unwrap_err();
    assert!(matches!(rejection(&error), Error::CircuitOpen { .. }));
    assert!(handle.poll_request().is_pending());

    // A clone starts unasked: the refusal is the original's, for its own next call.
    let mut plain = CircuitBreakerLayer::new(Arc::clone(&breaker))
        .layer(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    breaker.force_open();
    plain.ready().await.unwrap();
    let mut clone = plain.clone();
    breaker.reset();
    assert_eq!(clone.call(1).await.unwrap(), 1);
    assert!(plain.call(2).await.is_err());
}

/// Polls `future` once, from the test's task.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

#[tokio::test(start_paused = true)]
async fn a_timeout_future_drops_the_inner_future_at_its_deadline_and_times_from_its_first_poll() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&dropped);
    let timeout = timeout(2);
    let mut service = ServiceBuilder::new()
        .layer(TimeoutLayer::new(Arc::clone(&timeout)))
        .service(service_fn(move |()| {
            let guard = DropGuard(Arc::clone(&flag));
            async move {
                let _guard = guard;
                pending::<Result<(), BoxError>>().await
            }
        }));
    let call = service.ready().await.unwrap().call(());
    advance(Duration::from_secs(5)).await;
    assert_eq!(
        timeout.stats().calls,
        0,
        "not started before its first poll"
    );

    let mut call = std::pin::pin!(call);
    assert!(poll_once(&mut call).await.is_pending());
    assert_eq!(timeout.stats().calls, 1);
    advance(Duration::from_millis(1999)).await;
    assert!(poll_once(&mut call).await.is_pending());
    assert!(!dropped.load(SeqCst), "running until the deadline");
    advance(Duration::from_millis(1)).await;
    let Poll::Ready(Err(error)) = poll_once(&mut call).await else {
        panic!("not timed out at its deadline");
    };
    assert!(matches!(rejection(&error), Error::Timeout { .. }));
    assert!(
        dropped.load(SeqCst),
        "the inner future is dropped at the deadline, not when the caller drops the answer"
    );
    let stats = timeout.stats();
    assert_eq!((stats.calls, stats.completed, stats.timeouts), (1, 0, 1));

    // One ready at once completes, with no timer.
    let mut quick = ServiceBuilder::new()
        .layer(TimeoutLayer::new(Arc::clone(&timeout)))
        .service(service_fn(|n: u8| async move { Ok::<_, BoxError>(n) }));
    assert_eq!(quick.ready().await.unwrap().call(7).await.unwrap(), 7);
    let stats = timeout.stats();
    assert_eq!((stats.calls, stats.completed, stats.timeouts), (2, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_retry_layer_with_no_wait_yields_between_attempts() {
    let retry = retry(3);
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&attempts);
    let mut service = ServiceBuilder::new()
        .layer(RetryLayer::new(Arc::clone(&retry)).retry_after(|_| Some(Duration::ZERO)))
        .service(service_fn(move |()| {
            let n = counted.fetch_add(1, SeqCst);
            async move {
                if n < 2 {
                    Err::<u32, BoxError>("busy".into())
                } else {
                    Ok(n)
                }
            }
        }));
    let start = Instant::now();
    let call = service.ready().await.unwrap().call(());
    let answer = tokio::time::timeout(Duration::from_secs(60), call).await;
    assert_eq!(answer.expect("never hangs").unwrap(), 2);
    assert_eq!(start.elapsed(), Duration::ZERO, "no wait");
    let stats = retry.stats();
    assert_eq!((stats.retries, stats.succeeded_after_retry), (2, 1));
}

/// A reload while a call is being retried: the call goes on with the config its failures
/// were first weighed by, and the next call takes the new one, as the attributes' do.
#[tokio::test(start_paused = true)]
async fn a_retry_layer_call_keeps_its_config_through_a_reload() {
    let retry = retry(2);
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&attempts);
    let mut service = ServiceBuilder::new()
        .layer(RetryLayer::new(Arc::clone(&retry)).retry_if(|_| true))
        .service(service_fn(move |()| {
            counted.fetch_add(1, SeqCst);
            async { Err::<(), BoxError>("down".into()) }
        }));
    let call = service.ready().await.unwrap().call(());
    let running = tokio::spawn(call);
    // The first attempt failed and the call waits for its second.
    tokio::task::yield_now().await;
    assert_eq!(attempts.load(SeqCst), 1);
    let more = retry.config().clone().max_attempts(5);
    retry.reconfigure(more).unwrap();
    assert!(running.await.unwrap().is_err());
    assert_eq!(attempts.load(SeqCst), 2, "the two attempts it started with");

    attempts.store(0, SeqCst);
    let call = service.ready().await.unwrap().call(());
    assert!(call.await.is_err());
    assert_eq!(
        attempts.load(SeqCst),
        5,
        "the next call takes the new config"
    );
}

/// A layer built by name borrows the registry's instance for good: however many times it
/// is built, the registry's instance gains one reference in all, and its calls, running,
/// queued or dropped, hold none (nothing counted per call). One built from an `Arc` holds
/// one per call that runs, and lets the instance go when the last call ends.
#[tokio::test(start_paused = true)]
async fn a_layer_built_by_name_counts_no_references_per_call() {
    let (breaker, retry, bulkhead) = (
        "tower::counted::breaker",
        "tower::counted::retry",
        "tower::counted::bulkhead",
    );
    registry()
        .get_or_create(breaker, CircuitBreakerConfig::default())
        .unwrap();
    registry()
        .get_or_create(retry, RetryConfig::default())
        .unwrap();
    let one_slot = BulkheadConfig::DEFAULT
        .max_concurrent(1)
        .max_wait(Duration::from_secs(1));
    registry().get_or_create(bulkhead, one_slot).unwrap();
    let instances = (
        registry().circuit_breaker(breaker).unwrap(),
        registry().retry(retry).unwrap(),
        registry().bulkhead(bulkhead).unwrap(),
    );
    let counts = || {
        [
            Arc::strong_count(&instances.0),
            Arc::strong_count(&instances.1),
            Arc::strong_count(&instances.2),
        ]
    };
    let before = counts();
    let layers = || {
        ServiceBuilder::new()
            .layer(CircuitBreakerLayer::named(breaker).unwrap())
            .layer(RetryLayer::named(retry).unwrap())
            .layer(BulkheadLayer::named(bulkhead).unwrap())
    };
    let (mut first, mut handle) = mock::spawn_layer::<u8, u8, _>(layers());
    for _ in 0..10 {
        drop(layers());
    }
    let built = counts();
    assert_eq!(
        built,
        before.map(|count| count + 1),
        "one borrow for good each"
    );

    assert!(matches!(first.poll_ready(), Poll::Ready(Ok(()))));
    let mut running = Box::pin(first.call(1));
    assert!(poll_once(&mut running).await.is_pending());
    let _request = next_request(&mut handle).await;
    let (mut second, _handle) = mock::spawn_layer::<u8, u8, _>(layers());
    assert!(second.poll_ready().is_pending(), "queued for the only slot");
    assert_eq!(instances.2.available(), 0);
    assert_eq!(
        counts(),
        built,
        "a call running and one queued hold nothing"
    );
    drop(running);
    assert!(
        matches!(second.poll_ready(), Poll::Ready(Ok(()))),
        "the slot came back"
    );
    drop(second);
    assert_eq!(instances.2.available(), 1);
    assert_eq!(
        instances.0.stats().abandoned,
        1,
        "the dropped call was abandoned"
    );
    assert_eq!(counts(), built);

    // By `Arc`: a reference per call running, given back with the call.
    let by_hand = Arc::new(Retry::new("by hand", RetryConfig::default()).unwrap());
    let (mut service, mut handle) =
        mock::spawn_layer::<u8, u8, _>(RetryLayer::new(Arc::clone(&by_hand)));
    let idle = Arc::strong_count(&by_hand);
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    let mut running = Box::pin(service.call(1));
    assert!(poll_once(&mut running).await.is_pending());
    assert_eq!(Arc::strong_count(&by_hand), idle + 1, "the call's own");
    let (_, respond) = next_request(&mut handle).await;
    respond.send_response(2);
    assert_eq!(running.await.unwrap(), 2);
    assert_eq!(Arc::strong_count(&by_hand), idle);
}
