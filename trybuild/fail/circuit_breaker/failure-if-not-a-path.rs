use resilience::circuit_breaker;

#[circuit_breaker(failure_if = "is_outage")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
