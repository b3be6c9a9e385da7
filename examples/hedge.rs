//! `#[hedge]`: a search replica is sometimes slow; after 50ms without an answer a second
//! attempt starts beside the first, and the first answer wins. By hand, a `Hedge` races
//! different backends.
//!
//! ```text
//! cargo run --example hedge
//! ```

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

use resilience::{hedge, registry, Error, Hedge, HedgeConfig};

static REQUESTS: AtomicU32 = AtomicU32::new(0);

/// Every third request is stuck behind a slow disk for a second.
#[hedge(delay = "50ms", max_attempts = 3)]
async fn search(query: String) -> Result<String, Error> {
    let request = REQUESTS.fetch_add(1, Relaxed);
    let latency = if request % 3 == 0 { 1000 } else { 20 };
    tokio::time::sleep(Duration::from_millis(latency)).await;
    Ok(format!("results for {query:?} from request {request}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    for query in ["rust", "tokio", "hedging"] {
        let start = Instant::now();
        let answer = search(query.to_owned()).await;
        println!("{answer:?} after {:?}", start.elapsed());
    }
    let stats = registry()
        .hedge(concat!(module_path!(), "::search"))
        .unwrap()
        .stats();
    println!(
        "{} calls, {} hedges started, {} won by a hedge, {} attempts cancelled",
        stats.calls, stats.hedges, stats.won_by_hedge, stats.cancelled
    );

    // By hand: attempt `n` goes to backend `n`, as seed 004's `HedgingOperation`.
    let backends = [("eu-west", 300), ("us-east", 40), ("ap-south", 500)];
    let hedge = Hedge::new(
        "geo",
        HedgeConfig::DEFAULT
            .delay(Duration::from_millis(30))
            .max_attempts(3),
    )
    .unwrap();
    let start = Instant::now();
    let answer = hedge
        .race(|attempt| async move {
            let (backend, millis) = backends[attempt as usize];
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok::<_, Error>(backend)
        })
        .await;
    println!("backend race: {answer:?} after {:?}", start.elapsed());
}
