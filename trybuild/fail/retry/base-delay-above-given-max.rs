use resilience::retry;

// Refused once, at the argument the whole config's refusal names.
#[retry(base_delay = "2m", max_delay = "90s")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
