use resilience::hedge;

#[hedge(
    delay = "-1s",
    max_attempts = 0.5,
    attempts = 3,
    delay = "50ms",
    "100ms",
)]
async fn mistakes() -> Result<(), resilience::Error> {
    Ok(())
}

#[hedge(max_attempts = 0)]
async fn refused_by_the_runtime() -> Result<(), resilience::Error> {
    Ok(())
}

#[hedge]
fn not_async() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
