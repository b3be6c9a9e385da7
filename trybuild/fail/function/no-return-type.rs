use resilience::timeout;

#[timeout("1s")]
async fn call() {}

fn main() {}
