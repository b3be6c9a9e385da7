// A rule between two arguments is the runtime's too, reported at the argument it names.
use resilience::rate_limit;

#[rate_limit(max_requests = 10, window = "1s", algorithm = "sliding_window", burst = 20)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
