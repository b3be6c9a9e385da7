// Under `#[retry]` an argument that is `Send` but not `Sync` is lent as `&mut T`, so the
// call's future is `Send` and can be spawned.
use std::cell::Cell;
use std::sync::mpsc::Receiver;

use resilience::retry;

#[retry(base_delay = 0)]
async fn drain(events: Receiver<u32>, seen: Cell<u32>) -> Result<u32, resilience::Error> {
    while let Ok(event) = events.try_recv() {
        seen.set(seen.get() + event);
        tokio::task::yield_now().await;
    }
    Ok(seen.get())
}

#[tokio::main]
async fn main() {
    let (send, events) = std::sync::mpsc::channel();
    send.send(2).unwrap();
    send.send(3).unwrap();
    let total = tokio::spawn(drain(events, Cell::new(0))).await.unwrap();
    assert_eq!(total, Ok(5));
}
