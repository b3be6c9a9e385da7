//! The hooks a store of shared state installs (`resilience::shared`), driven by fakes on
//! tokio's paused clock: when a breaker asks its hook and when it does not, what a
//! limiter does with each decision of a shared quota.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::events::Detail;
use resilience::shared::{
    CallOutcome, QuotaDecision, QuotaFuture, SharedCircuit, SharedQuota, SharedView, Ticket,
};
use resilience::{
    CircuitBreaker, CircuitBreakerConfig, CircuitState, Error, RateLimiter, RateLimiterConfig,
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

impl SharedQuota for FakeQuota {
    fn admit(&self) -> QuotaFuture<'_> {
        let decision = self
            .0
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(QuotaDecision::Admitted);
        Box::pin(async move { decision })
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
