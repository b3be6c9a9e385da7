//! A shop's backend that misbehaves on a schedule, served over real HTTP on loopback,
//! with the process's resilience metrics at `/metrics` for Prometheus to scrape.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::time::Instant;

/// When the backend misbehaves, as offsets from its start.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// `/payments` answers 500 between these offsets.
    pub outage: (Duration, Duration),
    /// Every odd `/reports` request takes this long.
    pub slow_report: Duration,
    /// Each `/export` takes this long.
    pub export_work: Duration,
    /// `/search` allows this many requests per second, then answers 429 with `Retry-After`.
    pub search_quota: u32,
}

/// What the backend saw, for the story's last word.
#[derive(Default)]
pub struct Seen {
    pub inventory: AtomicU32,
    pub payments: AtomicU32,
    pub reports: AtomicU32,
    pub exports_running: AtomicUsize,
    pub exports_most: AtomicUsize,
    pub searches: AtomicU32,
    pub too_many_requests: AtomicU32,
}

struct Backend {
    schedule: Schedule,
    started: Instant,
    seen: Arc<Seen>,
    search_window: std::sync::Mutex<(u64, u32)>,
}

/// Starts the backend on `address` (port 0 for any free one); returns its base URL.
pub async fn start(address: &str, schedule: Schedule, seen: Arc<Seen>) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    let backend = Arc::new(Backend {
        schedule,
        started: Instant::now(),
        seen,
        search_window: Default::default(),
    });
    let app = Router::new()
        .route("/inventory/{sku}", get(inventory))
        .route("/payments", post(payments))
        .route("/reports/{id}", get(reports))
        .route("/export/{id}", get(export))
        .route("/search", get(search))
        .route("/metrics", get(metrics))
        .with_state(backend);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{address}"))
}

/// Every other request fails with 503: a transient error.
async fn inventory(State(backend): State<Arc<Backend>>, Path(sku): Path<String>) -> Response {
    if backend.seen.inventory.fetch_add(1, SeqCst) % 2 == 0 {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    format!("{sku}: 12 in stock").into_response()
}

/// A hard outage during the scheduled window.
async fn payments(State(backend): State<Arc<Backend>>) -> Response {
    let n = backend.seen.payments.fetch_add(1, SeqCst);
    let (from, to) = backend.schedule.outage;
    let now = backend.started.elapsed();
    if now >= from && now < to {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    format!("receipt #{n}").into_response()
}

/// Every odd request is slow.
async fn reports(State(backend): State<Arc<Backend>>, Path(id): Path<u32>) -> Response {
    if backend.seen.reports.fetch_add(1, SeqCst) % 2 == 1 {
        tokio::time::sleep(backend.schedule.slow_report).await;
    }
    format!("report {id}").into_response()
}

/// Work that takes a while; counts how many run at once.
async fn export(State(backend): State<Arc<Backend>>, Path(id): Path<u32>) -> Response {
    let seen = &backend.seen;
    let running = seen.exports_running.fetch_add(1, SeqCst) + 1;
    seen.exports_most.fetch_max(running, SeqCst);
    tokio::time::sleep(backend.schedule.export_work).await;
    seen.exports_running.fetch_sub(1, SeqCst);
    format!("export {id}").into_response()
}

/// A quota per second; over it, 429 with `Retry-After`.
async fn search(State(backend): State<Arc<Backend>>) -> Response {
    backend.seen.searches.fetch_add(1, SeqCst);
    let second = backend.started.elapsed().as_secs();
    let mut window = backend
        .search_window
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if window.0 != second {
        *window = (second, 0);
    }
    window.1 += 1;
    if window.1 > backend.schedule.search_quota {
        backend.seen.too_many_requests.fetch_add(1, SeqCst);
        return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response();
    }
    "3 results".into_response()
}

/// Every resilience instance's metrics, in the Prometheus text format, read from the
/// instances' counters now.
async fn metrics() -> Response {
    let content_type = [(header::CONTENT_TYPE, resilience::metrics::TEXT_CONTENT_TYPE)];
    (content_type, resilience::metrics::encode_text()).into_response()
}
