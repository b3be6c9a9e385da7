//! `#[bulkhead]`: at most N calls at once; a short queue; the rest turned away.
//!
//! ```text
//! cargo run --example bulkhead
//! ```

use std::time::{Duration, Instant};

use resilience::{bulkhead, registry};

#[bulkhead(name = "pdf", max_concurrent = 2, max_wait = "150ms")]
async fn render_pdf(id: u32) -> Result<u32, resilience::Error> {
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(id)
}

#[tokio::main]
async fn main() {
    let start = Instant::now();
    let calls: Vec<_> = (1..=6).map(|id| tokio::spawn(render_pdf(id))).collect();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let pdf = registry()
        .bulkhead("pdf")
        .expect("created by the first call");
    println!(
        "running {}, queued {}, free {}",
        pdf.active(),
        pdf.queued(),
        pdf.available()
    );
    for call in calls {
        let result = call.await.expect("no panic");
        println!("{:>4}ms  {result:?}", start.elapsed().as_millis());
    }
    println!("{:?}", pdf.stats());
}
