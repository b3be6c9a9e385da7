use resilience::{retry, timeout};

#[retry]
#[timeout("1s")]
async fn call(id: u32) -> Result<String, resilience::Error> {
    Ok(id)
}

fn main() {}
