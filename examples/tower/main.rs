//! tower layers and attributes over the same named instances: an axum route guarded by a
//! `CircuitBreakerLayer` shares its breaker with a settlement job guarded by
//! `#[circuit_breaker]`, and a route's `RateLimitLayer` shares its quota with an indexer's
//! `#[rate_limit]`; the snapshot shows one instance each. Loopback only, under a second.
//!
//! ```text
//! cargo run --example tower
//! ```

mod gateway;

#[tokio::main]
async fn main() -> Result<(), resilience::tower::BoxError> {
    let story = gateway::run().await?;
    println!(
        "\n{} HTTP requests answered; one instance each:",
        story.answers.len()
    );
    println!("{}", story.snapshot);
    Ok(())
}
