use resilience::timeout;

#[timeout("5s", duration = "1s", nmae = "db", name = 7, crate = "not a path")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
