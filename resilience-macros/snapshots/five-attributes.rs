#[circuit_breaker(name = "payments", failure_threshold = 5, recovery_timeout = "30s", failure_if = is_outage)]
#[retry(max_attempts = 3, base_delay = 100ms, retry_if = is_transient)]
#[timeout("10s")]
#[bulkhead(max_concurrent = 4)]
#[rate_limit(max_requests = 100, window = 1m)]
pub async fn charge(order: Order, cents: u64) -> Result<Receipt, PaymentError> {
    client().charge(&order, cents).await
}
