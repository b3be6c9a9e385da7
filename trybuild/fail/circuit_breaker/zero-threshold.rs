use resilience::circuit_breaker;

#[circuit_breaker(failure_threshold = 0)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
