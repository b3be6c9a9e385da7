#[retry(max_attempts = 3)]
#[rate_limit(name = "api", max_requests = 100, window = "1m", key = user.id, max_keys = 50_000)]
async fn handle(user: &User, request: Request) -> Result<Response, ApiError> {
    serve(user, request).await
}
