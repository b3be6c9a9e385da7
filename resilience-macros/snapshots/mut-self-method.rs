#[retry(max_attempts = ATTEMPTS, backoff = linear)]
#[timeout(250ms)]
async fn query(&mut self, sql: &str, rows: &mut Vec<u32>, label: String) -> Result<usize, DbError> {
    self.calls += 1;
    tracing::debug!("{self} runs {sql} for {label}");
    rows.push(self.calls);
    Ok(rows.len())
}
