//! The story the streaming example tells, with its pace as a parameter so a test can run it
//! faster.

use std::pin::pin;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use resilience::{
    Bulkhead, BulkheadConfig, BulkheadStats, CircuitBreaker, CircuitBreakerConfig,
    CircuitBreakerStats, Error,
};

use crate::guarded::{self, BoxError};
use crate::server::{self, Seen};

/// What happened, for the test to check.
#[derive(Debug)]
pub struct Story {
    /// Slots taken while a body fetched with `Bulkhead::call` was still streaming.
    pub active_with_call: usize,
    /// Slots taken while a body guarded by a permit was still streaming.
    pub active_with_permit: usize,
    /// Rows read by each of the exports run at once.
    pub exports: Vec<usize>,
    /// The most bodies the backend streamed at once.
    pub most_streaming: usize,
    /// Calls abandoned, and slots free, once a reader stopped after the first chunk.
    pub stopped_early: (u64, usize),
    /// Rows read from the body that broke, and whether its reader saw it break.
    pub broken: (usize, bool),
    /// What the next export met once the broken body had opened the breaker.
    pub after_broken: Option<Error>,
    pub breaker: CircuitBreakerStats,
    pub bulkhead: BulkheadStats,
}

/// Reads a guarded body to its end; the rows read, and whether it broke.
async fn read_all(
    body: impl futures_util::Stream<Item = Result<axum::body::Bytes, reqwest::Error>>,
) -> (usize, bool) {
    let mut body = pin!(body);
    let mut rows = 0;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => rows += chunk.iter().filter(|b| **b == b'\n').count(),
            Err(_) => return (rows, true),
        }
    }
    (rows, false)
}

/// Runs the story, the backend sending a row every `row_every`.
pub async fn run(row_every: Duration) -> Result<Story, BoxError> {
    let seen = Arc::new(Seen::default());
    let base = server::start(row_every, Arc::clone(&seen)).await?;
    let export = format!("{base}/export");
    let http = reqwest::Client::new();
    let breaker = Arc::new(CircuitBreaker::new(
        "exports",
        CircuitBreakerConfig::DEFAULT.failure_threshold(1),
    )?);
    let bulkhead = Arc::new(Bulkhead::new(
        "exports",
        BulkheadConfig::DEFAULT.max_concurrent(2),
    )?);

    // `call` guards one future: around `send()`, the slot comes back with the headers,
    // while the body has yet to stream.
    let response = bulkhead
        .call(|| async { Ok::<_, anyhow::Error>(http.get(&export).send().await?) })
        .await?;
    let active_with_call = bulkhead.active();
    response.bytes().await?;

    // A permit guards the whole body.
    let body = guarded::get(&http, &export, &breaker, &bulkhead).await?;
    let active_with_permit = bulkhead.active();
    read_all(body).await;

    // Three exports at once, each in its own task with its permits: two stream, the third
    // queues for a slot until one body ends.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (http, export) = (http.clone(), export.clone());
        let (breaker, bulkhead) = (Arc::clone(&breaker), Arc::clone(&bulkhead));
        tasks.push(tokio::spawn(async move {
            let body = guarded::get(&http, &export, &breaker, &bulkhead).await?;
            Ok::<_, BoxError>(read_all(body).await.0)
        }));
    }
    let mut exports = Vec::new();
    for task in tasks {
        exports.push(task.await??);
    }
    let most_streaming = seen.most_streaming.load(SeqCst);

    // A reader that stops after the first chunk: the call is abandoned, its slot freed.
    let body = guarded::get(&http, &export, &breaker, &bulkhead).await?;
    drop(pin!(body).next().await);
    let stopped_early = (breaker.stats().abandoned, bulkhead.available());

    // A body that breaks halfway: a failure, and the breaker opens.
    let body = guarded::get(&http, &format!("{export}/broken"), &breaker, &bulkhead).await?;
    let broken = read_all(body).await;
    let after_broken = match guarded::get(&http, &export, &breaker, &bulkhead).await {
        Ok(_) => None,
        Err(error) => error.downcast::<Error>().ok().map(|error| *error),
    };

    Ok(Story {
        active_with_call,
        active_with_permit,
        exports,
        most_streaming,
        stopped_early,
        broken,
        after_broken,
        breaker: breaker.stats(),
        bulkhead: bulkhead.stats(),
    })
}
