// A runtime's entry-point attribute written below the resilience attributes expands after
// them, around the guarded fn.
use resilience::{retry, timeout};

#[retry(max_attempts = 2, base_delay = 0)]
#[timeout("1s")]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), resilience::Error> {
    Ok(())
}
