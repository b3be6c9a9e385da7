// Rate-mode mistakes caught while reading the arguments: a fraction for a percentage, a
// window without its unit in quotes, and settings that mean nothing without another.
use resilience::circuit_breaker;

#[circuit_breaker(failure_rate_threshold = 0.5)]
async fn fraction() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(failure_rate_threshold = 50, sliding_window = "100")]
async fn quoted_count() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(slow_call_rate_threshold = 80)]
async fn slow_rate_without_duration() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(sliding_window = "60s", minimum_calls = 10)]
async fn window_without_a_rule() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(max_recovery_timeout = "10m")]
async fn cap_without_backoff() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(failure_rate_treshold = 50)]
async fn misspelt() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
