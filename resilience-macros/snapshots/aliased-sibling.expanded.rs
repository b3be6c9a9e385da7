#[rl::timeout("100ms")]
#[::resilience::__private::stacked(
    above = rl::timeout,
    paths(),
    retry(max_attempts = 3)
)]
async fn call() -> Result<(), Error> {
    Ok(())
}
