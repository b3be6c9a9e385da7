use std::sync::Arc;

use resilience::{retry, timeout};

pub struct Client {
    hits: u32,
}

impl Client {
    #[retry]
    pub async fn shared(&self, id: u64) -> Result<u64, resilience::Error> {
        Ok(id + u64::from(self.hits))
    }

    #[retry]
    #[timeout("1s")]
    pub async fn exclusive(&mut self, by: u32, log: &mut Vec<u32>) -> Result<u32, resilience::Error> {
        self.hits += by;
        log.push(self.hits);
        Ok(self.hits)
    }

    #[retry]
    pub async fn owned(self) -> Result<u32, resilience::Error> {
        Ok(self.hits)
    }

    #[retry]
    pub async fn owned_mut(mut self) -> Result<u32, resilience::Error> {
        self.hits += 1;
        Ok(self.hits)
    }

    #[retry]
    pub async fn arc(self: Arc<Self>) -> Result<u32, resilience::Error> {
        Ok(self.hits)
    }

    #[timeout("1s")]
    pub async fn consumes(self: Arc<Self>) -> Result<Arc<Self>, resilience::Error> {
        Ok(self)
    }

    #[retry]
    pub async fn associated(name: &str) -> Result<usize, resilience::Error> {
        Ok(name.len())
    }
}

fn main() {}
