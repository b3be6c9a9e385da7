use resilience::fallback;

#[fallback]
async fn none_given() -> Result<(), resilience::Error> {
    Ok(())
}

#[fallback(
    "from_cache",
    fallback_if = "is_down",
    fallback_if = is_down,
    fallback_iff = is_down,
    delay = "1s",
)]
async fn mistakes() -> Result<(), resilience::Error> {
    Ok(())
}

fn is_down(_: &resilience::Error) -> bool {
    true
}

fn main() {}
