// A plain fn that returns a future would have the making of the future guarded, not its
// running: refused, with the advice to write an `async fn`.
use std::future::Future;

use resilience::retry;

#[retry]
fn fetch() -> impl Future<Output = Result<u32, resilience::Error>> {
    async { Ok(1) }
}

// A boxed future whose body is not `#[async_trait]`'s `Box::pin(async move { .. })`.
#[retry]
fn fetch_boxed() -> std::pin::Pin<Box<dyn Future<Output = Result<u32, resilience::Error>> + Send>> {
    let answer = async { Ok(1) };
    Box::pin(answer)
}

fn main() {}
