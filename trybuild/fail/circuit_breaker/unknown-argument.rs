use resilience::circuit_breaker;

#[circuit_breaker(failure_treshold = 3)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
