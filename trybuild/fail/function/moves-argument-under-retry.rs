use resilience::retry;

fn consume(_: String) {}

#[retry]
async fn call(order: String) -> Result<(), resilience::Error> {
    consume(order);
    Ok(())
}

fn main() {}
