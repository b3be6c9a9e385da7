use resilience::timeout;

#[timeout]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
