//! A shared breaker against a real `redis-server`, with two "processes" in one: two
//! breakers of one name, each shared through a backend of its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{self, RedisServer};
use resilience::redis::{Backend, Settings};
use resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitState, Error};

fn config() -> CircuitBreakerConfig {
    CircuitBreakerConfig::DEFAULT
        .failure_threshold(3)
        .recovery_timeout(Duration::from_millis(400))
        .half_open_max_calls(1)
        .success_threshold(1)
}

async fn shared(server: &RedisServer, prefix: &str, settings: Settings) -> Arc<CircuitBreaker> {
    shared_with(server, prefix, settings, config()).await
}

/// The breaker `payments` of `config`, shared under `prefix`, once its first read of the
/// fleet's state is in.
async fn shared_with(
    server: &RedisServer,
    prefix: &str,
    settings: Settings,
    config: CircuitBreakerConfig,
) -> Arc<CircuitBreaker> {
    let backend = Backend::connect_with(&server.url(), settings.key_prefix(prefix))
        .await
        .unwrap();
    let breaker = support::shared_breaker(&backend, "payments", config);
    settle().await;
    breaker
}

/// How soon a change must reach every process: generous for a loaded 2-core host, and
/// still half the default 1s refresh, so that only the script's reply and pub/sub can have
/// carried it.
const SOON: Duration = Duration::from_millis(500);

/// Long enough for the first read of the fleet's state on loopback.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn until(what: &str, within: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    start.elapsed()
}

fn fail(breaker: &CircuitBreaker) {
    breaker.try_acquire().expect("admitted").failure();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_in_one_process_open_the_other_and_a_probe_closes_both() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = shared(&server, "t1:", support::patient()).await;
    let b = shared(&server, "t1:", support::patient()).await;
    fail(&a);
    fail(&b);
    assert!(
        a.is_closed() && b.is_closed(),
        "two failures of three, counted for the fleet"
    );
    fail(&a);
    // `b` hears of it by pub/sub and `a` by its script's reply: either may be first. The
    // bound is well under the 1s refresh, so only those two could have told them.
    let took = until("both see the fleet open", SOON, || {
        a.is_open() && b.is_open()
    })
    .await;
    eprintln!("opened in both processes after {took:?}");
    let answer = b.try_acquire().map(drop);
    assert!(
        matches!(
            answer,
            Err(Error::CircuitOpen {
                state: CircuitState::Open,
                ..
            })
        ),
        "{answer:?}"
    );

    // Half-open: one probe for the fleet. The first call asks Redis for a lease and is
    // turned away; the lease goes to a later call.
    until("half-open", Duration::from_secs(2), || a.is_half_open()).await;
    let mut probe = None;
    until("a probe lease", Duration::from_secs(1), || {
        probe = a.try_acquire().ok();
        probe.is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        b.try_acquire().is_err(),
        "the fleet's one probe slot is taken"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        b.try_acquire().is_err(),
        "still taken, after b's own lease request"
    );
    probe.unwrap().success();
    until("both closed", SOON, || a.is_closed() && b.is_closed()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_after_failures_resets_the_fleet_s_count_and_a_clean_success_sends_nothing() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // No refresh during the count: only calls could send commands.
    let a = shared(
        &server,
        "t2:",
        support::patient().refresh(Duration::from_secs(3600)),
    )
    .await;
    let evals = || server.calls("evalsha") + server.calls("eval");
    // Redis learns each script on its first use (one more EVALSHA, then EVAL): done here.
    fail(&a);
    a.try_acquire().unwrap().success();
    settle().await;
    let before = evals();
    for _ in 0..1000 {
        a.try_acquire().unwrap().success();
    }
    settle().await;
    assert_eq!(
        evals(),
        before,
        "a clean closed breaker's successes send nothing"
    );

    fail(&a);
    fail(&a);
    a.try_acquire().unwrap().success(); // resets the fleet's count, once
    a.try_acquire().unwrap().success();
    settle().await;
    assert_eq!(evals(), before + 3, "two failures and one reset");
    let before = evals();
    fail(&a);
    fail(&a);
    settle().await;
    assert!(a.is_closed(), "the count restarted after the reset");
    assert_eq!(evals(), before + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_name_under_two_prefixes_is_two_breakers() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = shared(&server, "service-a:", support::patient()).await;
    let b = shared(&server, "service-b:", support::patient()).await;
    for _ in 0..3 {
        fail(&a);
    }
    until("a open", SOON, || a.is_open()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(b.is_closed());
    let ttl: i64 = server
        .command("PTTL service-a:{payments}:breaker")
        .trim_start_matches(':')
        .parse()
        .unwrap();
    // Open, the state is kept the TTL past its deadline (400 ms away at most).
    assert!(
        ttl > 3_600_000 && ttl <= 3_600_400,
        "every key has a TTL: {ttl}"
    );
}

/// An open breaker's state outlives a TTL shorter than its recovery timeout: the fleet
/// stays open to the deadline and then probes, rather than closing when the key expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_breaker_outlives_a_ttl_shorter_than_its_recovery() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = support::patient().ttl(Duration::from_secs(1));
    let config = config().recovery_timeout(Duration::from_secs(3));
    let breaker = shared_with(&server, "t5:", settings, config).await;
    for _ in 0..3 {
        fail(&breaker);
    }
    until("open", SOON, || breaker.is_open()).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(breaker.is_open(), "open past the TTL, to its deadline");
    until("half-open at the deadline", Duration::from_secs(2), || {
        breaker.is_half_open()
    })
    .await;
}

/// Numbers no script writes under the breaker's key (`nan`, `inf`, a generation far ahead
/// of the clock) are a malformed state: the process falls back to its own breaker, which
/// admits, rather than holding the fleet's open; and once the key is gone, a fresh state
/// is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_numbers_under_the_key_are_a_fallback_never_a_breaker_held_open() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = support::patient().refresh(Duration::from_millis(50));
    // Newer than the state the process mirrors (a higher generation and version), so
    // that the process would take it.
    for garbage in [
        "s o g {next} u nan v 99",
        "s o g {next} u inf v 99",
        "s o g 99999999999999 u 0 v 99",
    ] {
        server.command("FLUSHALL");
        let breaker = shared(&server, "t6:", settings.clone()).await;
        let generation: u64 = server
            .command("HGET t6:{payments}:breaker g")
            .parse()
            .unwrap();
        let garbage = garbage.replace("{next}", &(generation + 1).to_string());
        server.command(&format!("HSET t6:{{payments}}:breaker {garbage}"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            breaker.try_acquire().is_ok(),
            "{garbage}: falls back, admits"
        );
        server.command("DEL t6:{payments}:breaker");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(breaker.is_closed(), "{garbage}: a fresh state after");
        assert!(breaker.try_acquire().is_ok());
    }
}

/// A breaker reloaded after it was shared reports under its new config: a threshold
/// lowered to one opens the fleet at the next failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_reaches_the_fleet_with_the_next_report() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = shared(&server, "t4:", support::patient()).await;
    let b = shared(&server, "t4:", support::patient()).await;
    a.reconfigure(config().failure_threshold(1)).unwrap();
    fail(&a);
    until("the fleet opens at one failure", SOON, || {
        a.is_open() && b.is_open()
    })
    .await;
}

/// A reload cannot give a shared breaker what sharing refuses: its config stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_to_a_config_sharing_refuses_is_refused() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let breaker = shared(&server, "t7:", support::patient()).await;
    let refused = breaker
        .reconfigure(config().recovery_backoff(4.0))
        .unwrap_err();
    assert!(
        refused.to_string().contains("recovery_backoff"),
        "{refused}"
    );
    assert_eq!(breaker.config().recovery_backoff, 1.0);
    let refused = breaker
        .reconfigure(config().failure_rate_threshold(50))
        .unwrap_err();
    assert!(
        refused.to_string().contains("failure_rate_threshold"),
        "{refused}"
    );
}

/// A state no script wrote, pushed on the channel with a generation far ahead of any the
/// fleet will reach, holds a process apart from the fleet for one refresh at most: the
/// refresh's read of the key, with nothing taken meanwhile, is the freshest word.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_state_no_script_wrote_lasts_one_refresh_at_most() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = support::patient().refresh(Duration::from_millis(100));
    let breaker = shared_with(&server, "t8:", settings, config()).await;
    let client = redis::Client::open(server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    // Open for ten minutes, in a generation no script will reach.
    let forged = "payments\no\n99999999999999\n600000\n0\n1";
    let _: i64 = redis::cmd("PUBLISH")
        .arg("t8:breakers")
        .arg(forged)
        .query_async(&mut connection)
        .await
        .unwrap();
    until("the push taken", SOON, || breaker.is_open()).await;
    let took = until("the fleet's closed state again", SOON, || {
        breaker.is_closed()
    })
    .await;
    eprintln!("a forged push held for {took:?}");
    assert!(breaker.try_acquire().is_ok());
}
