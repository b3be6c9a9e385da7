// `#[tokio::test]` above expands first and leaves a plain fn that starts a runtime;
// guarding it would guard the runtime, blocking, which is not what was written.
use resilience::retry;

#[tokio::test]
#[retry(max_attempts = 2)]
async fn fetches() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
