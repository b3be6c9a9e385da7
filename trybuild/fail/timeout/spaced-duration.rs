use resilience::{rate_limit, timeout};

// A duration with a space in it, and a rule between two arguments of a sibling that has
// no mistake of its own: both are reported in one build.
#[rate_limit(max_requests = 10, window = 1s, algorithm = "sliding_window", burst = 5)]
#[timeout(100 millis)]
async fn call() -> Result<(), resilience::Error> {
    Ok(())
}

fn main() {}
