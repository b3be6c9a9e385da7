use resilience::{fallback, hedge, retry};

#[retry(max_attempts = 3)]
#[hedge(delay = "50ms")]
async fn retried(id: u64) -> Result<u64, resilience::Error> {
    Ok(id)
}

#[fallback(zero)]
#[hedge(delay = "50ms")]
async fn with_fallback(id: u64) -> Result<u64, resilience::Error> {
    Ok(id)
}

async fn zero(_: u64, _: resilience::Error) -> Result<u64, resilience::Error> {
    Ok(0)
}

fn main() {}
