//! The metrics of shared names against a real server: they read `shared`, then
//! `fallback` with one fallback counted while the server is paused, then `shared` again
//! with the count kept.

use std::time::{Duration, Instant};

use crate::support::{patient, RedisServer};
use resilience::metrics::write_text;
use resilience::redis::{Backend, WhenUnavailable};
use resilience::{CircuitBreakerConfig, RateLimiterConfig, Registry};

/// The `(shared, fallback, fallbacks)` series of `family`'s shared name `name` in `text`;
/// `None` where a series is missing.
fn series(text: &str, family: &str, name: &str) -> [Option<u64>; 3] {
    let read = |series: String| {
        text.lines()
            .find_map(|line| line.strip_prefix(&series)?.strip_prefix(' ')?.parse().ok())
    };
    [
        read(format!(
            "{family}_shared_mode{{name=\"{name}\",mode=\"shared\"}}"
        )),
        read(format!(
            "{family}_shared_mode{{name=\"{name}\",mode=\"fallback\"}}"
        )),
        read(format!(
            "{family}_shared_fallbacks_total{{name=\"{name}\"}}"
        )),
    ]
}

/// Both names' series, as a scrape of `registry` reads them now.
fn scrape(registry: &Registry) -> [[Option<u64>; 3]; 2] {
    let mut text = String::new();
    write_text(&registry.snapshot(), &mut text);
    [
        series(&text, "circuit_breaker", "payments"),
        series(&text, "rate_limit", "partner-api"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_names_read_shared_then_fallback_then_shared_with_one_fallback_counted() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // A short refresh, so the paused server is noticed and the recovery found soon; the
    // patient timeout, so that a loaded host's slow answer is not counted as a fallback.
    let settings = patient()
        .key_prefix("m1:")
        .refresh(Duration::from_millis(100));
    let backend = Backend::connect_with(&server.url(), settings)
        .await
        .unwrap();
    let registry = Registry::new();
    let breaker = registry
        .get_or_create("payments", CircuitBreakerConfig::default())
        .unwrap();
    backend
        .share_breaker(&breaker, WhenUnavailable::Local)
        .unwrap();
    let limiter = registry
        .get_or_create(
            "partner-api",
            RateLimiterConfig::DEFAULT.max_requests(1_000),
        )
        .unwrap();
    backend
        .share_limiter(&limiter, WhenUnavailable::Local)
        .unwrap();
    // An instance nobody shares has no such series.
    registry
        .get_or_create("alone", RateLimiterConfig::default())
        .unwrap();
    let mut text = String::new();
    write_text(&registry.snapshot(), &mut text);
    assert!(!text.contains("name=\"alone\",mode="), "{text}");
    assert!(!text.contains("fallbacks_total{name=\"alone\"}"), "{text}");

    let shared = [Some(1), Some(0), Some(0)];
    limiter.acquire().await.unwrap();
    assert_eq!(scrape(&registry), [shared, shared]);

    server.signal("-STOP");
    let fallback = [Some(0), Some(1), Some(1)];
    // The breaker's refresh notices by itself; the limiter at its next admission.
    let deadline = Instant::now() + Duration::from_secs(10);
    while scrape(&registry) != [fallback, fallback] {
        assert!(
            Instant::now() < deadline,
            "not on the fallback: {:?}",
            scrape(&registry)
        );
        limiter.acquire().await.expect("the local quota");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    server.signal("-CONT");
    let recovered = [Some(1), Some(0), Some(1)];
    let deadline = Instant::now() + Duration::from_secs(10);
    while scrape(&registry) != [recovered, recovered] {
        assert!(
            Instant::now() < deadline,
            "not back on the shared state: {:?}",
            scrape(&registry)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
