// A keyed instance guards async calls only: `key` on a plain fn is refused at `key`, with
// what to do instead, rather than failing inside the expansion.
use resilience::{circuit_breaker, rate_limit};

#[rate_limit(max_requests = 5, window = "1s", key = user)]
fn limited(user: u64) -> Result<(), resilience::Error> {
    let _ = user;
    Ok(())
}

#[circuit_breaker(key = host)]
fn guarded(host: &str) -> Result<(), resilience::Error> {
    let _ = host;
    Ok(())
}

fn main() {}
