use resilience::{bulkhead, retry};

#[retry(max_attempts = 3, key = id)]
async fn fetch(id: u64) -> Result<u64, resilience::Error> {
    Ok(id)
}

#[bulkhead(max_concurrent = 4, max_keys = 10)]
async fn store(id: u64) -> Result<u64, resilience::Error> {
    Ok(id)
}

fn main() {}
