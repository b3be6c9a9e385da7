//! A streamed HTTP response guarded until its last chunk: a breaker permit and a bulkhead
//! slot held in the body stream's state, over real HTTP on loopback.
//!
//! `call(closure)` guards one future; a response whose body streams after its headers is
//! not one. With `CircuitBreaker::try_acquire_owned` and `Bulkhead::acquire_owned` the call
//! ends when the body does: a success at its last chunk, a failure when it breaks,
//! abandoned when the reader stops early.
//!
//! ```text
//! cargo run --example streaming
//! ```

mod guarded;
mod scenario;
mod server;

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), guarded::BoxError> {
    // About a second in all.
    let story = scenario::run(Duration::from_millis(25)).await?;
    println!(
        "call():  {} slot taken while the body streams (it came back with the headers)",
        story.active_with_call
    );
    println!(
        "permits: {} slot taken while the body streams (until its last chunk)",
        story.active_with_permit
    );
    println!(
        "3 exports at once, 2 slots: {:?} rows read, at most {} bodies streaming at once",
        story.exports, story.most_streaming
    );
    let (abandoned, free) = story.stopped_early;
    println!("a reader stopped early: {abandoned} call abandoned, {free} slots free");
    let (rows, broke) = story.broken;
    println!(
        "a body broke after {rows} of {} rows (seen by its reader: {broke}): a failure",
        server::ROWS
    );
    if let Some(rejection) = &story.after_broken {
        println!("the next export: {rejection}");
    }
    println!("breaker:  {:?}", story.breaker);
    println!("bulkhead: {:?}", story.bulkhead);
    Ok(())
}
