use resilience::rate_limit;

struct User {
    id: u64,
}

static TENANT: u64 = 7;

#[rate_limit(max_requests = 10, window = "1m", key = usr.id)]
async fn misspelt(user: &User) -> Result<u64, resilience::Error> {
    Ok(user.id)
}

#[rate_limit(max_requests = 10, window = "1m", key = TENANT)]
async fn no_argument(user: &User) -> Result<u64, resilience::Error> {
    Ok(user.id)
}

#[rate_limit(max_requests = 10, window = "1m", key = 42)]
async fn constant(user: &User) -> Result<u64, resilience::Error> {
    Ok(user.id)
}

fn main() {}
