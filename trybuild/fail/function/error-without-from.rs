use resilience::circuit_breaker;

#[derive(Debug)]
struct ApiError;

#[circuit_breaker]
async fn call() -> Result<(), ApiError> {
    Err(ApiError)
}

fn main() {}
