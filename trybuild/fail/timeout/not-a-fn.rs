use resilience::timeout;

#[timeout("5s")]
struct Client;

fn main() {}
