use resilience::bulkhead;

#[bulkhead(max_concurrent = 18446744073709551615, max_wait = 0)]
async fn huge() -> Result<(), resilience::Error> {
    Ok(())
}

#[bulkhead(max_concurrent = 99999999999999999999999)]
async fn beyond_usize() -> Result<(), resilience::Error> {
    Ok(())
}

#[bulkhead(max_concurrent = -2)]
async fn negative() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
