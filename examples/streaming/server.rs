//! A backend that streams exports row by row over real HTTP on loopback, and counts how
//! many bodies it is streaming at once.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use futures_util::stream;

/// Rows in every export.
pub const ROWS: usize = 8;
/// The row after which `/export/broken` cuts its body.
pub const CUT_AFTER: usize = 3;

/// What the backend saw.
#[derive(Default)]
pub struct Seen {
    streaming: AtomicUsize,
    /// The most bodies it streamed at once.
    pub most_streaming: AtomicUsize,
}

/// One body being streamed, counted from the handler until the body ends or is dropped.
struct Streaming(Arc<Seen>);

impl Streaming {
    fn start(seen: &Arc<Seen>) -> Self {
        let now = seen.streaming.fetch_add(1, SeqCst) + 1;
        seen.most_streaming.fetch_max(now, SeqCst);
        Self(Arc::clone(seen))
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.0.streaming.fetch_sub(1, SeqCst);
    }
}

/// Starts the backend on an ephemeral loopback port, a row every `row_every`; returns its
/// base URL.
pub async fn start(row_every: Duration, seen: Arc<Seen>) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = Router::new()
        .route(
            "/export",
            get(move |State(seen): State<Arc<Seen>>| async move { rows(&seen, row_every, None) }),
        )
        .route(
            "/export/broken",
            get(move |State(seen): State<Arc<Seen>>| async move {
                rows(&seen, row_every, Some(CUT_AFTER))
            }),
        )
        .with_state(seen);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}"))
}

/// `ROWS` rows, one every `every`; with `cut_after`, the connection breaks after that many.
fn rows(seen: &Arc<Seen>, every: Duration, cut_after: Option<usize>) -> Response {
    let streaming = Streaming::start(seen);
    let body = stream::unfold((0, streaming), move |(row, streaming)| async move {
        if row == ROWS {
            return None;
        }
        tokio::time::sleep(every).await;
        if cut_after == Some(row) {
            // An error item aborts the response: the client sees its body break.
            let cut = std::io::Error::other("export worker crashed");
            return Some((Err(cut), (ROWS, streaming)));
        }
        let line = format!("row {row}\n");
        Some((Ok::<_, std::io::Error>(line), (row + 1, streaming)))
    });
    Response::new(Body::from_stream(body))
}
