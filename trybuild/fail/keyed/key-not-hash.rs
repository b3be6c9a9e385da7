use resilience::circuit_breaker;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Host {
    name: String,
}

#[circuit_breaker(failure_threshold = 3, key = host)]
async fn call(host: &Host) -> Result<(), resilience::Error> {
    let _ = &host.name;
    Ok(())
}

fn main() {}
