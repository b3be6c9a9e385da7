#[fallback(Self::from_cache, from_replica, fallback_if = is_outage)]
#[circuit_breaker(name = "users")]
async fn get_user(&self, id: u64, region: String) -> Result<User, AppError> {
    self.primary.get(id, &region).await
}
