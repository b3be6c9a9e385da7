use resilience::retry;

#[retry]
const fn answer() -> Result<u32, resilience::Error> {
    Ok(42)
}

fn main() {}
