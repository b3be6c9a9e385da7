//! `#[rate_limit]`: stay under a quota; wait for a permit or be told when one is free.
//!
//! ```text
//! cargo run --example rate_limit
//! ```

use std::time::Instant;

use resilience::rate_limit;

/// A burst of 3, then 3 per second; calls wait up to 400ms for a permit.
#[rate_limit(max_requests = 3, window = "1s", max_wait = "400ms")]
async fn send_sms(to: &str) -> Result<String, resilience::Error> {
    Ok(format!("sent to {to}"))
}

#[tokio::main]
async fn main() {
    let start = Instant::now();
    for n in 1..=6 {
        let result = send_sms(&format!("+1555000{n}")).await;
        println!("{:>4}ms  {result:?}", start.elapsed().as_millis());
    }
}
