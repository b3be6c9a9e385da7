//! Live reload: instances configured from a TOML file, the file changed while traffic
//! runs, and each change applied with the instances' state kept.
//!
//! ```text
//! cargo run --example reload
//! ```
//!
//! The watcher polls the file's text every 100ms and applies it when it changes: no extra
//! dependency, and it works on every platform and filesystem. A service that prefers a
//! signal (`SIGHUP` through `tokio::signal::unix`) or a watcher crate (`notify`) calls the
//! same `registry().apply` from there: watching is the application's business.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use resilience::config::Document;
use resilience::{bulkhead, rate_limit, registry, Error};

#[rate_limit(name = "geocode", max_requests = 100, window = "1s")]
#[bulkhead(name = "geocode::pool", max_concurrent = 8, max_wait = "0s")]
async fn geocode(address: u64) -> Result<u64, Error> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(address * 7)
}

const FIRST: &str = r#"
[rate_limit.instances.geocode]
max_requests = 40
window = "1s"

[bulkhead.instances."geocode::pool"]
max_concurrent = 4
"#;

const SECOND: &str = r#"
[rate_limit.instances.geocode]
max_requests = 10
window = "1s"

[bulkhead.instances."geocode::pool"]
max_concurrent = 2
"#;

/// Two mistakes: nothing of this file is applied, and both are reported.
const BROKEN: &str = r#"
[rate_limit.instances.geocode]
max_requests = 0

[bulkhead.instances."geocode::pol"]
max_concurrent = 1
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("resilience-reload-{}.toml", std::process::id()));
    std::fs::write(&path, FIRST)?;
    // At start-up: the file and the environment over the attributes' arguments.
    let document = Document::from_toml(&std::fs::read_to_string(&path)?)?.with_env();
    registry().apply(&document)?;
    println!("started with the file:\n{}", registry().snapshot());

    let watcher = tokio::spawn(watch(path.clone()));
    let (served, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let traffic = tokio::spawn(serve(Arc::clone(&served), Arc::clone(&refused)));

    for (after, text, what) in [
        (700, SECOND, "a lower quota"),
        (700, BROKEN, "a broken file"),
    ] {
        tokio::time::sleep(Duration::from_millis(after)).await;
        report(&served, &refused);
        println!("-- editing the file: {what}");
        std::fs::write(&path, text)?;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    report(&served, &refused);
    traffic.abort();
    watcher.abort();
    std::fs::remove_file(&path)?;
    println!("\n{}", registry().snapshot());
    Ok(())
}

/// Applies the file whenever its text changes; a file with mistakes changes nothing.
async fn watch(path: PathBuf) {
    let mut applied = read(&path);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = read(&path);
        if text == applied {
            continue;
        }
        applied = text;
        let document = match Document::from_toml(&applied) {
            Ok(document) => document.with_env(),
            Err(errors) => {
                println!("not applied, the file does not parse:\n{errors}");
                continue;
            }
        };
        match registry().apply(&document) {
            Ok(changed) => println!("applied; changed: {changed:?}"),
            Err(errors) => println!("not applied, the previous config runs on:\n{errors}"),
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Sixteen callers, each calling again as soon as its call ends.
async fn serve(served: Arc<AtomicU64>, refused: Arc<AtomicU64>) {
    let callers = (0..16).map(|caller| {
        let (served, refused) = (Arc::clone(&served), Arc::clone(&refused));
        tokio::spawn(async move {
            for address in 0.. {
                match geocode(caller * 1000 + address).await {
                    Ok(_) => served.fetch_add(1, Relaxed),
                    Err(_) => {
                        refused.fetch_add(1, Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        0
                    }
                };
            }
        })
    });
    for caller in callers.collect::<Vec<_>>() {
        let _ = caller.await;
    }
}

fn report(served: &AtomicU64, refused: &AtomicU64) {
    let pool = registry().bulkhead("geocode::pool").expect("declared");
    println!(
        "served {:>4}, refused {:>5}; pool limit {}, running {}",
        served.swap(0, Relaxed),
        refused.swap(0, Relaxed),
        pool.config().max_concurrent,
        pool.active(),
    );
}
