use resilience::bulkhead;

#[bulkhead(max_concurrent = 4)]
fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
