#![deny(dead_code)]

use resilience::retry;

#[retry]
async fn never_called() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
