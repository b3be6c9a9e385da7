// A failure rate replaces the count of consecutive failures: `failure_threshold` written
// beside `failure_rate_threshold` would do nothing, so it is refused at its token.
use resilience::circuit_breaker;

#[circuit_breaker(failure_threshold = 3, failure_rate_threshold = 50)]
async fn both() -> Result<(), resilience::Error> {
    Ok(())
}

// Beside a slow-call rule alone it counts, and is accepted.
#[circuit_breaker(failure_threshold = 3, slow_call_duration = "2s")]
async fn beside_a_slow_call_rule() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
