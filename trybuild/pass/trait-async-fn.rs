#![allow(async_fn_in_trait)] // this case is about the attributes, not about auto traits

use resilience::{circuit_breaker, retry};

pub trait Api {
    #[retry]
    async fn get(&self, id: u32) -> Result<u32, resilience::Error> {
        Ok(id)
    }

    async fn put(&mut self, id: u32) -> Result<(), resilience::Error>;
}

pub struct Remote;

impl Api for Remote {
    #[circuit_breaker]
    #[retry]
    async fn put(&mut self, _id: u32) -> Result<(), resilience::Error> {
        Ok(())
    }
}

fn main() {}
