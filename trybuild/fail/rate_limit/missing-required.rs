use resilience::rate_limit;

#[rate_limit(max_requests = 100)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
