use resilience::retry;

#[retry(3)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
