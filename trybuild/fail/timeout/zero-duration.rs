use resilience::timeout;

#[timeout(0)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
