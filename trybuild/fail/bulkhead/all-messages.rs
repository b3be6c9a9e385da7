use resilience::bulkhead;

#[bulkhead(max_concurrent = 0, max_wait = -1, max_concurent = 3, max_wait = "1s")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
