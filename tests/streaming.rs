//! The streaming example's story, over real HTTP on loopback: a body guarded by permits
//! holds its slot and its breaker call until its last chunk, and is counted by how it ends.

#[path = "../examples/streaming/guarded.rs"]
mod guarded;
#[path = "../examples/streaming/scenario.rs"]
mod scenario;
#[path = "../examples/streaming/server.rs"]
mod server;

use std::time::Duration;

use resilience::{CircuitState, Error};
use server::{CUT_AFTER, ROWS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streaming_example_tells_its_story() {
    let story = scenario::run(Duration::from_millis(20))
        .await
        .expect("the scenario runs");

    // `call` gave the slot back with the headers; the permit held it while the body streamed.
    assert_eq!((story.active_with_call, story.active_with_permit), (0, 1));

    // Three exports on two slots: every row read, never more than two bodies at once, and
    // two at once did happen.
    assert_eq!(story.exports, [ROWS; 3]);
    assert_eq!(story.most_streaming, 2);

    // A reader that stopped early abandoned its call and gave its slot back at once.
    assert_eq!(story.stopped_early, (1, 2));

    // The broken body was a failure, which opened the breaker: the next export was
    // rejected before it queued for a slot or reached the backend.
    assert_eq!(story.broken, (CUT_AFTER, true));
    assert!(
        matches!(
            story.after_broken,
            Some(Error::CircuitOpen {
                state: CircuitState::Open,
                ..
            })
        ),
        "{:?}",
        story.after_broken
    );

    // Seven calls through the breaker (the `call` one went through the bulkhead alone):
    // four whole bodies, one abandoned, one broken, one rejected.
    let breaker = story.breaker;
    assert_eq!(
        (
            breaker.calls,
            breaker.successes,
            breaker.abandoned,
            breaker.failures,
            breaker.rejections
        ),
        (7, 4, 1, 1, 1)
    );
    let bulkhead = story.bulkhead;
    assert_eq!(
        (
            bulkhead.admitted,
            bulkhead.rejections,
            bulkhead.active,
            bulkhead.queued
        ),
        (7, 0, 0, 0)
    );
}
