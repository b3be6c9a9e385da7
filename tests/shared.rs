//! The hooks a store of shared state installs (`resilience::shared`), driven by fakes on
//! tokio's paused clock: when a breaker asks its hook and when it does not, what a
//! limiter does with each decision of a shared quota.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::events::Detail;
use resilience::shared::{
    CallOutcome, QuotaDecision, QuotaFuture, SharedCircuit, SharedKeys, SharedQuota, SharedView,
    Ticket,
};
use resilience::{
    CircuitBreaker, CircuitBreakerConfig, CircuitState, Error, KeyedConfig, KeyedRateLimiter,
    RateLimiter, RateLimiterConfig,
};
use tokio::time::Instant;

#[derive(Default)]
struct FakeFleet {
    local: AtomicBool,
    admits: AtomicUsize,
    answer: Mutex<Option<Result<Ticket, (CircuitState, Duration)>>>,
    reports: Mutex<Vec<(u64, bool, CallOutcome)>>,
}

impl SharedCircuit for FakeFleet {
    fn in_charge(&self) -> bool {
        !self.local.load(Relaxed)
    }
    fn state(&self) -> CircuitState {
        CircuitState::Open
    }
    fn admit(&self) -> Result<Ticket, (CircuitState, Duration)> {
        self.admits.fetch_add(1, Relaxed);
        self.answer.lock().unwrap().expect("an answer was set")
    }
    fn report(&self, issued: u64, probe: bool, outcome: CallOutcome) {
        self.reports.lock().unwrap().push((issued, probe, outcome));
    }
}

struct Shared(Arc<FakeFleet>);

impl SharedCircuit for Shared {
    fn in_charge(&self) -> bool {
        self.0.in_charge()
    }
    fn state(&self) -> CircuitState {
        self.0.state()
    }
    fn admit(&self) -> Result<Ticket, (CircuitState, Duration)> {
        self.0.admit()
    }
    fn report(&self, issued: u64, probe: bool, outcome: CallOutcome) {
        self.0.report(issued, probe, outcome)
    }
}

fn shared_breaker(name: &str) -> (CircuitBreaker, Arc<FakeFleet>) {
    let breaker =
        CircuitBreaker::new(name, CircuitBreakerConfig::DEFAULT.failure_threshold(2)).unwrap();
    let fleet = Arc::new(FakeFleet::default());
    breaker.share(Arc::new(Shared(Arc::clone(&fleet)))).unwrap();
    (breaker, fleet)
}

async fn succeed(breaker: &CircuitBreaker) {
    breaker.call(|| async { Ok::<_, Error>(()) }).await.unwrap();
}

async fn fail(breaker: &CircuitBreaker) {
    let _ = breaker
        .call(|| async {
            Err::<(), _>(Error::Timeout {
                name: "x".into(),
                after: Duration::ZERO,
            })
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn a_clean_closed_fleet_hears_nothing_of_successes_and_every_failure() {
    let (breaker, fleet) = shared_breaker("shared::clean");
    breaker.set_shared_view(SharedView::Closed {
        generation: 5,
        failures: false,
    });
    for _ in 0..100 {
        succeed(&breaker).await;
    }
    assert!(
        fleet.reports.lock().unwrap().is_empty(),
        "a clean success is not reported"
    );
    fail(&breaker).await;
    fail(&breaker).await;
    fail(&breaker).await;
    let failure = (5, false, CallOutcome::Failure);
    assert_eq!(
        *fleet.reports.lock().unwrap(),
        vec![failure; 3],
        "the fleet counts, not the breaker"
    );
    assert_eq!(
        breaker.stats().failures,
        3,
        "counted in the local stats all the same"
    );

    // With failures counted for the fleet, a success is reported (the store resets them).
    breaker.set_shared_view(SharedView::Closed {
        generation: 5,
        failures: true,
    });
    succeed(&breaker).await;
    assert_eq!(
        fleet.reports.lock().unwrap().last(),
        Some(&(5, false, CallOutcome::Success))
    );
    assert_eq!(
        fleet.admits.load(Relaxed),
        0,
        "closed: admitted on the fast path"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fleet_that_is_not_closed_decides_every_call() {
    let (breaker, fleet) = shared_breaker("shared::open");
    let mut events = breaker.subscribe();
    breaker.set_shared_view(SharedView::NotClosed);
    *fleet.answer.lock().unwrap() = Some(Err((CircuitState::Open, Duration::from_secs(3))));
    let rejected = breaker.call(|| async { Ok::<_, Error>(()) }).await;
    assert_eq!(
        rejected,
        Err(Error::CircuitOpen {
            name: "shared::open".into(),
            state: CircuitState::Open,
            retry_after: Duration::from_secs(3)
        })
    );
    assert_eq!(breaker.stats().rejections, 1);
    assert!(matches!(
        events.try_recv().unwrap().detail,
        Detail::Rejected { .. }
    ));
    assert_eq!(breaker.state(), CircuitState::Open, "the fleet's state");

    *fleet.answer.lock().unwrap() = Some(Ok(Ticket {
        issued: 9,
        probe: true,
    }));
    succeed(&breaker).await;
    fail(&breaker).await;
    drop(breaker.try_acquire().unwrap());
    assert_eq!(
        *fleet.reports.lock().unwrap(),
        vec![
            (9, true, CallOutcome::Success),
            (9, true, CallOutcome::Failure),
            (9, true, CallOutcome::Abandoned)
        ],
        "a probe's every outcome, a dropped one included, goes to the fleet"
    );
    assert_eq!(fleet.admits.load(Relaxed), 4);
}

#[tokio::test(start_paused = true)]
async fn a_hook_out_of_charge_leaves_a_local_breaker_with_the_same_config() {
    let (breaker, fleet) = shared_breaker("shared::local");
    breaker.set_shared_view(SharedView::NotClosed);
    fleet.local.store(true, Relaxed);
    breaker.set_shared_view(SharedView::Local);
    assert!(breaker.is_closed(), "afresh, closed");
    fail(&breaker).await;
    fail(&breaker).await;
    assert!(
        breaker.is_open(),
        "opened by its own count, at its own threshold"
    );
    assert!(fleet.reports.lock().unwrap().is_empty());
    assert_eq!(fleet.admits.load(Relaxed), 0);
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(breaker.is_half_open(), "and its own recovery timeout");
}

/// Falling back while the fleet's breaker is open keeps it open here for what was left:
/// losing Redis is no reason to call a downstream the fleet found down.
#[tokio::test(start_paused = true)]
async fn a_hook_out_of_charge_while_the_fleet_is_open_leaves_it_open_until_its_deadline() {
    let (breaker, fleet) = shared_breaker("shared::local-open");
    breaker.set_shared_view(SharedView::NotClosed);
    fleet.local.store(true, Relaxed);
    breaker.set_shared_view(SharedView::LocalOpen(Duration::from_secs(20)));
    assert!(breaker.is_open());
    assert!(matches!(
        breaker.try_acquire(),
        Err(Error::CircuitOpen { .. })
    ));
    tokio::time::advance(Duration::from_millis(19_999)).await;
    assert!(breaker.is_open(), "until the fleet's deadline");
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(breaker.is_half_open(), "then probed by this process alone");
    assert_eq!(fleet.admits.load(Relaxed), 0);
}

#[tokio::test(start_paused = true)]
async fn the_fleet_s_transitions_and_availability_are_events_of_the_breaker() {
    let (breaker, _fleet) = shared_breaker("shared::events");
    let mut events = breaker.subscribe();
    breaker.shared_transition(CircuitState::Closed, CircuitState::Open);
    breaker.shared_transition(CircuitState::Open, CircuitState::Open);
    assert_eq!(breaker.stats().shared.map(|s| s.available), Some(true));
    // A store that repeats itself is heard once per change.
    breaker.shared_availability(true);
    breaker.shared_availability(false);
    breaker.shared_availability(false);
    assert_eq!(breaker.stats().shared.map(|s| s.available), Some(false));
    breaker.shared_availability(true);
    breaker.shared_availability(true);
    let details: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        details,
        vec![
            Detail::StateChanged {
                from: CircuitState::Closed,
                to: CircuitState::Open
            },
            Detail::SharedState { available: false },
            Detail::SharedState { available: true },
        ]
    );
    assert_eq!(breaker.stats().transitions, 1);
    let shared = breaker.stats().shared.unwrap();
    assert_eq!((shared.available, shared.fallbacks), (true, 1));
    let again = breaker.share(Arc::new(FakeFleet::default())).unwrap_err();
    assert_eq!(again.to_string(), "`shared::events` is shared already");
}

/// A quota that answers from a script of decisions, then `Admitted`.
struct FakeQuota(Mutex<VecDeque<QuotaDecision>>);

impl FakeQuota {
    fn next(&self) -> QuotaDecision {
        self.0
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(QuotaDecision::Admitted)
    }
}

impl SharedQuota for FakeQuota {
    fn admit(&self) -> QuotaFuture<'_> {
        let decision = self.next();
        Box::pin(async move { decision })
    }

    fn admit_blocking(&self) -> QuotaDecision {
        self.next()
    }

    fn try_admit(&self) -> QuotaDecision {
        self.next()
    }
}

fn shared_limiter(config: RateLimiterConfig, decisions: &[QuotaDecision]) -> RateLimiter {
    let limiter = RateLimiter::new("shared::quota", config).unwrap();
    limiter
        .share(Arc::new(FakeQuota(Mutex::new(
            decisions.iter().copied().collect(),
        ))))
        .unwrap();
    limiter
}

#[tokio::test(start_paused = true)]
async fn a_shared_quota_s_wait_is_waited_within_max_wait_and_refused_beyond_it() {
    let one = RateLimiterConfig::DEFAULT
        .max_requests(1)
        .max_wait(Duration::from_millis(500));
    let wait = QuotaDecision::Wait(Duration::from_millis(200));
    let limiter = shared_limiter(one.clone(), &[wait, wait]);
    let start = Instant::now();
    limiter.acquire().await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(400),
        "waited twice for the fleet's next permit"
    );
    assert_eq!((limiter.stats().admitted, limiter.stats().waited), (1, 1));

    let limiter = shared_limiter(one, &[QuotaDecision::Wait(Duration::from_secs(1))]);
    let start = Instant::now();
    let rejected = limiter.acquire().await;
    assert_eq!(
        rejected,
        Err(Error::RateLimited {
            name: "shared::quota".into(),
            retry_after: Duration::from_secs(1)
        })
    );
    assert_eq!(
        start.elapsed(),
        Duration::ZERO,
        "refused at once, not after max_wait"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_quota_is_refused_or_local_as_the_store_says() {
    let one = RateLimiterConfig::DEFAULT
        .max_requests(1)
        .window(Duration::from_secs(60));
    let limiter = shared_limiter(
        one.clone(),
        &[QuotaDecision::Refused(Duration::from_secs(2))],
    );
    let refused = limiter.call(|| async { Ok::<_, Error>(()) }).await;
    assert_eq!(
        refused,
        Err(Error::RateLimited {
            name: "shared::quota".into(),
            retry_after: Duration::from_secs(2)
        })
    );

    let limiter = shared_limiter(one, &[QuotaDecision::Local, QuotaDecision::Local]);
    assert!(limiter.acquire().await.is_ok(), "the limiter's own quota");
    assert!(
        limiter.acquire().await.is_err(),
        "the limiter's own quota, spent"
    );
    assert!(
        limiter.acquire().await.is_ok(),
        "shared again: the fleet admits"
    );
    assert_eq!(limiter.stats().admitted, 2);
}

/// A quota whose every method refuses with a `retry_after` of its own, counting its calls:
/// which method a path asks shows in its rejection.
#[derive(Default)]
struct ByPath {
    calls: Mutex<Vec<&'static str>>,
}

impl ByPath {
    fn refuse(&self, path: &'static str, secs: u64) -> QuotaDecision {
        self.calls.lock().unwrap().push(path);
        QuotaDecision::Refused(Duration::from_secs(secs))
    }
}

impl SharedQuota for ByPath {
    fn admit(&self) -> QuotaFuture<'_> {
        let decision = self.refuse("admit", 1);
        Box::pin(async move { decision })
    }

    fn admit_blocking(&self) -> QuotaDecision {
        self.refuse("admit_blocking", 2)
    }

    fn try_admit(&self) -> QuotaDecision {
        self.refuse("try_admit", 3)
    }
}

/// Every admission path of a shared limiter asks the fleet, each through the hook method
/// made for it, and none takes a permit of the limiter's own (full) quota behind its back.
#[tokio::test(start_paused = true)]
async fn every_path_of_a_shared_limiter_asks_the_fleet() {
    use resilience::tower::RateLimitLayer;
    use tower::{service_fn, Layer, Service, ServiceExt};

    let fleet = Arc::new(ByPath::default());
    let limiter = Arc::new(RateLimiter::new("shared::paths", RateLimiterConfig::DEFAULT).unwrap());
    limiter
        .share(Arc::clone(&fleet) as Arc<dyn SharedQuota>)
        .unwrap();
    let refused = |secs| Error::RateLimited {
        name: "shared::paths".into(),
        retry_after: Duration::from_secs(secs),
    };
    assert_eq!(limiter.acquire().await, Err(refused(1)));
    assert_eq!(limiter.acquire_blocking(), Err(refused(2)));
    assert_eq!(
        limiter.call_blocking(|| Ok::<_, Error>(())),
        Err(refused(2))
    );
    assert_eq!(limiter.try_acquire(), Err(refused(3)));
    let mut service = RateLimitLayer::new(Arc::clone(&limiter))
        .layer(service_fn(|()| async { Ok::<_, Error>(()) }));
    // Readiness asks nothing, and a call dropped before it is polled takes nothing.
    drop(service.ready().await.unwrap().call(()));
    assert_eq!(fleet.calls.lock().unwrap().len(), 4);
    let rejected = service.oneshot(()).await.unwrap_err();
    assert_eq!(rejected.downcast_ref::<Error>(), Some(&refused(1)));
    assert_eq!(
        *fleet.calls.lock().unwrap(),
        [
            "admit",
            "admit_blocking",
            "admit_blocking",
            "try_admit",
            "admit"
        ]
    );
    assert_eq!(
        (limiter.stats().admitted, limiter.stats().rejections),
        (0, 5)
    );
}

/// `try_acquire` and the blocking path follow the store's decisions as `acquire` does: a
/// fleet permit, a wait (waited for within `max_wait` by the blocking path, reported as
/// `retry_after` by `try_acquire`), or the limiter's own quota when the store says so.
#[tokio::test(start_paused = true)]
async fn try_acquire_and_the_blocking_path_follow_the_store_s_decisions() {
    let one = RateLimiterConfig::DEFAULT
        .max_requests(1)
        .window(Duration::from_secs(60))
        .max_wait(Duration::from_millis(500));
    let wait = QuotaDecision::Wait(Duration::from_millis(20));
    let limiter = shared_limiter(
        one.clone(),
        &[wait, QuotaDecision::Local, QuotaDecision::Local],
    );
    assert_eq!(
        limiter.try_acquire(),
        Err(Error::RateLimited {
            name: "shared::quota".into(),
            retry_after: Duration::from_millis(20)
        })
    );
    assert!(limiter.try_acquire().is_ok(), "the limiter's own quota");
    assert!(limiter.try_acquire().is_err(), "the own quota, spent");
    assert!(limiter.try_acquire().is_ok(), "the fleet admits again");

    let limiter = shared_limiter(one, &[wait, wait]);
    let start = std::time::Instant::now();
    assert!(limiter.acquire_blocking().is_ok());
    assert!(
        start.elapsed() >= Duration::from_millis(40),
        "slept twice for the fleet's next permit, on the real clock"
    );
    assert_eq!((limiter.stats().admitted, limiter.stats().waited), (1, 1));
}

/// Shares each key's limiter as it is made, recording the key's `Debug` text; each key's
/// limiter then asks a `FakeQuota` that refuses once.
#[derive(Default)]
struct FakeKeys(Mutex<Vec<String>>);

impl SharedKeys<RateLimiter> for FakeKeys {
    fn share_key(&self, key: &str, limiter: &Arc<RateLimiter>) {
        self.0.lock().unwrap().push(key.to_owned());
        let refused = QuotaDecision::Refused(Duration::from_secs(9));
        limiter
            .share(Arc::new(FakeQuota(Mutex::new([refused].into()))))
            .unwrap();
    }
}

/// A keyed instance shares each key's instance as the key is made, again when a dropped
/// key is made again, and drops the keys it held when it was shared, so that none stays
/// local.
#[tokio::test(start_paused = true)]
async fn a_keyed_instance_shares_each_key_as_it_is_made() {
    let per_key = RateLimiterConfig::DEFAULT.max_requests(5);
    let keyed =
        KeyedRateLimiter::new("shared::keyed", KeyedConfig::new(per_key).max_keys(1)).unwrap();
    keyed.try_acquire("held before").unwrap();
    let keys = Arc::new(FakeKeys::default());
    keyed
        .share(Arc::clone(&keys) as Arc<dyn SharedKeys<RateLimiter>>)
        .unwrap();
    assert!(keyed.is_empty(), "the local keys are dropped");
    let refused = Err(Error::RateLimited {
        name: "shared::keyed".into(),
        retry_after: Duration::from_secs(9),
    });
    assert_eq!(keyed.try_acquire("ada"), refused, "the fleet's word");
    assert_eq!(keyed.try_acquire("ada"), Ok(()));
    // One key at most: bob's limiter takes ada's place, then ada's comes back, shared.
    assert_eq!(keyed.try_acquire(&("bob", 7)), refused);
    assert_eq!(keyed.try_acquire("ada"), refused);
    assert_eq!(
        *keys.0.lock().unwrap(),
        ["\"ada\"", "(\"bob\", 7)", "\"ada\""]
    );
    assert!(keyed.share(keys).is_err(), "shared once");
}

#[tokio::test(start_paused = true)]
async fn a_shared_limiter_hears_its_store_s_availability_once_per_change() {
    let limiter = shared_limiter(RateLimiterConfig::DEFAULT, &[]);
    let mut events = limiter.subscribe();
    for available in [false, false, true, true, false] {
        limiter.shared_availability(available);
    }
    let details: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        details,
        [false, true, false].map(|available| Detail::SharedState { available })
    );
    let shared = limiter.stats().shared.unwrap();
    assert_eq!((shared.available, shared.fallbacks), (false, 2));
    let alone = RateLimiter::new("alone", RateLimiterConfig::DEFAULT).unwrap();
    alone.shared_availability(false);
    assert_eq!(
        alone.stats().shared,
        None,
        "an unshared limiter has no link"
    );
}
