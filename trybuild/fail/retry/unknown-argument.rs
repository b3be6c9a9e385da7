use resilience::retry;

#[retry(max_attempt = 3)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
