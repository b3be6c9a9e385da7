//! A shared quota against a real `redis-server`: two "processes" in one, each a limiter of
//! the same name shared through a backend of its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{self, RedisServer};
use resilience::events::Detail;
use resilience::redis::{Backend, WhenUnavailable};
use resilience::{Error, RateLimiter, RateLimiterConfig};

async fn shared(
    server: &RedisServer,
    prefix: &str,
    config: RateLimiterConfig,
    mode: WhenUnavailable,
) -> Arc<RateLimiter> {
    let backend = Backend::connect_with(
        &server.url(),
        support::patient()
            .key_prefix(prefix)
            .refresh(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    support::shared_limiter(&backend, "partner-api", config, mode)
}

fn five_per_second() -> RateLimiterConfig {
    RateLimiterConfig::DEFAULT
        .max_requests(5)
        .window(Duration::from_secs(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_draw_on_one_quota_and_wait_for_its_next_permit() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = shared(&server, "q1:", five_per_second(), WhenUnavailable::Local).await;
    let b = shared(
        &server,
        "q1:",
        five_per_second().max_wait(Duration::from_millis(400)),
        WhenUnavailable::Local,
    )
    .await;
    for _ in 0..3 {
        a.acquire().await.unwrap();
    }
    for _ in 0..2 {
        b.acquire().await.unwrap();
    }
    match a.acquire().await {
        Err(Error::RateLimited { retry_after, .. }) => {
            assert!(retry_after <= Duration::from_millis(200), "{retry_after:?}");
            assert!(retry_after > Duration::from_millis(100), "{retry_after:?}");
        }
        other => panic!("the fleet's quota is spent: {other:?}"),
    }
    let start = Instant::now();
    b.acquire()
        .await
        .expect("waits for the fleet's next permit within max_wait");
    let waited = start.elapsed();
    assert!(
        // Past the fleet's next permit, and within `max_wait` plus slack for a loaded host.
        waited > Duration::from_millis(100) && waited < Duration::from_millis(600),
        "{waited:?}"
    );
    assert_eq!(b.stats().waited, 1);
}

/// A limiter reloaded after it was shared takes its fleet's quota under the new config
/// from its next call: here ten an hour become one, with no room for a burst, so the next
/// call waits out the six minutes the permit taken at the old rate still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_reaches_the_fleet_s_quota_with_the_next_call() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let hour = Duration::from_secs(3600);
    let ten = RateLimiterConfig::DEFAULT.max_requests(10).window(hour);
    let a = shared(&server, "q3:", ten.clone(), WhenUnavailable::Reject).await;
    a.acquire().await.unwrap();
    a.reconfigure(ten.max_requests(1)).unwrap();
    match a.acquire().await {
        Err(Error::RateLimited { retry_after, .. }) => {
            let six_minutes = hour / 10;
            assert!(retry_after <= six_minutes, "{retry_after:?}");
            assert!(
                retry_after > six_minutes - Duration::from_secs(5),
                "{retry_after:?}"
            );
        }
        other => panic!("no burst at one an hour: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_under_the_key_is_an_unavailable_quota_never_a_panic() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let limiter = shared(&server, "q2:", five_per_second(), WhenUnavailable::Reject).await;
    let mut events = limiter.subscribe();
    assert_eq!(
        server.command("HSET q2:{partner-api}:quota not a-number"),
        ":1"
    );
    for _ in 0..3 {
        let rejected = limiter.acquire().await;
        assert!(
            matches!(rejected, Err(Error::RateLimited { .. })),
            "{rejected:?}"
        );
    }
    assert_eq!(
        events.try_recv().unwrap().detail,
        Detail::SharedState { available: false }
    );
    // The server answers all along, but the key still holds no quota: three refreshes
    // later the name is still lost, not found and lost again at each one.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(limiter.acquire().await.is_err());
    }
    let availability: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|event| matches!(event.detail, Detail::SharedState { .. }))
        .collect();
    assert!(
        availability.is_empty(),
        "no flapping between lost and found: {availability:?}"
    );
    // Garbage of the right type is refused by the script itself.
    server.command("DEL q2:{partner-api}:quota");
    server.command("SET q2:{partner-api}:quota garbage");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(limiter.acquire().await.is_err());
    server.command("DEL q2:{partner-api}:quota");
    // The refresh tries the quota again every 100ms; a loaded host gets generous slack.
    let deadline = Instant::now() + Duration::from_secs(3);
    while limiter.acquire().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "a sound key again, and never shared again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| e.detail)
        .collect();
    assert!(
        events.contains(&Detail::SharedState { available: true }),
        "{events:?}"
    );
}
