//! The runtime without the attributes: policies built, shared and composed by hand, and
//! the registry configured by name before first use.
//!
//! ```text
//! cargo run --example by_hand
//! ```

use std::time::Duration;

use resilience::pipeline::{body, display, finish};
use resilience::{registry, CircuitBreakerConfig, Error, Jitter, Retry, RetryConfig, Timeout};

#[tokio::main]
async fn main() -> Result<(), resilience::ConfigError> {
    // An operator's setting, read at start-up: it wins over whatever the code declares.
    let operator = CircuitBreakerConfig::DEFAULT.failure_threshold(2);
    registry().configure("search", operator)?;
    let breaker = registry().get_or_create("search", CircuitBreakerConfig::default())?;
    println!(
        "`search` opens after {} failures",
        breaker.config().failure_threshold
    );

    // One policy at a time.
    let limit = resilience::TimeoutConfig::DEFAULT.duration(Duration::from_millis(100));
    let timeout = Timeout::new("search", limit)?;
    let slow = timeout.call(|| async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok::<_, Error>("never")
    });
    println!("slow search: {:?}", slow.await);

    // A stack, outermost first, as `#[circuit_breaker] #[retry] #[timeout]` would build it.
    let config = RetryConfig::DEFAULT
        .base_delay(Duration::from_millis(10))
        .jitter(Jitter::None);
    let retry = Retry::new("search", config)?;
    for query in ["fast", "slow"] {
        let outcome = breaker
            .layer(
                |_| true,
                || {
                    retry.layer(
                        (),
                        |_| true,
                        |_| None,
                        display,
                        |()| async {
                            let attempt = timeout.layer(|| {
                                body(async {
                                    if query == "slow" {
                                        tokio::time::sleep(Duration::from_secs(1)).await;
                                    }
                                    Ok::<_, Error>(format!("results for {query}"))
                                })
                            });
                            ((), attempt.await)
                        },
                    )
                },
            )
            .await;
        let result: Result<String, Error> = finish(outcome);
        println!("{query}: {result:?} (breaker {})", breaker.state());
    }
    print!("\n{}", registry().snapshot());
    Ok(())
}
