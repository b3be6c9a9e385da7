use resilience::retry;

#[retry]
async fn call() -> u32 {
    7
}

fn main() {}
