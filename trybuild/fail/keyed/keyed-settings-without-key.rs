use resilience::{circuit_breaker, rate_limit};

#[rate_limit(max_requests = 10, window = "1m", max_keys = 100)]
async fn call(id: u64) -> Result<u64, resilience::Error> {
    Ok(id)
}

#[circuit_breaker(key = id, max_keys = 0, when_full = "reject")]
async fn other(id: u64) -> Result<u64, resilience::Error> {
    Ok(id)
}

fn main() {}
