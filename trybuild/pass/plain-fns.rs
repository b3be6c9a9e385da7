// Plain (non-async) fns take the attributes that do not cancel: free fns, methods of every
// receiver, generics, borrowed results, `?` and `return` in the body.
use std::fmt::Display;
use std::sync::Arc;

use resilience::{bulkhead, circuit_breaker, fallback, rate_limit, retry};

#[circuit_breaker(failure_threshold = 2)]
#[retry(max_attempts = 2, base_delay = 0)]
#[bulkhead(max_concurrent = 2)]
#[rate_limit(max_requests = 10, window = "1s")]
pub fn free(id: u64, label: String) -> Result<String, resilience::Error> {
    if id == 0 {
        return Ok(String::new());
    }
    Ok(format!("{label} {id}"))
}

#[fallback(cached_label)]
#[circuit_breaker]
fn label(id: u64, prefix: String) -> Result<String, resilience::Error> {
    Ok(format!("{prefix}{id}"))
}

// The arguments as the body sees them (lent as under `#[retry]`), then the error.
fn cached_label(id: u64, prefix: &String, _: resilience::Error) -> Result<String, resilience::Error> {
    Ok(format!("{prefix}{id} (cached)"))
}

#[retry]
fn parse(text: &str) -> Result<u32, anyhow::Error> {
    let n: u32 = text.parse()?;
    Ok(n)
}

#[retry]
fn generic<T: Display + Sync>(value: T, extra: impl Display) -> Result<String, resilience::Error> {
    Ok(format!("{value}{extra}"))
}

pub struct Store {
    items: Vec<String>,
}

impl Store {
    #[circuit_breaker]
    pub fn first(&self) -> Result<&str, resilience::Error> {
        Ok(self.items.first().map_or("", String::as_str))
    }

    #[retry]
    #[bulkhead]
    pub fn push(&mut self, item: String, log: &mut Vec<usize>) -> Result<usize, resilience::Error> {
        self.items.push(item.clone()); // `item` is a `&String` under `#[retry]`
        log.push(self.items.len());
        Ok(self.items.len())
    }

    #[retry]
    pub fn owned(self) -> Result<usize, resilience::Error> {
        Ok(self.items.len())
    }

    #[rate_limit(max_requests = 1, window = "1s")]
    pub fn arc(self: Arc<Self>) -> Result<Arc<Self>, resilience::Error> {
        Ok(self)
    }

    #[bulkhead]
    pub fn new() -> Result<Self, resilience::Error> {
        Ok(Self { items: Vec::new() })
    }
}

fn main() {
    let _ = (free(1, "a".into()), parse("7"), generic(1, 'x'), label(1, "#".into()));
    let mut store = Store::new().unwrap();
    let mut log = Vec::new();
    let _ = store.push("a".into(), &mut log);
    let _ = store.first();
    let _ = Arc::new(Store::new().unwrap()).arc();
    let _ = store.owned();
}
