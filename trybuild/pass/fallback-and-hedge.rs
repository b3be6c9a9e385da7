//! The shapes `#[fallback]` and `#[hedge]` accept: generics, methods of every receiver a
//! fallback can be lent and a hedge can share, `#[async_trait]` impls, trait default
//! methods, `impl Trait` arguments, and stacks with the other attributes.

use std::fmt::Display;
use std::sync::Arc;

use resilience::{
    bulkhead, circuit_breaker, fallback, hedge, rate_limit, retry, timeout, Error,
};

#[fallback(to_default::<T>)]
#[retry(max_attempts = 2)]
#[timeout("1s")]
pub async fn generic<T: Default + Clone + Send + Sync>(value: T) -> Result<T, Error> {
    Ok(value.clone())
}

pub async fn to_default<T: Default>(_: &T, _: Error) -> Result<T, Error> {
    Ok(T::default())
}

#[fallback(describe)]
pub async fn displayed(item: impl Display + Sync, times: u8) -> Result<String, Error> {
    Ok(format!("{item} x{times}"))
}

pub async fn describe(item: &(impl Display + Sync), times: u8, _: Error) -> Result<String, Error> {
    Ok(format!("{item} (fallback) x{times}"))
}

#[hedge(delay = 0, max_attempts = 3)]
#[circuit_breaker]
#[bulkhead(max_concurrent = 2)]
#[rate_limit(max_requests = 10, window = "1s")]
#[timeout("1s")]
pub async fn hedged_stack(key: String, shard: u32, label: &str) -> Result<String, Error> {
    Ok(format!("{label}{key}{shard}"))
}

#[retry(max_attempts = 3)]
#[fallback(shared_default)]
#[hedge(delay = "50ms")]
#[retry(max_attempts = 2)]
#[fallback(shared_default)]
pub async fn lenders_around_a_hedge(id: u64, key: String) -> Result<u64, Error> {
    Ok(id + key.len() as u64)
}

pub async fn shared_default(_: u64, _: &String, _: Error) -> Result<u64, Error> {
    Ok(0)
}

pub struct Service {
    pub name: String,
}

impl Service {
    #[fallback(Self::shared_fallback)]
    pub async fn shared(&self, id: u64) -> Result<String, Error> {
        Ok(format!("{}{id}", self.name))
    }

    async fn shared_fallback(&self, id: u64, _: Error) -> Result<String, Error> {
        Ok(format!("{} fallback {id}", self.name))
    }

    #[fallback(Self::exclusive_fallback)]
    pub async fn exclusive(&mut self, suffix: String) -> Result<usize, Error> {
        self.name.push_str(suffix);
        Ok(self.name.len())
    }

    async fn exclusive_fallback(&mut self, suffix: &String, _: Error) -> Result<usize, Error> {
        Ok(self.name.len() + suffix.len())
    }

    #[hedge]
    pub async fn hedged_ref(&self, id: u64) -> Result<String, Error> {
        Ok(format!("{}{id}", self.name))
    }

    #[hedge]
    pub async fn hedged_arc(self: Arc<Self>, id: u64) -> Result<String, Error> {
        Ok(format!("{}{id}", self.name))
    }

    #[hedge]
    pub async fn hedged_owned(self) -> Result<String, Error> {
        Ok(self.name.clone())
    }
}

#[async_trait::async_trait]
pub trait Lookup {
    async fn find(&self, id: u64) -> Result<u64, Error>;

    #[hedge(delay = "10ms")]
    async fn find_fast(&self, id: u64) -> Result<u64, Error> {
        self.find(id).await
    }
}

async fn zero(_: &Service, _: u64, _: Error) -> Result<u64, Error> {
    Ok(0)
}

#[async_trait::async_trait]
impl Lookup for Service {
    #[fallback(zero)]
    async fn find(&self, id: u64) -> Result<u64, Error> {
        Ok(id + self.name.len() as u64)
    }
}

fn is_send<T: Send>(_: T) {}

fn main() {
    is_send(generic(1u8));
    is_send(displayed("x", 1));
    is_send(hedged_stack(String::new(), 1, "l"));
    is_send(lenders_around_a_hedge(1, String::new()));
    let mut service = Service { name: String::new() };
    is_send(service.shared(1));
    is_send(service.exclusive(String::new()));
    is_send(Arc::new(Service { name: String::new() }).hedged_arc(1));
}
