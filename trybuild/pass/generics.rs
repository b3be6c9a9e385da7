use std::fmt::Display;

use resilience::{retry, timeout};

#[retry]
#[timeout("1s")]
pub async fn describe<'a, T, E>(item: &'a T, label: impl AsRef<str>) -> Result<String, E>
where
    T: Display + Sync,
    E: From<resilience::Error>,
{
    Ok(format!("{}: {item}", label.as_ref()))
}

#[timeout("1s")]
pub async fn opaque(n: u32) -> Result<impl Display, Box<dyn std::error::Error + Send + Sync>> {
    Ok(n * 2)
}

pub struct Wrapper<T>(T);

impl<T: Clone + Send + Sync> Wrapper<T> {
    #[retry]
    pub async fn get(&self) -> Result<T, resilience::Error> {
        Ok(self.0.clone())
    }
}

fn main() {}
