// A plain fn that returns a future would have the making of the future guarded, not its
// running: refused, with the advice to write an `async fn`.
use std::future::Future;

use resilience::retry;

#[retry]
fn fetch() -> impl Future<Output = Result<u32, resilience::Error>> {
    async { Ok(1) }
}

fn main() {}
