use resilience::timeout;

#[timeout("5 parsecs")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
