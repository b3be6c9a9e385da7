use resilience::{retry, timeout};

#[timeout("1s")]
fn read() -> Result<(), resilience::Error> {
    Ok(())
}

// In a stack too, at the attribute that cannot work.
#[retry(max_attempts = 2)]
#[timeout("1s")]
fn read_again() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
