use resilience::rate_limit;

#[rate_limit(window = "0s", algorithm = "fixed_window", burst = 5, max_request = 10, max_wait = "soon")]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
