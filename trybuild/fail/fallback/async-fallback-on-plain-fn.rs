// A plain fn's fallbacks are plain fns: it cannot await an `async fn`.
use resilience::fallback;

#[fallback(from_cache)]
fn user(id: u64) -> Result<String, resilience::Error> {
    Ok(id.to_string())
}

async fn from_cache(id: u64, _: resilience::Error) -> Result<String, resilience::Error> {
    Ok(id.to_string())
}

fn main() {}
