use resilience::retry;

#[derive(Debug)]
pub enum ApiError {
    Rejected(resilience::Error),
}


impl From<resilience::Error> for ApiError {
    fn from(error: resilience::Error) -> Self {
        ApiError::Rejected(error)
    }
}

#[retry]
pub async fn with_anyhow() -> anyhow::Result<()> {
    Ok(())
}

#[retry]
pub async fn with_box() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

#[retry]
pub async fn with_own_enum() -> Result<(), ApiError> {
    Ok(())
}

pub type Fallible<T> = Result<T, resilience::Error>;

#[retry]
pub async fn with_alias() -> Fallible<u8> {
    Ok(1)
}

fn main() {}
