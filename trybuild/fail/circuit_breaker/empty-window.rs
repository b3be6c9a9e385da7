// A window of nothing: no calls, or no seconds.
use resilience::circuit_breaker;

#[circuit_breaker(failure_rate_threshold = 50, sliding_window = 0)]
async fn no_calls() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(failure_rate_threshold = 50, sliding_window = "0s")]
async fn no_seconds() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
