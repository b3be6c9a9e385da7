use resilience::retry;

#[retry(
    max_attempts = 0,
    base_delay = "fast",
    max_delay = 1e400,
    exponential_base = 0.5,
    backoff = 3,
    jitter = "some",
    retry_if = "is_transient",
    max_attempts = 2,
    attempts = 3,
)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
