//! Keyed limiters shared through a real `redis-server`: one quota per user key for the
//! whole fleet, each in a Redis key of its own (hash-tagged, with a TTL), the key written
//! by its `Debug` text so that every process names it alike.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::support::{self, RedisServer};
use resilience::redis::{Backend, ErrorKind, WhenUnavailable};
use resilience::{Error, KeyedConfig, KeyedRateLimiter, RateLimiterConfig};

async fn backend(server: &RedisServer, prefix: &str) -> Backend {
    Backend::connect_with(&server.url(), support::patient().key_prefix(prefix))
        .await
        .unwrap()
}

/// One process's keyed limiter `name`, `per_key` an hour for each key, shared.
fn keyed(backend: &Backend, name: &str, per_key: u32) -> Arc<KeyedRateLimiter> {
    let config = RateLimiterConfig::DEFAULT
        .max_requests(per_key)
        .window(Duration::from_secs(3600));
    let keyed = Arc::new(KeyedRateLimiter::new(name, KeyedConfig::new(config)).unwrap());
    backend
        .share_keyed_limiter(&keyed, WhenUnavailable::Reject)
        .unwrap();
    keyed
}

/// How many of `rounds` rounds of one admission by `a` then one by `b` were admitted,
/// with room between rounds for a lease's refill.
async fn admitted<A, B, FA, FB>(rounds: u32, mut a: A, mut b: B) -> u32
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = Result<(), Error>>,
    FB: Future<Output = Result<(), Error>>,
{
    let mut admitted = 0;
    for _ in 0..rounds {
        admitted += u32::from(a().await.is_ok()) + u32::from(b().await.is_ok());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    admitted
}

/// Two processes, one through `try_acquire` (leases) and one through async calls: each
/// key's quota of three is the fleet's, and one key's use leaves every other key's whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_each_key_s_quota_and_no_other() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = keyed(&backend(&server, "k1:").await, "per-user", 3);
    let b = keyed(&backend(&server, "k1:").await, "per-user", 3);
    let call = |key: &'static str| {
        let b = Arc::clone(&b);
        move || {
            let b = Arc::clone(&b);
            async move { b.call(key, || async { Ok::<_, Error>(()) }).await }
        }
    };
    let ada = admitted(
        100,
        || std::future::ready(a.try_acquire("ada")),
        call("ada"),
    )
    .await;
    assert_eq!(ada, 3, "ada: one quota of three for the fleet");
    let bob = admitted(
        100,
        || std::future::ready(a.try_acquire("bob")),
        call("bob"),
    )
    .await;
    assert_eq!(bob, 3, "bob: a quota of his own");
    let seven = admitted(
        100,
        || std::future::ready(a.try_acquire(&7_u64)),
        || std::future::ready(b.try_acquire(&7_u64)),
    )
    .await;
    assert_eq!(seven, 3, "a number key, written alike by both");

    for key in [
        r#"k1:{per-user:"ada"}:keyed-quota"#,
        "k1:{per-user:7}:keyed-quota",
    ] {
        let ttl = server.command(&format!("PTTL '{key}'"));
        let ttl: i64 = ttl.trim_start_matches(':').parse().unwrap();
        assert!(ttl > 0, "{key}: a key of its own, with a TTL ({ttl})");
    }
}

#[resilience::rate_limit(name = "redis::per-user", max_requests = 2, window = "1h", key = user)]
async fn per_user(user: u64) -> Result<(), Error> {
    let _ = user;
    Ok(())
}

/// An attribute's keyed limiter is shared by name, key by key, with another process's
/// keyed limiter of that name; a keyed breaker is still refused, and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_s_keyed_limiter_is_shared_by_name() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = backend(&server, "k2:").await;
    a.share_rate_limiter("redis::per-user").unwrap();
    let b = keyed(&backend(&server, "k2:").await, "redis::per-user", 2);
    let mut admitted = 0;
    for _ in 0..50 {
        admitted += u32::from(per_user(7).await.is_ok());
        admitted += u32::from(b.try_acquire(&7_u64).is_ok());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(admitted, 2, "user 7's quota of two, for both processes");
    assert!(per_user(8).await.is_ok(), "user 8's own quota");

    #[resilience::circuit_breaker(name = "redis::per-host", key = host)]
    async fn per_host(host: &str) -> Result<(), Error> {
        let _ = host;
        Ok(())
    }
    per_host("a.example").await.unwrap();
    let refused = a.share_circuit_breaker("redis::per-host").unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unsupported);
    assert!(refused.to_string().contains("keyed"), "{refused}");
    let unknown = a.share_rate_limiter("redis::nobody").unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::Unknown);
}

#[resilience::rate_limit(name = "redis::both", max_requests = 2, window = "1h", key = user)]
async fn both_per_user(user: u64) -> Result<(), Error> {
    let _ = user;
    Ok(())
}

#[resilience::rate_limit(name = "redis::both", max_requests = 5, window = "1h")]
async fn both_in_all() -> Result<(), Error> {
    Ok(())
}

/// A name declared both keyed and without a key is two instances, and sharing the name
/// shares both: each user's quota, and the quota of every call without a key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_both_keyed_and_plain_has_both_shared() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = backend(&server, "k4:").await;
    a.share_rate_limiter("redis::both").unwrap();
    let b = backend(&server, "k4:").await;
    let others = keyed(&b, "redis::both", 2);
    let other = Arc::new(
        resilience::RateLimiter::new(
            "redis::both",
            RateLimiterConfig::DEFAULT
                .max_requests(5)
                .window(Duration::from_secs(3600)),
        )
        .unwrap(),
    );
    b.share_limiter(&other, WhenUnavailable::Reject).unwrap();
    let keyed_admitted = admitted(
        20,
        || both_per_user(7),
        || async { others.try_acquire(&7_u64) },
    )
    .await;
    assert_eq!(keyed_admitted, 2, "user 7's quota, for both processes");
    let plain_admitted = admitted(20, both_in_all, || async { other.try_acquire() }).await;
    assert_eq!(
        plain_admitted, 5,
        "the name's quota without a key, for both processes"
    );
    let plain = resilience::registry().rate_limiter("redis::both").unwrap();
    let keyed = resilience::registry()
        .keyed_rate_limiter("redis::both")
        .unwrap();
    assert!(plain.stats().shared.is_some() && keyed.stats().shared.is_some());
    let again = a.share_rate_limiter("redis::both").unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Unsupported, "{again}");
}

/// With the server paused, a keyed name set to reject refuses a key within the timeout,
/// and every other key at once: the name is unreachable, not each key on its own, so one
/// key's timeout is all the name waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_costs_a_keyed_name_one_timeout_not_one_per_key() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let timeout = Duration::from_millis(100);
    let settings = resilience::redis::Settings::DEFAULT
        .key_prefix("k3:")
        .timeout(timeout);
    let backend = Backend::connect_with(&server.url(), settings)
        .await
        .unwrap();
    let keyed = keyed(&backend, "per-user", 3);
    // How the name stands with Redis, by its stats: (available, fallbacks).
    let shared = || keyed.stats().shared.map(|s| (s.available, s.fallbacks));
    assert_eq!(shared(), Some((true, 0)));
    server.signal("-STOP");
    let start = std::time::Instant::now();
    let refused = keyed.call("ada", || async { Ok::<_, Error>(()) }).await;
    assert!(
        matches!(refused, Err(Error::RateLimited { .. })),
        "{refused:?}"
    );
    let took = start.elapsed();
    assert!(took >= timeout, "asked Redis, and waited for it: {took:?}");
    assert!(took < timeout + Duration::from_millis(300), "{took:?}");
    for user in ["bob", "eve", "mallory"] {
        let start = std::time::Instant::now();
        assert!(keyed
            .call(user, || async { Ok::<_, Error>(()) })
            .await
            .is_err());
        assert!(
            start.elapsed() < timeout,
            "{user}: the name is known to be unreachable: {:?}",
            start.elapsed()
        );
    }
    // The name's stats say it fell back, once, whichever key's call found it.
    assert_eq!(shared(), Some((false, 1)));
    server.signal("-CONT");
    // The refresh (every second) finds Redis back for the name.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shared() != Some((true, 1)) {
        assert!(std::time::Instant::now() < deadline, "{:?}", keyed.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(keyed
        .call("ada", || async { Ok::<_, Error>(()) })
        .await
        .is_ok());
}
