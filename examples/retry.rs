//! `#[retry]`: run the call again after a transient failure, with growing delays.
//!
//! ```text
//! cargo run --example retry
//! ```

use std::time::Instant;

use resilience::retry;

#[derive(Debug)]
#[allow(dead_code)] // the fields are shown through `Debug`
enum DbError {
    Deadlock,
    UniqueViolation,
    Rejected(resilience::Error),
}

impl From<resilience::Error> for DbError {
    fn from(error: resilience::Error) -> Self {
        DbError::Rejected(error)
    }
}

fn is_deadlock(error: &DbError) -> bool {
    matches!(error, DbError::Deadlock)
}

struct Table {
    rows: Vec<String>,
    deadlocks_left: u32,
}

impl Table {
    /// `&mut self` is lent to each attempt in turn; `name` is a `&String` in the body.
    #[retry(max_attempts = 4, base_delay = "50ms", backoff = "exponential", jitter = false, retry_if = is_deadlock)]
    async fn insert(&mut self, name: String) -> Result<usize, DbError> {
        if self.rows.contains(name) {
            return Err(DbError::UniqueViolation);
        }
        if self.deadlocks_left > 0 {
            self.deadlocks_left -= 1;
            println!("  attempt hit a deadlock");
            return Err(DbError::Deadlock);
        }
        self.rows.push(name.clone());
        Ok(self.rows.len())
    }
}

#[tokio::main]
async fn main() {
    let mut table = Table {
        rows: Vec::new(),
        deadlocks_left: 2,
    };
    let start = Instant::now();
    println!("insert alice: {:?}", table.insert("alice".into()).await);
    println!("  took {:?} (waits of 50ms and 100ms)", start.elapsed());
    println!(
        "insert alice again: {:?} (not retried)",
        table.insert("alice".into()).await
    );
    table.deadlocks_left = 10;
    println!(
        "insert bob: {:?} (the last error, after 4 attempts)",
        table.insert("bob".into()).await
    );
}
