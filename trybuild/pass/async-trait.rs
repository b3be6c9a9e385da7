use async_trait::async_trait;
use resilience::{circuit_breaker, retry, timeout};

#[async_trait]
pub trait Store: Send + Sync {
    async fn load(&self, key: String) -> Result<String, anyhow::Error>;
    async fn save(&mut self, key: &str, value: Vec<u8>) -> Result<(), anyhow::Error>;
}

pub struct Disk;

#[async_trait]
impl Store for Disk {
    #[circuit_breaker]
    #[retry]
    #[timeout("1s")]
    async fn load(&self, key: String) -> Result<String, anyhow::Error> {
        Ok(key.clone())
    }

    #[retry]
    async fn save(&mut self, key: &str, value: Vec<u8>) -> Result<(), anyhow::Error> {
        anyhow::ensure!(!key.is_empty() && !value.is_empty(), "empty");
        Ok(())
    }
}

fn main() {
    let _: Box<dyn Store> = Box::new(Disk);
}
