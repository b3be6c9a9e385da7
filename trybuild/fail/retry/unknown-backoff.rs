use resilience::retry;

#[retry(backoff = "exponentail")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
