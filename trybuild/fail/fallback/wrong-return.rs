use resilience::fallback;

#[fallback(from_cache)]
async fn user(id: u64) -> Result<String, resilience::Error> {
    Ok(id.to_string())
}

async fn from_cache(id: u64, _: resilience::Error) -> Result<u64, resilience::Error> {
    Ok(id)
}

fn main() {}
