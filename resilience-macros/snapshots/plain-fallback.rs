#[fallback(from_cache, from_replica)]
#[circuit_breaker(name = "users")]
fn user(&self, id: UserId) -> Result<User, AppError> {
    self.primary.get(id)
}
