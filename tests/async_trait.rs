//! The attributes inside `#[async_trait]` impls, which hand us a fn returning
//! `Pin<Box<dyn Future + Send>>` instead of an `async fn`.

use std::time::Duration;

use async_trait::async_trait;
use resilience::{circuit_breaker, registry, retry, timeout, Error};

#[async_trait]
trait Store {
    async fn load(&self, key: String) -> Result<String, Error>;
    async fn bump(&mut self, by: u32) -> Result<u32, Error>;
}

struct Flaky {
    loads: std::sync::atomic::AtomicU32,
    counter: u32,
}

#[async_trait]
impl Store for Flaky {
    #[circuit_breaker(name = "async_trait::load")]
    #[retry(max_attempts = 3, base_delay = "10ms", jitter = false)]
    async fn load(&self, key: String) -> Result<String, Error> {
        let n = self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < 2 {
            return Err(Error::Timeout {
                name: "disk".into(),
                after: Duration::from_secs(1),
            });
        }
        Ok(format!("{key}={n}"))
    }

    #[retry(max_attempts = 3, base_delay = 0)]
    #[timeout("1s")]
    async fn bump(&mut self, by: u32) -> Result<u32, Error> {
        self.counter += by;
        if self.counter < 3 {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        Ok(self.counter)
    }
}

#[tokio::test(start_paused = true)]
async fn methods_of_an_async_trait_impl_are_guarded() {
    let mut store = Flaky {
        loads: Default::default(),
        counter: 0,
    };
    let start = tokio::time::Instant::now();
    assert_eq!(store.load("k".into()).await, Ok("k=2".to_owned()));
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    // The breaker saw the call; the other test here goes through the same impl, so count at
    // least this one.
    let breaker = registry().circuit_breaker("async_trait::load").unwrap();
    assert!(breaker.is_closed() && breaker.stats().successes >= 1);

    let start = tokio::time::Instant::now();
    assert_eq!(
        store.bump(1).await,
        Ok(3),
        "two attempts timed out, the third passed"
    );
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_trait_object_across_threads() {
    let store: Box<dyn Store + Send + Sync> = Box::new(Flaky {
        loads: 2.into(),
        counter: 0,
    });
    let loaded = tokio::spawn(async move { store.load("x".into()).await })
        .await
        .unwrap();
    assert_eq!(loaded, Ok("x=2".to_owned()));
}
