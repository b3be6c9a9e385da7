use resilience::fallback;

#[fallback(from_cache)]
async fn user(id: u64) -> Result<String, resilience::Error> {
    Ok(id.to_string())
}

fn from_cache(id: u64, _: resilience::Error) -> Result<String, resilience::Error> {
    Ok(id.to_string())
}

fn main() {}
