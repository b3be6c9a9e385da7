// Values the macro can read but the runtime refuses: each is a compile error in the
// runtime's own words, at the argument, never replaced by a default at run time.
use resilience::circuit_breaker;

#[circuit_breaker(failure_threshold = 1, recovery_timeout = "1000000h")]
async fn long_recovery() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(half_open_max_calls = 9999999)]
async fn many_probes() -> Result<(), resilience::Error> {
    Ok(())
}

#[circuit_breaker(name = "  ")]
async fn blank_name() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
