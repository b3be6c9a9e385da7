#[retry(max_attempts = 3)]
#[rl::timeout("100ms")]
async fn call() -> Result<(), Error> {
    Ok(())
}
