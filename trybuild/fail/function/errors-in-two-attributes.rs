use resilience::{bulkhead, retry, timeout};

#[retry(max_attempts = 0)]
#[timeout("forever")]
#[bulkhead(max_concurrent = 2)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
