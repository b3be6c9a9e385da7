//! `#[timeout]` and `Timeout`, on tokio's paused clock.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use resilience::{registry, timeout, Error, Timeout, TimeoutConfig};
use tokio::time::{sleep, Instant};

/// Sets its flag when dropped: shows that a timed-out body is cancelled, not left running.
struct DropFlag(&'static AtomicBool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_is_cut_short_at_exactly_the_limit_and_dropped() {
    static DROPPED: AtomicBool = AtomicBool::new(false);
    #[timeout("250ms", name = "timeout::slow")]
    async fn slow() -> Result<(), Error> {
        let _flag = DropFlag(&DROPPED);
        sleep(Duration::from_secs(10)).await;
        Ok(())
    }
    let start = Instant::now();
    let after = Duration::from_millis(250);
    assert_eq!(
        slow().await,
        Err(Error::Timeout {
            name: "timeout::slow".into(),
            after
        })
    );
    assert_eq!(start.elapsed(), after);
    assert!(DROPPED.load(SeqCst));
    let stats = registry().timeout("timeout::slow").unwrap().stats();
    assert_eq!((stats.calls, stats.timeouts), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_call_within_the_limit_returns_its_own_result() {
    #[timeout(duration = 2)]
    async fn quick(x: u32) -> Result<u32, anyhow::Error> {
        sleep(Duration::from_millis(1999)).await;
        anyhow::ensure!(x > 0, "zero");
        Ok(x * 2)
    }
    assert_eq!(quick(4).await.unwrap(), 8);
    assert_eq!(quick(0).await.unwrap_err().to_string(), "zero");
}

#[tokio::test(start_paused = true)]
async fn numeric_seconds_and_the_rejection_as_the_callers_error() {
    #[timeout(0.5)]
    async fn half_second() -> Result<(), anyhow::Error> {
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    let start = Instant::now();
    let error = half_second().await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    let rejection = error
        .downcast_ref::<Error>()
        .expect("the rejection converted into anyhow::Error");
    assert_eq!(rejection.name(), concat!(module_path!(), "::half_second"));
}

#[tokio::test(start_paused = true)]
async fn by_hand() {
    let timeout = Timeout::new(
        "timeout::by_hand",
        TimeoutConfig::DEFAULT.duration(Duration::from_secs(1)),
    )
    .unwrap();
    assert_eq!(timeout.call(|| async { Ok::<_, Error>(1) }).await, Ok(1));
    let late = timeout.call(|| async {
        sleep(Duration::from_secs(2)).await;
        Ok::<_, Error>(2)
    });
    assert!(matches!(late.await, Err(Error::Timeout { .. })));
    assert!(Timeout::new("bad", TimeoutConfig::DEFAULT.duration(Duration::ZERO)).is_err());
}
