// A failure rate is a percentage: 150 is refused in the runtime's words, at the argument.
use resilience::circuit_breaker;

#[circuit_breaker(failure_rate_threshold = 150)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
