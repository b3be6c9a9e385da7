//! `#[circuit_breaker]`: stop calling a downstream that keeps failing; probe it later.
//!
//! ```text
//! cargo run --example circuit_breaker
//! ```

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use resilience::{circuit_breaker, registry};

static DOWN: AtomicBool = AtomicBool::new(false);

#[circuit_breaker(
    name = "ledger",
    failure_threshold = 3,
    success_threshold = 1,
    recovery_timeout = "500ms"
)]
async fn post_entry(amount: i64) -> Result<String, anyhow::Error> {
    anyhow::ensure!(!DOWN.load(SeqCst), "ledger unavailable");
    Ok(format!("posted {amount}"))
}

#[tokio::main]
async fn main() {
    let breaker = || {
        registry()
            .circuit_breaker("ledger")
            .expect("created by the first call")
    };
    for step in 1..=12 {
        match step {
            3 => DOWN.store(true, SeqCst),
            9 => DOWN.store(false, SeqCst),
            _ => {}
        }
        let result = post_entry(step * 10).await;
        let outcome = result.unwrap_or_else(|e| format!("error: {e}"));
        println!(
            "call {step:>2}: {outcome:<60} breaker {}",
            breaker().state()
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    println!("\n{:?}", breaker().stats());
}
