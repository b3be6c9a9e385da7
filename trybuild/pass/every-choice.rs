//! Every word the choice arguments accept expands to a variant that exists.

use resilience::{rate_limit, retry};

#[retry(backoff = "exponential", jitter = "full")]
pub async fn a() -> Result<(), resilience::Error> { Ok(()) }
#[retry(backoff = "linear", jitter = "equal")]
pub async fn b() -> Result<(), resilience::Error> { Ok(()) }
#[retry(backoff = "constant", jitter = "none")]
pub async fn c() -> Result<(), resilience::Error> { Ok(()) }
#[retry(jitter = true)]
pub async fn d() -> Result<(), resilience::Error> { Ok(()) }
#[retry(jitter = false)]
pub async fn e() -> Result<(), resilience::Error> { Ok(()) }
#[rate_limit(max_requests = 1, window = 1, algorithm = "token_bucket", burst = 2)]
pub async fn f() -> Result<(), resilience::Error> { Ok(()) }
#[rate_limit(max_requests = 1, window = 1, algorithm = "sliding_window")]
pub async fn g() -> Result<(), resilience::Error> { Ok(()) }
#[rate_limit(max_requests = 1, window = 1, algorithm = "fixed_window")]
pub async fn h() -> Result<(), resilience::Error> { Ok(()) }

fn main() {}
