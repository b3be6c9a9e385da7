//! A payments gateway: an axum route guarded by tower layers, and a settlement job guarded
//! by attributes, sharing the instances they name.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;

use axum::error_handling::HandleErrorLayer;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use resilience::tower::{BoxError, CircuitBreakerLayer, RateLimitLayer};
use resilience::{circuit_breaker, rate_limit, registry, Error, Snapshot};
use tower::ServiceBuilder;

/// The card processor's breaker: one for every path that calls the processor.
pub const PAYMENTS: &str = "gateway::payments";
/// The search backend's quota, shared by the public route and the indexer.
pub const SEARCH: &str = "gateway::search";

/// The downstream card processor, up or down.
#[derive(Default)]
pub struct Processor {
    down: AtomicBool,
}

/// What the processor answers when it is down, or what a policy answered instead.
#[derive(Debug)]
pub enum ProcessorError {
    Unavailable,
    Rejected(Error),
}

// The breaker reads a callee's rejection inside this error as that rejection.
resilience::as_rejection!(ProcessorError::Rejected);

impl From<Error> for ProcessorError {
    fn from(rejection: Error) -> Self {
        ProcessorError::Rejected(rejection)
    }
}

impl Processor {
    pub fn set_down(&self, down: bool) {
        self.down.store(down, SeqCst);
    }

    async fn charge(&self) -> Result<(), ProcessorError> {
        if self.down.load(SeqCst) {
            return Err(ProcessorError::Unavailable);
        }
        Ok(())
    }
}

/// The nightly settlement job: the attribute declares the breaker the route's layer uses.
#[circuit_breaker(
    name = "gateway::payments",
    failure_threshold = 3,
    recovery_timeout = "30s"
)]
pub async fn settle(processor: &Processor) -> Result<(), ProcessorError> {
    processor.charge().await
}

/// The search indexer, on the same quota as the public search route.
#[rate_limit(name = "gateway::search", max_requests = 3, window = "60s")]
pub async fn reindex() -> Result<&'static str, Error> {
    Ok("reindexed")
}

/// The gateway's routes, each guarded by the layers of the instance it shares.
///
/// # Errors
///
/// A layer's name that nothing declares.
pub fn router(processor: Arc<Processor>) -> Result<Router, resilience::ConfigError> {
    let payments = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(rejection_response))
        .layer(CircuitBreakerLayer::named(PAYMENTS)?);
    let search = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(rejection_response))
        .layer(RateLimitLayer::named(SEARCH)?);
    let pay = move || async move {
        match processor.charge().await {
            Ok(()) => (StatusCode::OK, "charged").into_response(),
            Err(_) => StatusCode::BAD_GATEWAY.into_response(),
        }
    };
    Ok(Router::new()
        .route("/payments", post(pay).route_layer(payments))
        .route("/search", get(|| async { "3 results" }).route_layer(search)))
}

/// A rejection as an HTTP answer: 503 for an open breaker or a full bulkhead, 429 for a
/// rate limit, each with `Retry-After` when the policy knows it; 504 for a timeout.
pub async fn rejection_response(error: BoxError) -> Response {
    let Some(rejection) = error.downcast_ref::<Error>() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = match rejection {
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut response = (status, rejection.to_string()).into_response();
    if let Some(wait) = rejection.retry_after() {
        // Whole seconds, rounded up from the millisecond (the policies' own resolution): a
        // client that comes back early is rejected again.
        let seconds = wait.as_secs() + u64::from(wait.subsec_millis() > 0);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// One HTTP answer: its status and its `Retry-After`, if any.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
}

/// What happened, in order, and the registry's snapshot at the end.
#[derive(Debug)]
pub struct Story {
    pub answers: Vec<(&'static str, Answer)>,
    pub snapshot: Snapshot,
}

/// Starts the gateway on an ephemeral loopback port, then plays the day: a payment, the
/// processor's outage seen by the settlement job, a payment during it, and searches
/// sharing the indexer's quota.
///
/// # Errors
///
/// Binding the port, or an HTTP request that fails to get any answer.
pub async fn run() -> Result<Story, BoxError> {
    let processor = Arc::new(Processor::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = router(Arc::clone(&processor))?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    let payment = || http.post(format!("{base}/payments"));
    answers.push(ask("payment", payment()).await?);
    processor.set_down(true);
    for _ in 0..3 {
        let settled = settle(&processor).await;
        println!("{:<28} {settled:?}", "settlement (attribute)");
    }
    answers.push(ask("payment during the outage", payment()).await?);

    println!("{:<28} {:?}", "indexer (attribute)", reindex().await);
    for what in ["search", "search", "search over quota"] {
        answers.push(ask(what, http.get(format!("{base}/search"))).await?);
    }
    Ok(Story {
        answers,
        snapshot: registry().snapshot(),
    })
}

/// Sends `request`, prints and returns its status and `Retry-After`.
async fn ask(
    what: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<(&'static str, Answer), BoxError> {
    let response = request.send().await?;
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER.as_str())
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let status = response.status().as_u16();
    let shown = retry_after.as_deref().unwrap_or("-");
    println!("{what:<28} HTTP {status}, Retry-After: {shown}");
    Ok((
        what,
        Answer {
            status,
            retry_after,
        },
    ))
}
