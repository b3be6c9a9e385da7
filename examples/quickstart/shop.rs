//! The client side: a shop's calls to its backend, each guarded by the attributes.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use resilience::{bulkhead, circuit_breaker, rate_limit, retry, timeout};

#[derive(Debug, Clone)]
pub enum ShopError {
    /// The backend answered with an error status.
    Status(u16),
    /// The request did not get an answer.
    Http(String),
    /// A policy turned the call away.
    Rejected(resilience::Error),
}

impl From<resilience::Error> for ShopError {
    fn from(error: resilience::Error) -> Self {
        ShopError::Rejected(error)
    }
}

impl std::fmt::Display for ShopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShopError::Status(code) => write!(f, "HTTP {code}"),
            ShopError::Http(error) => write!(f, "{error}"),
            ShopError::Rejected(rejection) => write!(f, "{rejection}"),
        }
    }
}

/// Worth another try: 5xx and 429, or no answer at all.
pub fn is_transient(error: &ShopError) -> bool {
    match error {
        ShopError::Status(code) => *code >= 500 || *code == 429,
        ShopError::Http(_) => true,
        ShopError::Rejected(_) => false,
    }
}

pub struct Shop {
    http: reqwest::Client,
    base: String,
    /// Attempts made by the last guarded call (the body runs once per attempt).
    pub attempts: AtomicU32,
}

impl Shop {
    pub fn new(base: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base,
            attempts: AtomicU32::new(0),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, ShopError> {
        self.attempts.fetch_add(1, SeqCst);
        let response = request
            .send()
            .await
            .map_err(|e| ShopError::Http(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ShopError::Status(status.as_u16()));
        }
        response
            .text()
            .await
            .map_err(|e| ShopError::Http(e.to_string()))
    }

    /// Transient 503s: retries ride them out.
    #[retry(name = "inventory", max_attempts = 4, base_delay = "50ms", retry_if = is_transient)]
    pub async fn stock(&self, sku: &str) -> Result<String, ShopError> {
        self.send(self.http.get(format!("{}/inventory/{sku}", self.base)))
            .await
    }

    /// A hard outage: the breaker stops calling, then probes and closes when it is over.
    #[circuit_breaker(
        name = "payments",
        failure_threshold = 3,
        success_threshold = 2,
        recovery_timeout = "1s"
    )]
    pub async fn charge(&self, cents: u64) -> Result<String, ShopError> {
        self.send(
            self.http
                .post(format!("{}/payments", self.base))
                .body(cents.to_string()),
        )
        .await
    }

    /// Slow answers: each attempt gets 300ms, and a timed-out attempt is retried.
    #[retry(
        name = "reports",
        max_attempts = 3,
        base_delay = "20ms",
        jitter = false
    )]
    #[timeout("300ms", name = "reports")]
    pub async fn report(&self, id: u32) -> Result<String, ShopError> {
        self.send(self.http.get(format!("{}/reports/{id}", self.base)))
            .await
    }

    /// Heavy work: at most three at once, a short queue, the rest turned away.
    #[bulkhead(name = "exports", max_concurrent = 3, max_wait = "250ms")]
    pub async fn export(&self, id: u32) -> Result<String, ShopError> {
        self.send(self.http.get(format!("{}/export/{id}", self.base)))
            .await
    }

    /// The backend allows 5 searches a second; staying at 4 in any second never hits its 429.
    #[rate_limit(
        name = "search",
        max_requests = 4,
        window = "1s",
        algorithm = "sliding_window",
        max_wait = "5s"
    )]
    pub async fn search(&self, query: &str) -> Result<String, ShopError> {
        self.send(self.http.get(format!("{}/search?q={query}", self.base)))
            .await
    }
}
