use resilience::{circuit_breaker, retry};

pub struct Point {
    pub x: i32,
    pub y: i32,
}

#[derive(Debug)]
pub enum AppError {
    Parse(std::num::ParseIntError),
    Rejected(resilience::Error),
}

impl From<resilience::Error> for AppError {
    fn from(error: resilience::Error) -> Self {
        AppError::Rejected(error)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> Self {
        AppError::Parse(error)
    }
}

#[retry]
pub async fn destructure((a, b): (i32, i32), Point { x, y }: Point, _: u8) -> Result<i32, AppError> {
    Ok(a + b + x + y)
}

#[circuit_breaker]
pub async fn early_return(text: &str) -> Result<i32, AppError> {
    if text.is_empty() {
        return Ok(0);
    }
    let n: i32 = text.parse()?;
    let doubled = async { n * 2 }.await;
    Ok(doubled)
}

#[retry]
pub async fn retried_early_return(text: String) -> Result<i32, AppError> {
    if text.is_empty() {
        return Ok(0);
    }
    Ok(text.parse::<i32>()?)
}

fn main() {}
