//! Keyed instances (`key = expr`, `Keyed<P>`): one state per key, in bounded memory.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use resilience::{
    circuit_breaker, rate_limit, registry, retry, CircuitBreakerConfig, CircuitState, ConfigError,
    Error, Keyed, KeyedCircuitBreaker, KeyedConfig, KeyedRateLimiter, Kind, RateLimiterConfig,
    SlidingWindow, Stats, WhenFull,
};
use tokio::time::advance;

const MINUTE: Duration = Duration::from_secs(60);

struct User {
    id: u64,
    name: String,
}

fn per_minute(max_requests: u32) -> RateLimiterConfig {
    RateLimiterConfig::DEFAULT
        .max_requests(max_requests)
        .window(MINUTE)
}

fn limiter(
    name: &str,
    max_requests: u32,
    max_keys: usize,
    when_full: WhenFull,
) -> KeyedRateLimiter {
    let config = KeyedConfig::new(per_minute(max_requests))
        .max_keys(max_keys)
        .when_full(when_full);
    Keyed::new(name, config).unwrap()
}

fn breakers(name: &str, max_keys: usize, when_full: WhenFull) -> KeyedCircuitBreaker {
    let config = KeyedConfig::new(CircuitBreakerConfig::DEFAULT.failure_threshold(2))
        .max_keys(max_keys)
        .when_full(when_full);
    Keyed::new(name, config).unwrap()
}

#[tokio::test(start_paused = true)]
async fn each_key_has_its_own_quota_under_one_name() {
    #[rate_limit(name = "keyed::api", max_requests = 2, window = "1m", key = user.id)]
    async fn handle(user: &User, request: u32) -> Result<u32, Error> {
        Ok(request)
    }
    let ada = User {
        id: 1,
        name: "ada".into(),
    };
    let bob = User {
        id: 2,
        name: "bob".into(),
    };
    assert_eq!(handle(&ada, 1).await, Ok(1));
    assert_eq!(handle(&ada, 2).await, Ok(2));
    assert!(matches!(
        handle(&ada, 3).await,
        Err(Error::RateLimited { .. })
    ));
    assert_eq!(handle(&bob, 4).await, Ok(4), "bob's quota is his own");
    assert_eq!(handle(&bob, 5).await, Ok(5));
    assert!(matches!(
        handle(&bob, 6).await,
        Err(Error::RateLimited { .. })
    ));
    advance(MINUTE / 2).await;
    assert_eq!(
        handle(&ada, 7).await,
        Ok(7),
        "a token back after half the window"
    );
    assert!(handle(&ada, 8).await.is_err());

    let api = registry().keyed_rate_limiter("keyed::api").unwrap();
    let ada_stats = api.get(&1_u64).unwrap().stats();
    assert_eq!((ada_stats.admitted, ada_stats.rejections), (3, 2));
    assert_eq!(api.get(&2_u64).unwrap().stats().admitted, 2);
    assert!(api.get(&3_u64).is_none(), "a lookup makes no key");
    assert_eq!(api.len(), 2);
    assert_eq!(ada.name, "ada");
}

/// By hand, a known key's rejection (made outside the shard's lock) is the key's own: its
/// error names the instance and says when a permit is back, it is counted once on that key,
/// and the key is neither lost nor let through meanwhile.
#[tokio::test(start_paused = true)]
async fn a_known_key_turned_away_by_hand_gets_its_own_error_and_count() {
    let api = limiter("keyed::by_hand", 2, 10, WhenFull::EvictLeastRecentlyUsed);
    assert_eq!(api.try_acquire("ada"), Ok(()), "a new key");
    assert_eq!(api.try_acquire("ada"), Ok(()), "a known key");
    for _ in 0..2 {
        assert_eq!(
            api.try_acquire("ada"),
            Err(Error::RateLimited {
                name: "keyed::by_hand".into(),
                retry_after: MINUTE / 2,
            })
        );
    }
    assert_eq!(
        api.try_acquire("bob"),
        Ok(()),
        "another key's quota is its own"
    );
    let ada = api.get("ada").expect("a refused key stays held");
    let stats = ada.stats();
    assert_eq!((stats.admitted, stats.rejections), (2, 2));
    advance(MINUTE / 2).await;
    assert_eq!(
        api.try_acquire("ada"),
        Ok(()),
        "a token back after half the window"
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_may_be_a_reference_and_is_owned_only_when_first_seen() {
    #[rate_limit(name = "keyed::hosts", max_requests = 1, window = "1m", key = host.as_str())]
    async fn fetch(host: String) -> Result<String, Error> {
        Ok(host)
    }
    #[rate_limit(name = "keyed::names", max_requests = 1, window = "1m", key = &user.name)]
    async fn greet(user: &User) -> Result<(), Error> {
        Ok(())
    }
    assert_eq!(fetch("a.example".into()).await.unwrap(), "a.example");
    assert!(fetch("a.example".into()).await.is_err());
    assert!(fetch("b.example".into()).await.is_ok());
    let spawned = tokio::spawn(fetch("c.example".into())); // the call's future is `Send`
    assert_eq!(spawned.await.unwrap().unwrap(), "c.example");
    let hosts = registry().keyed_rate_limiter("keyed::hosts").unwrap();
    assert_eq!(
        hosts.get("a.example").unwrap().stats().rejections,
        1,
        "stored as `String`, found by `&str`"
    );

    let ada = User {
        id: 1,
        name: "ada".into(),
    };
    greet(&ada).await.unwrap();
    assert!(greet(&ada).await.is_err());
    let names = registry().keyed_rate_limiter("keyed::names").unwrap();
    assert!(
        names.get("ada").is_some(),
        "`&String` keys are `String`s, found by `&str`"
    );
}

#[tokio::test(start_paused = true)]
async fn each_key_has_its_own_breaker_and_the_registry_shows_the_open_ones() {
    #[derive(Debug)]
    enum HostError {
        Down,
        Rejected(Error),
    }
    impl From<Error> for HostError {
        fn from(error: Error) -> Self {
            HostError::Rejected(error)
        }
    }
    #[circuit_breaker(name = "keyed::per_host", failure_threshold = 2, recovery_timeout = "30s", key = host)]
    async fn get(host: &str, up: bool) -> Result<&'static str, HostError> {
        if up {
            Ok("ok")
        } else {
            Err(HostError::Down)
        }
    }
    for _ in 0..2 {
        assert!(matches!(get("db-1", false).await, Err(HostError::Down)));
    }
    assert!(
        matches!(
            get("db-1", true).await,
            Err(HostError::Rejected(Error::CircuitOpen { .. }))
        ),
        "db-1's breaker is open"
    );
    assert_eq!(get("db-2", true).await.unwrap(), "ok", "db-2's is not");
    let _ = get("db-3", false).await;

    let hosts = registry().keyed_circuit_breaker("keyed::per_host").unwrap();
    assert_eq!(hosts.get("db-1").unwrap().state(), CircuitState::Open);
    assert_eq!(hosts.get("db-3").unwrap().stats().failures, 1);
    assert_eq!(hosts.open(), ["\"db-1\""]);

    let snapshot = registry().snapshot();
    let entries: Vec<_> = snapshot
        .instances
        .iter()
        .filter(|i| &*i.name == "keyed::per_host")
        .collect();
    assert_eq!(entries.len(), 1, "one entry for the whole keyed instance");
    let Stats::KeyedCircuitBreaker(stats) = entries[0].stats else {
        panic!("{:?}", entries[0].stats)
    };
    assert_eq!((stats.keys, stats.open_keys, stats.evictions), (3, 1, 0));
    assert_eq!(entries[0].kind, Kind::CircuitBreaker);
    assert_eq!(entries[0].open_keys, ["\"db-1\""]);
    assert!(
        snapshot.to_string().contains("3 keys, 1 open"),
        "{snapshot}"
    );
    assert!(
        snapshot.to_string().contains("open: \"db-1\""),
        "{snapshot}"
    );

    advance(Duration::from_secs(30)).await;
    assert_eq!(
        get("db-1", true).await.unwrap(),
        "ok",
        "probed after its own recovery timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn the_key_is_evaluated_once_per_call_however_many_attempts() {
    static EVALUATED: AtomicU32 = AtomicU32::new(0);
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    fn counted(id: u64) -> u64 {
        EVALUATED.fetch_add(1, SeqCst);
        id
    }
    #[retry(max_attempts = 3, base_delay = "1ms", jitter = false)]
    #[rate_limit(name = "keyed::once", max_requests = 100, window = "1m", key = counted(id))]
    async fn flaky(id: u64) -> Result<(), Error> {
        ATTEMPTS.fetch_add(1, SeqCst);
        assert_eq!(id, 7);
        Err(Error::Timeout {
            name: "downstream".into(),
            after: Duration::from_secs(1),
        })
    }
    assert!(flaky(7).await.is_err());
    assert_eq!(ATTEMPTS.load(SeqCst), 3);
    assert_eq!(
        EVALUATED.load(SeqCst),
        1,
        "one evaluation for the call, not one per attempt"
    );
    let limiter = registry().keyed_rate_limiter("keyed::once").unwrap();
    assert_eq!(limiter.get(&7_u64).unwrap().stats().admitted, 3);
}

#[tokio::test(start_paused = true)]
async fn the_attribute_sets_the_bound_and_what_happens_at_it() {
    #[rate_limit(name = "keyed::bounded", max_requests = 1, window = "1m", key = id, max_keys = 2, when_full = "reject_new_key")]
    async fn call(id: u32) -> Result<(), Error> {
        Ok(())
    }
    call(1).await.unwrap();
    call(2).await.unwrap();
    assert_eq!(
        call(3).await,
        Err(Error::KeysFull {
            name: "keyed::bounded".into(),
            max_keys: 2
        })
    );
    let limiter = registry().keyed_rate_limiter("keyed::bounded").unwrap();
    assert_eq!(limiter.config().when_full, WhenFull::RejectNewKey);
    assert_eq!(limiter.stats().rejected_keys, 1);
}

#[tokio::test(start_paused = true)]
async fn idle_keys_are_evicted_first_and_busy_ones_keep_their_count() {
    let limiter = limiter("keyed::idle_first", 2, 2, WhenFull::EvictLeastRecentlyUsed);
    limiter.try_acquire("old").unwrap();
    advance(MINUTE / 2).await; // "old" has its token back: idle
    limiter.try_acquire("busy").unwrap();
    limiter.try_acquire("busy").unwrap();
    limiter.try_acquire("new").unwrap();
    assert!(limiter.get("old").is_none(), "the idle key went");
    assert!(
        limiter.try_acquire("busy").is_err(),
        "the busy key kept its count though it was used less recently"
    );
    let stats = limiter.stats();
    assert_eq!(
        (stats.keys, stats.evictions, stats.rejected_keys),
        (2, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn with_every_key_busy_the_least_recently_used_goes() {
    let limiter = limiter("keyed::lru", 2, 3, WhenFull::EvictLeastRecentlyUsed);
    for key in ["a", "b", "c"] {
        limiter.try_acquire(key).unwrap();
    }
    limiter.try_acquire("a").unwrap(); // "b" is now the least recently used
    limiter.try_acquire("d").unwrap();
    assert!(limiter.get("b").is_none());
    assert!(limiter.get("a").is_some() && limiter.get("c").is_some());
    assert_eq!(
        limiter.get("a").unwrap().stats().admitted,
        2,
        "a kept its count"
    );
    limiter.try_acquire("c").unwrap(); // "a" is now the least recently used
    limiter.try_acquire("e").unwrap();
    assert!(limiter.get("a").is_none());
    assert!(limiter.get("c").is_some() && limiter.get("d").is_some());
    assert_eq!(limiter.stats().evictions, 2);
}

/// Under a flood of one-call keys, a hot key used after each new arrival is more recent
/// than that arrival: never the one dropped, so never given its quota afresh. (Stamped by
/// arrivals alone, the hot key and the newest key tied, and the table's order chose.)
#[tokio::test(start_paused = true)]
async fn a_hot_key_is_never_evicted_by_a_flood_of_new_keys() {
    let api = limiter("keyed::flooded", 1, 2, WhenFull::EvictLeastRecentlyUsed);
    api.try_acquire("ada").unwrap();
    for i in 0..100_u64 {
        api.try_acquire(&format!("visitor-{i}")).unwrap();
        assert!(
            api.try_acquire("ada").is_err(),
            "ada's quota came back at visitor {i}"
        );
    }
    assert_eq!(api.get("ada").unwrap().stats().rejections, 100);
    assert_eq!(
        api.stats().evictions,
        99,
        "each visitor but the first made room"
    );
    // Each instance hashes with keys of its own, so the table's order differs from one to
    // the next: which key goes must not depend on it.
    for run in 0..50 {
        let api = limiter(
            &format!("keyed::order_{run}"),
            1,
            2,
            WhenFull::EvictLeastRecentlyUsed,
        );
        for key in ["a", "b", "a", "c"] {
            _ = api.try_acquire(key);
        }
        assert!(
            api.get("a").is_some(),
            "a, used after b arrived, was dropped"
        );
        assert!(
            api.get("b").is_none(),
            "b, the least recently used, was kept"
        );
    }
}

/// A rate-mode breaker whose window holds successes only is as far from opening as a new
/// one: its key gives up its place. One failure in the window keeps it.
#[tokio::test(start_paused = true)]
async fn a_rate_mode_key_with_only_successes_gives_up_its_place() {
    let rated = CircuitBreakerConfig::DEFAULT
        .failure_rate_threshold(50)
        .sliding_window(SlidingWindow::Calls(10));
    let config = KeyedConfig::new(rated)
        .max_keys(1)
        .when_full(WhenFull::RejectNewKey);
    let hosts = KeyedCircuitBreaker::new("keyed::rated", config).unwrap();
    hosts.try_acquire("a").unwrap().success();
    hosts
        .try_acquire("b")
        .expect("a's window holds successes only")
        .failure();
    assert!(matches!(
        hosts.try_acquire("c"),
        Err(Error::KeysFull { .. })
    ));
    assert_eq!(hosts.stats().evictions, 1);
}

#[tokio::test(start_paused = true)]
async fn with_every_key_busy_a_new_key_is_rejected_when_so_configured() {
    let limiter = limiter("keyed::reject", 2, 2, WhenFull::RejectNewKey);
    limiter.try_acquire("a").unwrap();
    limiter.try_acquire("b").unwrap();
    assert_eq!(
        limiter.try_acquire("c"),
        Err(Error::KeysFull {
            name: "keyed::reject".into(),
            max_keys: 2
        })
    );
    assert_eq!(limiter.stats().rejected_keys, 1);
    assert_eq!(limiter.stats().evictions, 0);
    advance(MINUTE / 2).await; // "a" and "b" have their token back: idle
    limiter.try_acquire("c").unwrap();
    assert_eq!(
        limiter.stats().evictions,
        2,
        "idle keys go even when new keys are refused otherwise"
    );
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_is_never_evicted() {
    let hosts = breakers("keyed::pinned", 2, WhenFull::EvictLeastRecentlyUsed);
    for host in ["a", "b"] {
        hosts.entry(host).unwrap().record_failure();
        hosts.entry(host).unwrap().record_failure();
    }
    assert_eq!(hosts.open(), ["\"a\"", "\"b\""]);
    assert!(
        matches!(hosts.try_acquire("c"), Err(Error::KeysFull { .. })),
        "nothing may go, not even by LRU"
    );
    advance(Duration::from_secs(60)).await; // half-open now: still pinned
    assert!(matches!(
        hosts.try_acquire("c"),
        Err(Error::KeysFull { .. })
    ));
    let stats = hosts.stats();
    assert_eq!(
        (
            stats.keys,
            stats.evictions,
            stats.rejected_keys,
            stats.open_keys
        ),
        (2, 0, 2, 2)
    );
    // A probe that succeeds twice closes "a": clean again, so it is the one to go.
    for _ in 0..2 {
        hosts.try_acquire("a").unwrap().success();
    }
    hosts.try_acquire("c").unwrap().success();
    assert!(hosts.get("a").is_none());
    assert_eq!(hosts.get("b").unwrap().state(), CircuitState::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn a_breaker_with_counted_failures_goes_only_as_least_recently_used() {
    let hosts = breakers("keyed::counted", 2, WhenFull::EvictLeastRecentlyUsed);
    hosts.entry("failing").unwrap().record_failure();
    hosts.entry("clean").unwrap().record_success();
    hosts.try_acquire("new").unwrap().success();
    assert!(
        hosts.get("clean").is_none(),
        "the clean key is idle: it goes first"
    );
    assert_eq!(hosts.get("failing").unwrap().stats().failures, 1);
    hosts.entry("new").unwrap().record_failure();
    hosts.entry("failing").unwrap().record_success(); // consecutive count back to 0: idle
    hosts.try_acquire("newer").unwrap().success();
    assert!(hosts.get("failing").is_none());
    assert!(hosts.get("new").is_some());
}

#[tokio::test(start_paused = true)]
async fn a_key_in_use_by_a_running_call_is_never_evicted() {
    let limiter = Arc::new(limiter(
        "keyed::in_use",
        5,
        1,
        WhenFull::EvictLeastRecentlyUsed,
    ));
    let (started, release) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let running = tokio::spawn({
        let (limiter, started, release) = (
            Arc::clone(&limiter),
            Arc::clone(&started),
            Arc::clone(&release),
        );
        async move {
            limiter
                .call("slow", || async {
                    started.notify_one();
                    release.notified().await;
                    Ok::<_, Error>(())
                })
                .await
        }
    });
    started.notified().await;
    advance(MINUTE).await; // "slow" has its quota back, but its call runs on
    assert!(matches!(
        limiter.try_acquire("other"),
        Err(Error::KeysFull { .. })
    ));
    release.notify_one();
    running.await.unwrap().unwrap();
    limiter.try_acquire("other").unwrap();
    assert!(
        limiter.get("slow").is_none(),
        "idle and no longer in use: it went"
    );
}

#[tokio::test(start_paused = true)]
async fn a_key_whose_instance_is_held_by_hand_stays_until_the_handle_drops() {
    let limiter = limiter("keyed::handle", 5, 1, WhenFull::EvictLeastRecentlyUsed);
    limiter.try_acquire("ada").unwrap();
    let ada = limiter.get("ada").unwrap();
    advance(MINUTE).await; // idle: her quota is full again
    assert!(matches!(
        limiter.try_acquire("bob"),
        Err(Error::KeysFull { .. })
    ));
    assert_eq!(ada.stats().admitted, 1, "the handle reads her limiter");
    drop(ada);
    limiter.try_acquire("bob").unwrap();
    assert!(limiter.get("ada").is_none(), "idle and let go: it went");
}

/// A config of the wrong shape for a declared name says so, and how to write it, rather
/// than that nothing is declared.
#[test]
fn configuring_a_keyed_name_with_a_plain_config_says_it_is_keyed() {
    // Declared only: configuring comes before any call.
    #[allow(dead_code)]
    #[rate_limit(name = "keyed::shaped", max_requests = 1, window = "1m", key = id)]
    async fn keyed(id: u8) -> Result<(), Error> {
        Ok(())
    }
    #[allow(dead_code)]
    #[rate_limit(name = "keyed::unshaped", max_requests = 1, window = "1m")]
    async fn plain() -> Result<(), Error> {
        Ok(())
    }
    let error = registry()
        .configure("keyed::shaped", per_minute(3))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "rate limiter `keyed::shaped` is declared keyed (`key = ..`): configure it with `KeyedConfig::new(config)`"
    );
    assert!(matches!(
        registry().configure("keyed::unshaped", KeyedConfig::new(per_minute(3))),
        Err(ConfigError::OtherShape { keyed: false, .. })
    ));
    assert!(matches!(
        registry().configure("keyed::nowhere", per_minute(3)),
        Err(ConfigError::Undeclared { .. })
    ));
    registry()
        .configure("keyed::shaped", KeyedConfig::new(per_minute(3)))
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_keyed_instance_can_be_configured_by_name_before_its_first_call() {
    #[rate_limit(name = "keyed::configured", max_requests = 1, window = "1m", key = id)]
    async fn call(id: u8) -> Result<(), Error> {
        Ok(())
    }
    registry()
        .configure(
            "keyed::configured",
            KeyedConfig::new(per_minute(3)).max_keys(7),
        )
        .unwrap();
    for _ in 0..3 {
        call(1).await.unwrap();
    }
    assert!(call(1).await.is_err());
    let limiter = registry().keyed_rate_limiter("keyed::configured").unwrap();
    assert_eq!(limiter.config().max_keys, 7);
    // `registry().reset()` drops the keys too (tests/reset.rs): here only this instance is
    // reset, since a registry-wide reset would reset the other tests' instances under them.
    limiter.reset();
    assert!(limiter.is_empty(), "reset drops every key");
    call(1).await.unwrap();
}

#[test]
fn concurrent_calls_never_take_more_than_each_key_s_quota() {
    const KEYS: u64 = 8;
    const QUOTA: u32 = 50;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // A window no run outlasts: exactly QUOTA admissions per key, however they interleave.
        let config = RateLimiterConfig::DEFAULT
            .max_requests(QUOTA)
            .window(Duration::from_secs(3600))
            .max_wait(Duration::from_millis(5));
        let limiter: Arc<KeyedRateLimiter> =
            Arc::new(Keyed::new("keyed::threads", KeyedConfig::new(config)).unwrap());
        let admitted: Arc<[AtomicU32; KEYS as usize]> = Arc::new(Default::default());
        let tasks: Vec<_> = (0..16)
            .map(|task| {
                let (limiter, admitted) = (Arc::clone(&limiter), Arc::clone(&admitted));
                tokio::spawn(async move {
                    for i in 0..200_u64 {
                        let key = (task + i) % KEYS;
                        let call = limiter.call(&key, || async { Ok::<_, Error>(()) });
                        // Every third call is cancelled while it may be waiting: it must
                        // take no permit.
                        let outcome = if i % 3 == 0 {
                            tokio::time::timeout(Duration::from_micros(100), call)
                                .await
                                .ok()
                        } else {
                            Some(call.await)
                        };
                        if let Some(Ok(())) = outcome {
                            admitted[key as usize].fetch_add(1, SeqCst);
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        for key in 0..KEYS {
            let stats = limiter.get(&key).unwrap().stats();
            assert!(stats.admitted <= u64::from(QUOTA), "key {key}: {stats:?}");
            assert_eq!(
                stats.admitted,
                u64::from(QUOTA),
                "key {key}: 400 calls for 50 permits"
            );
            let seen = admitted[key as usize].load(SeqCst);
            // A cancelled call may have been admitted just before it was dropped.
            assert!(seen <= QUOTA, "key {key}: {seen} admitted");
        }
    });
}

#[tokio::test(start_paused = true)]
async fn a_method_keys_by_its_receiver_s_fields_under_a_retry() {
    struct Client {
        region: String,
        calls: u32,
    }
    impl Client {
        #[retry(max_attempts = 2, base_delay = "1ms", jitter = false)]
        #[circuit_breaker(name = "keyed::regions", failure_threshold = 2, key = self.region.as_str())]
        async fn fetch(&mut self, fail: bool) -> Result<u32, Error> {
            self.calls += 1;
            if fail {
                Err(Error::Timeout {
                    name: "downstream".into(),
                    after: Duration::from_secs(1),
                })
            } else {
                Ok(self.calls)
            }
        }
    }
    let mut east = Client {
        region: "east".into(),
        calls: 0,
    };
    let mut west = Client {
        region: "west".into(),
        calls: 0,
    };
    assert!(
        east.fetch(true).await.is_err(),
        "two attempts, two failures: east opens"
    );
    assert!(matches!(
        east.fetch(false).await,
        Err(Error::CircuitOpen { .. })
    ));
    assert_eq!(west.fetch(false).await, Ok(1));
    let regions = registry().keyed_circuit_breaker("keyed::regions").unwrap();
    assert_eq!(regions.open(), ["\"east\""]);
    assert_eq!(east.calls, 2);
}

#[tokio::test(start_paused = true)]
async fn the_per_name_metric_families_leave_keyed_instances_out() {
    #[rate_limit(name = "keyed::metrics", max_requests = 1, window = "1m", key = id)]
    async fn call(id: u8) -> Result<(), Error> {
        Ok(())
    }
    call(1).await.unwrap();
    let _ = call(1).await;
    let text = resilience::metrics::encode_text();
    // One state per name is what these families describe; a keyed instance has one per key.
    assert!(!text.contains("keyed::metrics"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_new_key_turned_away_is_not_retried() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(name = "keyed::no_retry", max_attempts = 3, base_delay = "1ms")]
    #[rate_limit(name = "keyed::full", max_requests = 1, window = "1m", key = id, max_keys = 1, when_full = "reject_new_key")]
    async fn call(id: u32) -> Result<(), Error> {
        ATTEMPTS.fetch_add(1, SeqCst);
        Ok(())
    }
    call(1).await.unwrap();
    // The key was looked up once, as the call started: another attempt meets the same
    // refusal, so there is none.
    assert!(matches!(call(2).await, Err(Error::KeysFull { .. })));
    assert_eq!(ATTEMPTS.load(SeqCst), 1);
    assert_eq!(
        registry().retry("keyed::no_retry").unwrap().stats().retries,
        0
    );
}

#[test]
fn keys_held_keep_their_exact_quota_while_other_threads_flood_new_keys() {
    const ACTIVE: u64 = 8;
    const QUOTA: u32 = 50;
    const FLOODED: u64 = 5_000;
    let config = KeyedConfig::new(
        RateLimiterConfig::DEFAULT
            .max_requests(QUOTA)
            .window(Duration::from_secs(3600)),
    )
    .max_keys(64)
    .when_full(WhenFull::RejectNewKey);
    let limiter: Arc<KeyedRateLimiter> = Arc::new(Keyed::new("keyed::churn", config).unwrap());
    for key in 0..ACTIVE {
        limiter.try_acquire(&key).unwrap();
    }
    let threads: Vec<_> = (0..4_u64)
        .map(|thread| {
            let limiter = Arc::clone(&limiter);
            std::thread::spawn(move || {
                if thread < 2 {
                    // Flooders: each key once; rejected once the instance is full of keys
                    // that are all busy (nothing is idle in an hour-long window).
                    for i in 0..FLOODED {
                        let _ = limiter.try_acquire(&(1_000_000 * (thread + 1) + i));
                    }
                } else {
                    for _ in 0..100 {
                        for key in 0..ACTIVE {
                            let _ = limiter.try_acquire(&key);
                        }
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for key in 0..ACTIVE {
        let stats = limiter
            .get(&key)
            .expect("a busy key is never dropped")
            .stats();
        assert_eq!(stats.admitted, u64::from(QUOTA), "key {key}: {stats:?}");
    }
    let stats = limiter.stats();
    assert_eq!(stats.keys, 64);
    assert_eq!(stats.rejected_keys, 2 * FLOODED - (64 - ACTIVE));
    assert_eq!(stats.evictions, 0);
}

/// Under a failure-rate rule a breaker's window is state too: a key with a failure in its
/// window is not idle, though no consecutive failure is counted, and is not dropped for a
/// new key.
#[tokio::test(start_paused = true)]
async fn a_rate_mode_breaker_with_calls_in_its_window_is_not_idle() {
    let config = KeyedConfig::new(
        CircuitBreakerConfig::DEFAULT
            .failure_rate_threshold(50)
            .sliding_window(resilience::SlidingWindow::Time(Duration::from_secs(10)))
            .minimum_calls(10),
    )
    .max_keys(1)
    .when_full(WhenFull::RejectNewKey);
    let breakers: KeyedCircuitBreaker = Keyed::new("keyed::rate_mode", config).unwrap();
    breakers.try_acquire(&"a").unwrap().failure();
    let refused = breakers.try_acquire(&"b").map(drop);
    assert!(
        matches!(refused, Err(Error::KeysFull { .. })),
        "{refused:?}"
    );
    assert_eq!(
        breakers.get(&"a").unwrap().stats().window.unwrap().failures,
        1
    );
    // Once the failure has left the window, the key is idle and makes room.
    advance(Duration::from_secs(10)).await;
    breakers.try_acquire(&"b").unwrap().success();
    assert!(breakers.get(&"a").is_none());
}
