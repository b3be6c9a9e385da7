//! `#[fallback]`: when the users service fails, answer from a cache, then from a replica.
//! Written above the breaker, the chain also answers while the breaker is open.
//!
//! ```text
//! cargo run --example fallback
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;

use resilience::{circuit_breaker, fallback, registry, Fallback, FallbackConfig};

#[derive(Debug)]
#[allow(dead_code)] // the fields are shown through `Debug`
enum UserError {
    Unavailable,
    NotCached(u64),
    Rejected(resilience::Error),
}

impl From<resilience::Error> for UserError {
    fn from(error: resilience::Error) -> Self {
        UserError::Rejected(error)
    }
}

static PRIMARY_UP: AtomicBool = AtomicBool::new(true);
static CACHE: Mutex<Option<HashMap<u64, String>>> = Mutex::new(None);

/// Tried in order: the cache, then the replica; each gets the error of the step before.
#[fallback(from_cache, from_replica)]
#[circuit_breaker(name = "users", failure_threshold = 2, recovery_timeout = "30s")]
async fn user_name(id: u64) -> Result<String, UserError> {
    if !PRIMARY_UP.load(Relaxed) {
        return Err(UserError::Unavailable);
    }
    let name = format!("user {id}");
    CACHE
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(id, name.clone());
    Ok(name)
}

async fn from_cache(id: u64, error: UserError) -> Result<String, UserError> {
    println!("    primary failed ({error:?}); trying the cache");
    let cache = CACHE.lock().unwrap();
    match cache.as_ref().and_then(|cache| cache.get(&id)) {
        Some(name) => Ok(format!("{name} (cached)")),
        None => Err(UserError::NotCached(id)),
    }
}

async fn from_replica(id: u64, error: UserError) -> Result<String, UserError> {
    println!("    cache failed ({error:?}); asking the replica");
    Ok(format!("user {id} (replica)"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("user 1: {:?}", user_name(1).await);
    PRIMARY_UP.store(false, Relaxed);
    println!("the primary goes down");
    for id in [1, 2, 1] {
        println!("user {id}: {:?}", user_name(id).await);
    }
    let breaker = registry().circuit_breaker("users").unwrap();
    println!("breaker: {}", breaker.state());

    let stats = registry()
        .fallback(concat!(module_path!(), "::user_name"))
        .unwrap()
        .stats();
    println!(
        "fallback: {} calls, {} by the primary, {} by the cache, {} by the replica",
        stats.calls,
        stats.primary_succeeded,
        stats.recovered_by(1),
        stats.recovered_by(2)
    );

    // By hand: a chain over closures, as seed 004's `FallbackChain.create(cache, db, api)`.
    let chain = Fallback::new("prices", FallbackConfig::DEFAULT).unwrap();
    let price = chain
        .call(|| async { Err::<u32, _>(UserError::Unavailable) })
        .or(|_cache_error| async { Err(UserError::NotCached(7)) })
        .or(|_db_error| async { Ok(1250) })
        .run()
        .await;
    println!("price by hand: {price:?}");
}
