//! The quickstart: a shop calls a flaky backend over real HTTP on loopback, through all
//! five attributes, and prints what each one does as it happens.
//!
//! ```text
//! cargo run --example quickstart
//! ```

mod scenario;
mod server;
mod shop;

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // About ten seconds in all.
    let pace = scenario::Pace {
        tick: Duration::from_millis(200),
        outage_start: Duration::from_millis(1500),
        outage: Duration::from_secs(3),
    };
    scenario::run(pace).await?;
    Ok(())
}
