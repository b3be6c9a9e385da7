//! The server paused, killed and restarted, flushed, and password-protected: calls never
//! wait past the timeout, nothing panics, and shared state comes back by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{self, RedisServer};
use resilience::events::{Detail, Subscription};
use resilience::redis::{Backend, ErrorKind, Settings, WhenUnavailable};
use resilience::{CircuitBreaker, CircuitBreakerConfig, RateLimiter, RateLimiterConfig};

/// Each call to Redis gives up after this long. A call is checked against `TIMEOUT * 3`:
/// slack for a loaded host's scheduling, and still far from a paused server's forever.
const TIMEOUT: Duration = Duration::from_millis(50);

fn settings(prefix: &str) -> Settings {
    Settings::DEFAULT
        .key_prefix(prefix)
        .timeout(TIMEOUT)
        .refresh(Duration::from_millis(100))
}

async fn limiter(backend: &Backend, mode: WhenUnavailable) -> Arc<RateLimiter> {
    let config = RateLimiterConfig::DEFAULT
        .max_requests(10_000)
        .window(Duration::from_secs(1));
    support::shared_limiter(backend, "quota", config, mode)
}

async fn breaker(backend: &Backend) -> Arc<CircuitBreaker> {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(60));
    let breaker = support::shared_breaker(backend, "breaker", config);
    tokio::time::sleep(Duration::from_millis(100)).await;
    breaker
}

/// A breaker shared under `prefix`, opened for the fleet by two failures.
async fn opened(server: &RedisServer, prefix: &str) -> (Backend, Arc<CircuitBreaker>) {
    let backend = Backend::connect_with(&server.url(), settings(prefix))
        .await
        .unwrap();
    let breaker = breaker(&backend).await;
    breaker.try_acquire().unwrap().failure();
    breaker.try_acquire().unwrap().failure();
    let deadline = Instant::now() + Duration::from_secs(2);
    while !breaker.is_open() {
        assert!(Instant::now() < deadline, "two failures never opened it");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (backend, breaker)
}

async fn next_availability(events: &mut Subscription, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(left, events.recv())
            .await
            .expect("an availability event in time")
            .unwrap();
        if let Detail::SharedState { available } = event.detail {
            return available;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_costs_each_call_at_most_the_timeout_then_shared_state_resumes() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let backend = Backend::connect_with(&server.url(), settings("f1:"))
        .await
        .unwrap();
    let limiter = limiter(&backend, WhenUnavailable::Local).await;
    let breaker = breaker(&backend).await;
    let mut limiter_events = limiter.subscribe();
    let mut breaker_events = breaker.subscribe();
    limiter.acquire().await.unwrap();

    server.signal("-STOP");
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let start = Instant::now();
        limiter
            .acquire()
            .await
            .expect("the local quota while Redis is paused");
        slowest = slowest.max(start.elapsed());
    }
    assert!(slowest < TIMEOUT * 3, "a call waited {slowest:?}");
    assert!(!next_availability(&mut limiter_events, Duration::from_millis(500)).await);
    // The breaker's failure is sent off the call path, times out, and the breaker falls
    // back to its own state: two failures open it locally.
    breaker.try_acquire().unwrap().failure();
    assert!(!next_availability(&mut breaker_events, Duration::from_millis(500)).await);
    breaker.try_acquire().unwrap().failure();
    breaker.try_acquire().unwrap().failure();
    assert!(breaker.is_open(), "local state, same config");
    assert!(
        limiter_events.try_recv().is_err(),
        "one event, not one per call"
    );

    server.signal("-CONT");
    assert!(next_availability(&mut limiter_events, Duration::from_secs(2)).await);
    assert!(next_availability(&mut breaker_events, Duration::from_secs(2)).await);
    assert!(
        breaker.is_closed(),
        "the fleet's state again: it never opened in Redis"
    );
    let before = server.calls("evalsha");
    limiter.acquire().await.unwrap();
    assert_eq!(
        server.calls("evalsha"),
        before + 1,
        "admissions go through Redis again"
    );
}

/// A breaker the fleet holds open stays open when Redis goes away: the process falls back
/// on its own breaker, open until the fleet's deadline, rather than call the downstream
/// the fleet found down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaker_open_for_the_fleet_stays_open_when_redis_goes_away() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (_backend, breaker) = opened(&server, "f5:").await;
    let mut events = breaker.subscribe();
    server.signal("-STOP");
    // The refresh's next read times out: the process falls back.
    assert!(!next_availability(&mut events, Duration::from_secs(2)).await);
    assert!(
        breaker.is_open(),
        "open on its own, to the fleet's deadline"
    );
    assert!(breaker.try_acquire().is_err());
    server.signal("-CONT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_and_restarted_on_its_port_is_reconnected_to() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    let backend = Backend::connect_with(&server.url(), settings("f2:"))
        .await
        .unwrap();
    let limiter = limiter(&backend, WhenUnavailable::Reject).await;
    let mut events = limiter.subscribe();
    limiter.acquire().await.unwrap();
    drop(server);
    let start = Instant::now();
    assert!(
        limiter.acquire().await.is_err(),
        "set to reject while Redis is gone"
    );
    assert!(start.elapsed() < TIMEOUT * 3);
    assert!(!next_availability(&mut events, Duration::from_millis(500)).await);

    let server = RedisServer::start_with(None, port).unwrap();
    assert!(next_availability(&mut events, Duration::from_secs(3)).await);
    let deadline = Instant::now() + Duration::from_secs(2);
    while limiter.acquire().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "never admitted through the new server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.calls("evalsha") + server.calls("eval") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_flushed_under_an_open_breaker_are_a_fresh_closed_state() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (_backend, breaker) = opened(&server, "f3:").await;
    assert_eq!(server.command("FLUSHALL"), "+OK");
    let deadline = Instant::now() + Duration::from_secs(2);
    while !breaker.is_closed() {
        assert!(Instant::now() < deadline, "still open after the keys went");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    breaker.try_acquire().unwrap().failure();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(breaker.is_closed(), "counting afresh: one failure of two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_connects_and_a_wrong_one_fails_without_showing_it() {
    let Some(server) = RedisServer::start_with(Some("correct-horse"), support::free_port()) else {
        return;
    };
    let backend = Backend::connect_with(&server.url(), settings("f4:"))
        .await
        .expect("the right password");
    assert!(
        !format!("{backend:?}").contains("correct-horse"),
        "{backend:?}"
    );
    let quota = limiter(&backend, WhenUnavailable::Reject).await;
    quota.acquire().await.expect("admitted through Redis");

    let wrong = format!("redis://:battery-staple@127.0.0.1:{}", server.port);
    let error = Backend::connect_with(&wrong, settings("f4:"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect);
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("battery-staple"), "{shown}");
        assert!(!shown.is_empty());
    }
    // No password at all (an unset variable) fails at start-up too, not at the first call.
    let none = format!("redis://127.0.0.1:{}", server.port);
    let error = Backend::connect_with(&none, settings("f4:"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect);
    assert!(error.to_string().contains("NOAUTH"), "{error}");
    // An ACL user with its own password works too.
    assert_eq!(
        server.command("ACL SETUSER fleet on >tr0ub4dor ~* &* +@all"),
        "+OK"
    );
    let acl = format!("redis://fleet:tr0ub4dor@127.0.0.1:{}", server.port);
    let backend = Backend::connect_with(&acl, settings("f4:"))
        .await
        .expect("the ACL user");
    assert!(!format!("{backend:?}").contains("tr0ub4dor"), "{backend:?}");
    limiter(&backend, WhenUnavailable::Reject)
        .await
        .acquire()
        .await
        .expect("admitted as the ACL user");
    let user = format!("redis://fleet:battery-staple@127.0.0.1:{}", server.port);
    let error = Backend::connect_with(&user, settings("f4:"))
        .await
        .unwrap_err();
    assert!(
        !format!("{error} {error:?}").contains("battery-staple"),
        "{error}"
    );
}
