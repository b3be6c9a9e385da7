#[hedge(delay = "50ms", max_attempts = 3)]
#[circuit_breaker(name = "search")]
async fn search(self: Arc<Self>, query: String, limit: u32, region: &str) -> Result<Hits, SearchError> {
    self.replica(region).search(&query, limit).await
}
