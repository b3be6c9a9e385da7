use resilience::circuit_breaker;

#[circuit_breaker(
    name = "",
    failure_threshold = -1,
    success_threshold = 2.5,
    recovery_timeout = "0s",
    half_open_max_calls = 99999999,
    failure_if = |e| true,
    recovery_timeout = "1s",
    fallback = backup,
    name,
)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
