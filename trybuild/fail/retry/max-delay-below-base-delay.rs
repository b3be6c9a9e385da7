use resilience::retry;

#[retry(base_delay = "5s", max_delay = "1s")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
