//! `#[timeout]`: give up on a slow call; the abandoned future is dropped.
//!
//! ```text
//! cargo run --example timeout
//! ```

use std::time::{Duration, Instant};

use resilience::{retry, timeout};

/// Each attempt gets 200ms, the whole call 1s.
#[timeout("1s")]
#[retry(
    max_attempts = 10,
    base_delay = "100ms",
    backoff = "constant",
    jitter = false
)]
#[timeout("200ms")]
async fn render(page: u32, work: Duration) -> Result<String, resilience::Error> {
    tokio::time::sleep(work).await;
    Ok(format!("page {page}"))
}

#[tokio::main]
async fn main() {
    for (page, work) in [(1, Duration::from_millis(50)), (2, Duration::from_secs(5))] {
        let start = Instant::now();
        let result = render(page, work).await;
        println!(
            "page {page} (needs {work:?}): {result:?} after {:?}",
            start.elapsed()
        );
    }
    let per_attempt = resilience::registry().timeout(concat!(module_path!(), "::render#2"));
    println!(
        "attempts cut short: {}",
        per_attempt.map_or(0, |t| t.stats().timeouts)
    );
}
