// Rate-mode values the macro reads but the runtime refuses, each at its argument.
use resilience::circuit_breaker;

#[circuit_breaker(failure_rate_threshold = 50, sliding_window = "1500ms")]
async fn fraction_of_a_second() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(failure_rate_threshold = 50, sliding_window = "2h")]
async fn window_too_long() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(failure_rate_threshold = 50, sliding_window = 2000000)]
async fn window_too_many_calls() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(slow_call_duration = "0s", slow_call_rate_threshold = 0)]
async fn zero_slow() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(failure_rate_threshold = 50, minimum_calls = 0)]
async fn no_minimum() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(recovery_backoff = 0.5)]
async fn shrinking_backoff() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
