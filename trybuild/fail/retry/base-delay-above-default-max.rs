use resilience::retry;

#[retry(base_delay = "2m")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
