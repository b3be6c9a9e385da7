//! Plain (non-async) fns under `#[circuit_breaker]`, `#[retry]` and `#[bulkhead]`: a pool of
//! threads calls a flaky blocking client through them, and an async caller shares the same
//! breaker and bulkhead by name. The service drops a connection now and then (the retry
//! hides it), goes down (the breaker opens, for threads and tasks alike), and comes back.
//!
//! ```text
//! cargo run --example blocking
//! ```

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use resilience::{bulkhead, circuit_breaker, registry, retry};

#[derive(Debug)]
enum StockError {
    ConnectionReset,
    Down,
    Rejected(resilience::Error),
}

impl From<resilience::Error> for StockError {
    fn from(error: resilience::Error) -> Self {
        StockError::Rejected(error)
    }
}

static OUTAGE: AtomicBool = AtomicBool::new(false);
/// The lookups whose connection was lost once already.
static RESET: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static CONNECTIONS: AtomicUsize = AtomicUsize::new(0);
static MOST_CONNECTIONS: AtomicUsize = AtomicUsize::new(0);

/// The legacy client: a blocking request of 20ms on a connection of its own. One lookup in
/// four loses its connection the first time; during the outage none gets an answer.
fn legacy_request(sku: u32) -> Result<u32, StockError> {
    let open = CONNECTIONS.fetch_add(1, Relaxed) + 1;
    MOST_CONNECTIONS.fetch_max(open, Relaxed);
    thread::sleep(Duration::from_millis(20));
    CONNECTIONS.fetch_sub(1, Relaxed);
    if OUTAGE.load(Relaxed) {
        return Err(StockError::Down);
    }
    if sku % 4 == 3 && RESET.lock().expect("not poisoned").insert(sku) {
        return Err(StockError::ConnectionReset);
    }
    Ok(sku * 10)
}

/// The service takes three connections at once; threads beyond that queue for one.
#[circuit_breaker(name = "inventory", failure_threshold = 5, recovery_timeout = "300ms")]
#[retry(max_attempts = 3, base_delay = "10ms")]
#[bulkhead(name = "inventory-connections", max_concurrent = 3, max_wait = "1s")]
fn stock(sku: u32) -> Result<u32, StockError> {
    legacy_request(sku)
}

/// The async side of the same service: the same breaker and the same three connections
/// (its retry is its own).
#[circuit_breaker(name = "inventory", failure_threshold = 5, recovery_timeout = "300ms")]
#[retry(max_attempts = 3, base_delay = "10ms")]
#[bulkhead(name = "inventory-connections", max_concurrent = 3, max_wait = "1s")]
async fn stock_async(sku: u32) -> Result<u32, StockError> {
    tokio::task::spawn_blocking(move || legacy_request(sku))
        .await
        .expect("the request does not panic")
}

/// Eight threads, five lookups each; returns how many succeeded and how many the breaker
/// turned away.
fn pool_of_threads() -> (usize, usize) {
    RESET.lock().expect("not poisoned").clear();
    let results: Vec<Result<u32, StockError>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                scope.spawn(move || (0..5).map(|i| stock(worker * 5 + i)).collect::<Vec<_>>())
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("no panic"))
            .collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let open = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(StockError::Rejected(resilience::Error::CircuitOpen { .. }))
            )
        })
        .count();
    (ok, open)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let start = Instant::now();
    let at = || format!("{:>5}ms", start.elapsed().as_millis());

    let (ok, open) = pool_of_threads();
    println!(
        "{} steady: {ok}/40 lookups answered ({open} turned away); a lost connection is retried",
        at()
    );
    println!(
        "{}   at most {} connections open at once",
        at(),
        MOST_CONNECTIONS.load(Relaxed)
    );

    OUTAGE.store(true, Relaxed);
    let (ok, open) = pool_of_threads();
    println!(
        "{} outage: {ok}/40 answered, {open} turned away by the open breaker",
        at()
    );
    let from_async = runtime.block_on(stock_async(1));
    println!(
        "{} the async caller meets the same open breaker: {from_async:?}",
        at()
    );

    OUTAGE.store(false, Relaxed);
    thread::sleep(Duration::from_millis(350));
    let probes: Vec<_> = (0..2)
        .map(|sku| runtime.block_on(stock_async(sku)))
        .collect();
    println!(
        "{} back: the async caller's probes {probes:?} close it for everyone",
        at()
    );
    let (ok, open) = pool_of_threads();
    println!(
        "{} steady again: {ok}/40 answered ({open} turned away)",
        at()
    );

    let breaker = registry().circuit_breaker("inventory").expect("declared");
    let connections = registry()
        .bulkhead("inventory-connections")
        .expect("declared");
    println!(
        "{} breaker {:?}: {:?}",
        at(),
        breaker.state(),
        breaker.stats()
    );
    println!("{} connections: {:?}", at(), connections.stats());
}
