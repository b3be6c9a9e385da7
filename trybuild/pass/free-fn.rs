use resilience::{bulkhead, circuit_breaker, rate_limit, retry, timeout};

#[circuit_breaker(name = "payments", failure_threshold = 5, recovery_timeout = "30s")]
#[retry(max_attempts = 3, base_delay = "100ms")]
#[timeout("10s")]
#[bulkhead(max_concurrent = 8)]
#[rate_limit(max_requests = 100, window = "1m")]
pub async fn charge(order: String, cents: u64) -> Result<String, resilience::Error> {
    Ok(format!("{order}: {cents}"))
}

fn main() {}
