//! A response body guarded until its last chunk: the breaker's permit and the bulkhead's
//! slot live in the body stream's state, so the call ends when the body does.

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::{stream, Stream};
use resilience::{Bulkhead, CircuitBreaker, OwnedBulkheadPermit, OwnedCallPermit};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Asks the breaker, then queues for a slot, then sends the request; the body streams with
/// both permits held. The breaker hears of the call when it ends: a success at the body's
/// last chunk, a failure if the request or the body breaks, and nothing if the reader drops
/// the body early (abandoned). The slot comes back in every case.
///
/// # Errors
///
/// The breaker's or the bulkhead's rejection, or the request's error.
pub async fn get(
    http: &reqwest::Client,
    url: &str,
    breaker: &Arc<CircuitBreaker>,
    bulkhead: &Arc<Bulkhead>,
) -> Result<impl Stream<Item = Result<Bytes, reqwest::Error>>, BoxError> {
    // The order of `#[circuit_breaker] #[bulkhead]`: an open breaker rejects at once,
    // without queueing for a slot.
    let permit = Arc::clone(breaker).try_acquire_owned()?;
    let slot = Arc::clone(bulkhead).acquire_owned().await?;
    let response = match http.get(url).send().await {
        Ok(response) => response,
        Err(error) => {
            permit.failure();
            return Err(error.into());
        }
    };
    Ok(stream::unfold(
        Some(Guarded {
            response,
            permit,
            _slot: slot,
        }),
        next_chunk,
    ))
}

/// The body's state while it streams.
struct Guarded {
    response: reqwest::Response,
    permit: OwnedCallPermit,
    _slot: OwnedBulkheadPermit,
}

async fn next_chunk(
    state: Option<Guarded>,
) -> Option<(Result<Bytes, reqwest::Error>, Option<Guarded>)> {
    let mut guarded = state?;
    match guarded.response.chunk().await {
        Ok(Some(chunk)) => Some((Ok(chunk), Some(guarded))),
        // The last chunk: only now has the call succeeded, and only now is the slot free.
        Ok(None) => {
            guarded.permit.success();
            None
        }
        Err(error) => {
            guarded.permit.failure();
            Some((Err(error), None))
        }
    }
}
