use resilience::{bulkhead, circuit_breaker, retry};

// A call would wait on its own slot.
#[bulkhead(name = "nested", max_concurrent = 1)]
#[bulkhead(name = "nested", max_concurrent = 1)]
async fn export() -> Result<(), resilience::Error> {
    Ok(())
}

// Each failure counted twice, and with a spelling of the path of its own.
#[circuit_breaker(name = "payments")]
#[retry(name = "payments")]
#[resilience::circuit_breaker(name = "payments")]
async fn pay() -> Result<(), resilience::Error> {
    Ok(())
}

// Two of one kind under different names, or unnamed, are two instances: accepted.
#[retry(name = "outer")]
#[retry(name = "inner")]
#[retry]
#[retry]
async fn twice() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
