//! The quickstart's scenario, at a faster pace, over real HTTP on loopback: the story it
//! tells is checked here, outcome by outcome.

#[path = "../examples/quickstart/scenario.rs"]
mod scenario;
#[path = "../examples/quickstart/server.rs"]
mod server;
#[path = "../examples/quickstart/shop.rs"]
mod shop;

use std::time::Duration;

use resilience::{registry, CircuitState, Error};
use shop::ShopError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_tells_its_story() {
    let pace = scenario::Pace {
        tick: Duration::from_millis(50),
        outage_start: Duration::from_millis(300),
        outage: Duration::from_millis(1200),
    };
    let story = scenario::run(pace, "127.0.0.1:0")
        .await
        .expect("the scenario runs");

    // Retries turned the backend's transient 503s into successes.
    assert!(
        story
            .stock
            .iter()
            .all(|(result, attempts)| result.is_ok() && *attempts >= 2),
        "{:?}",
        story.stock
    );

    // The breaker opened during the outage, rejected calls without reaching the backend,
    // and closed after it.
    let states: Vec<CircuitState> = story.payments.iter().map(|(_, state)| *state).collect();
    assert!(states.contains(&CircuitState::Open), "{states:?}");
    assert_eq!(states.last(), Some(&CircuitState::Closed), "{states:?}");
    let rejected = story
        .payments
        .iter()
        .filter(|(r, _)| matches!(r, Err(ShopError::Rejected(Error::CircuitOpen { .. }))))
        .count();
    assert!(rejected > 0);
    assert_eq!(
        story.payment_requests as usize,
        story.payments.len() - rejected,
        "rejected calls never reached the backend"
    );

    // No report call waited for the backend's 2s answers: slow attempts were cut at 300ms
    // and retried.
    assert!(
        story
            .reports
            .iter()
            .all(|(result, took)| result.is_ok() && *took < Duration::from_millis(1500)),
        "{:?}",
        story.reports
    );
    assert!(registry().timeout("reports").unwrap().stats().timeouts >= 1);

    // The bulkhead let at most 3 exports run at once and turned some of the burst away.
    assert!(story.exports_at_once <= 3);
    let full = story
        .exports
        .iter()
        .filter(|r| matches!(r, Err(ShopError::Rejected(Error::BulkheadFull { .. }))))
        .count();
    let ok = story.exports.iter().filter(|r| r.is_ok()).count();
    assert!(
        full >= 1 && ok >= 3 && full + ok == 8,
        "{:?}",
        story.exports
    );

    // The rate limit kept every search under the backend's quota.
    assert!(
        story.searches.iter().all(Result::is_ok),
        "{:?}",
        story.searches
    );
    assert_eq!(story.too_many_requests, 0);

    // `/metrics` served the same story: the breaker opened and closed, and calls were
    // retried and turned away.
    for series in [
        r#"circuit_breaker_state_changes_total{name="payments",state="open"}"#,
        r#"circuit_breaker_state_changes_total{name="payments",state="closed"}"#,
        r#"circuit_breaker_state{name="payments",state="closed"}"#,
        r#"retry_attempts_total{name="inventory"}"#,
        r#"bulkhead_rejected_total{name="exports"}"#,
    ] {
        let value = story
            .metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in\n{}", story.metrics));
        assert_ne!(value, "0", "{series}");
    }
}
