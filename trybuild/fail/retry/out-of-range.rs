use resilience::retry;

#[retry(max_attempts = 5000000000)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

#[retry(max_attempts = 2.5)]
async fn fractional() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
