#[circuit_breaker(name = "disk", failure_threshold = 3)]
#[retry(max_attempts = 3, base_delay = 10ms)]
#[bulkhead(max_concurrent = 4)]
fn read(&mut self, path: &Path, label: String) -> Result<Vec<u8>, IoError> {
    self.reads += 1;
    let bytes = std::fs::read(path)?;
    tracing::debug!("{label}: {} bytes", bytes.len());
    Ok(bytes)
}
