// A constant is checked like a literal: the runtime's refusal lands on its path.
use resilience::retry;

const ATTEMPTS: u32 = 0;
const NAME: &str = "";

#[retry(name = NAME, max_attempts = ATTEMPTS)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
