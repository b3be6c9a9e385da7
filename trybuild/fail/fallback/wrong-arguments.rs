use resilience::fallback;

#[fallback(from_cache)]
async fn user(id: u64, region: String) -> Result<String, resilience::Error> {
    Ok(format!("{id} in {region}"))
}

// Forgets `region`, which it would be given as `&String`.
async fn from_cache(id: u64, error: resilience::Error) -> Result<String, resilience::Error> {
    Err(error)
}

fn main() {}
