// As in an `async fn`: each attempt borrows the arguments, so a body that moves one out
// is told so at the argument.
use resilience::retry;

struct Order {
    id: u64,
}

fn submit(order: Order) -> u64 {
    order.id
}

#[retry]
fn place(order: Order) -> Result<u64, resilience::Error> {
    Ok(submit(order))
}

fn main() {}
