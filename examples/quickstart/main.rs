//! The quickstart: a shop calls a flaky backend over real HTTP on loopback, through all
//! five attributes, and prints what each one does as it happens.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With `-- --serve 127.0.0.1:9898` the backend listens there and, once the story is
//! told, keeps serving `/metrics` for a Prometheus to scrape, until Ctrl-C.

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
    let serve = std::env::args().skip_while(|arg| arg != "--serve").nth(1);
    let address = serve.as_deref().unwrap_or("127.0.0.1:0");
    scenario::run(pace, address).await?;
    if let Some(address) = serve {
        println!("\nserving http://{address}/metrics until Ctrl-C");
        std::future::pending::<()>().await;
    }
    Ok(())
}
