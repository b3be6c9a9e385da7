//! The story the quickstart tells, act by act, with its timings as parameters so a test can
//! run it faster.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

use resilience::{registry, CircuitState, Error};
use tokio::time::Instant;

use crate::server::{self, Schedule, Seen};
use crate::shop::{Shop, ShopError};

/// How fast the story runs.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Time between two payment attempts.
    pub tick: Duration,
    /// When the payment outage starts, from the backend's start.
    pub outage_start: Duration,
    /// How long the payment outage lasts.
    pub outage: Duration,
}

/// What happened, for the test to check.
#[derive(Debug, Default)]
pub struct Story {
    pub stock: Vec<(Result<String, ShopError>, u32)>,
    pub payments: Vec<(Result<String, ShopError>, CircuitState)>,
    pub payment_requests: u32,
    pub reports: Vec<(Result<String, ShopError>, Duration)>,
    pub exports: Vec<Result<String, ShopError>>,
    pub exports_at_once: usize,
    pub searches: Vec<Result<String, ShopError>>,
    pub too_many_requests: u32,
    /// The body of `GET /metrics` at the end.
    pub metrics: String,
}

/// Prints one line per call: time since start, call, outcome.
struct Timeline(Instant);

impl Timeline {
    fn line(&self, call: &str, outcome: &str) {
        println!(
            "{:>7.2}s  {call:<22} {outcome}",
            self.0.elapsed().as_secs_f64()
        );
    }
}

fn outcome(result: &Result<String, ShopError>) -> String {
    match result {
        Ok(body) => format!("ok: {body}"),
        Err(ShopError::Rejected(Error::CircuitOpen { retry_after, .. })) => {
            format!(
                "rejected at once, breaker open (probe in {}ms)",
                retry_after.as_millis()
            )
        }
        Err(error) => format!("failed: {error}"),
    }
}

/// Runs the story against a backend started on `address`.
pub async fn run(pace: Pace, address: &str) -> Result<Story, Box<dyn std::error::Error>> {
    let seen = Arc::new(Seen::default());
    let schedule = Schedule {
        outage: (pace.outage_start, pace.outage_start + pace.outage),
        slow_report: Duration::from_secs(2),
        export_work: Duration::from_millis(200),
        search_quota: 5,
    };
    println!("backend schedule:");
    println!("  /inventory  every other request fails with 503 (transient)");
    println!(
        "  /payments   hard outage (500) from {:.1}s to {:.1}s",
        schedule.outage.0.as_secs_f64(),
        schedule.outage.1.as_secs_f64()
    );
    println!(
        "  /reports    every other request takes {}s",
        schedule.slow_report.as_secs()
    );
    println!(
        "  /export     each request takes {}ms",
        schedule.export_work.as_millis()
    );
    println!(
        "  /search     at most {} requests a second, then 429 with Retry-After",
        schedule.search_quota
    );
    let base = server::start(address, schedule, Arc::clone(&seen)).await?;
    let shop = Arc::new(Shop::new(base.clone()));
    println!("backend listening on {base}\n");

    let timeline = Timeline(Instant::now());
    let mut story = Story::default();

    println!("-- #[retry]: transient errors are retried away");
    for sku in ["A-1", "B-2", "C-3"] {
        shop.attempts.store(0, SeqCst);
        let result = shop.stock(sku).await;
        let attempts = shop.attempts.load(SeqCst);
        timeline.line(
            &format!("stock({sku})"),
            &format!("{} after {attempts} attempts", outcome(&result)),
        );
        story.stock.push((result, attempts));
    }

    println!(
        "\n-- #[circuit_breaker]: an outage opens the breaker, which probes and closes after it"
    );
    let closes_by = timeline.0.elapsed() + pace.outage + Duration::from_secs(8);
    let mut opened = false;
    let breaker_state = || {
        registry()
            .circuit_breaker("payments")
            .map_or(CircuitState::Closed, |b| b.state())
    };
    for n in 1.. {
        let probe = if breaker_state() == CircuitState::HalfOpen {
            " (a probe)"
        } else {
            ""
        };
        let result = shop.charge(100 * n).await;
        let state = breaker_state();
        timeline.line(
            &format!("charge(#{n})"),
            &format!("{}{probe}  [breaker {state}]", outcome(&result)),
        );
        opened |= state == CircuitState::Open;
        story.payments.push((result, state));
        if opened && state == CircuitState::Closed || timeline.0.elapsed() > closes_by {
            break;
        }
        tokio::time::sleep(pace.tick).await;
    }
    story.payment_requests = seen.payments.load(SeqCst);

    println!("\n-- #[retry] over #[timeout]: each attempt gets 300ms; a slow one is cut short and retried");
    for id in 1..=3 {
        let start = Instant::now();
        let result = shop.report(id).await;
        let took = start.elapsed();
        timeline.line(
            &format!("report({id})"),
            &format!("{} in {}ms", outcome(&result), took.as_millis()),
        );
        story.reports.push((result, took));
    }

    println!("\n-- #[bulkhead]: a burst of 8 exports, 3 at a time, 250ms of queue");
    let burst: Vec<_> = (1..=8)
        .map(|id| {
            let shop = Arc::clone(&shop);
            tokio::spawn(async move { shop.export(id).await })
        })
        .collect();
    for (id, call) in (1..).zip(burst) {
        let result = call.await?;
        timeline.line(&format!("export({id})"), &outcome(&result));
        story.exports.push(result);
    }
    story.exports_at_once = seen.exports_most.load(SeqCst);
    println!(
        "           the backend saw at most {} exports at once",
        story.exports_at_once
    );

    println!("\n-- #[rate_limit]: 10 searches kept to 4 a second, under the backend's 5");
    for n in 1..=10 {
        let result = shop.search(&format!("q{n}")).await;
        timeline.line(&format!("search(q{n})"), &outcome(&result));
        story.searches.push(result);
    }
    story.too_many_requests = seen.too_many_requests.load(SeqCst);
    println!(
        "           the backend answered 429 {} times",
        story.too_many_requests
    );

    println!("\n-- the registry, as an operator sees it\n");
    print!("{}", registry().snapshot());

    println!("\n-- GET {base}/metrics, as Prometheus scrapes it: the lines that tell the story\n");
    story.metrics = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    for line in story.metrics.lines().filter(|line| tells_the_story(line)) {
        println!("{line}");
    }
    Ok(story)
}

/// The breaker's state changes, the retries and the rejections; not the help, the types,
/// nor the zeros.
fn tells_the_story(line: &str) -> bool {
    const FAMILIES: [&str; 7] = [
        "circuit_breaker_state_changes_total",
        "circuit_breaker_rejected_total",
        "retry_attempts_total",
        "retry_calls_total",
        "timeout_calls_total{name=\"reports\",outcome=\"timed_out\"}",
        "bulkhead_rejected_total",
        "rate_limit_waited_total",
    ];
    FAMILIES.iter().any(|family| line.starts_with(family)) && !line.ends_with(" 0")
}
