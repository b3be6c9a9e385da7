//! How arguments may be written: durations with or without quotes, and constants.

use std::time::Duration;

use resilience::{circuit_breaker, rate_limit, registry, retry, timeout, Backoff, Error};
use tokio::time::{sleep, Instant};

fn failure() -> Error {
    Error::BulkheadFull {
        name: "downstream".into(),
        max_concurrent: 1,
    }
}

#[tokio::test(start_paused = true)]
async fn an_unquoted_duration_keeps_its_unit() {
    #[timeout(250ms)]
    async fn unquoted_timeout() -> Result<(), Error> {
        sleep(Duration::from_secs(10)).await;
        Ok(())
    }
    let start = Instant::now();
    let result = unquoted_timeout().await;
    assert!(
        matches!(&result, Err(Error::Timeout { after, .. }) if *after == Duration::from_millis(250)),
        "{result:?}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn an_unquoted_window_and_recovery_keep_their_units() {
    #[rate_limit(name = "arguments::window", max_requests = 1, window = 1m)]
    async fn limited() -> Result<(), Error> {
        Ok(())
    }
    limited().await.unwrap();
    let rejected = limited().await.unwrap_err();
    assert_eq!(rejected.retry_after(), Some(Duration::from_secs(60)));

    #[circuit_breaker(name = "arguments::recovery", failure_threshold = 1, recovery_timeout = 1h)]
    async fn guarded() -> Result<(), Error> {
        Err(Error::Timeout {
            name: "downstream".into(),
            after: Duration::from_secs(1),
        })
    }
    let _ = guarded().await;
    let open = guarded().await.unwrap_err();
    assert!(matches!(open, Error::CircuitOpen { .. }), "{open:?}");
    assert_eq!(open.retry_after(), Some(Duration::from_secs(3600)));
}

#[tokio::test(start_paused = true)]
async fn unquoted_delays_compose_units() {
    #[retry(name = "arguments::delays", base_delay = 100ms, max_delay = 2m, jitter = false)]
    async fn delayed() -> Result<(), Error> {
        Err(failure())
    }
    let config = registry()
        .retry("arguments::delays")
        .unwrap()
        .config()
        .clone();
    assert_eq!(config.base_delay, Duration::from_millis(100));
    assert_eq!(config.max_delay, Duration::from_secs(120));
    let start = Instant::now();
    let _ = delayed().await;
    assert_eq!(start.elapsed(), Duration::from_millis(100 + 200));

    #[timeout(1h30m, name = "arguments::compound")]
    async fn compound() -> Result<(), Error> {
        Ok(())
    }
    #[timeout(1.5s, name = "arguments::fraction")]
    async fn fraction() -> Result<(), Error> {
        Ok(())
    }
    assert_eq!(
        registry()
            .timeout("arguments::compound")
            .unwrap()
            .duration(),
        Duration::from_secs(5400)
    );
    assert_eq!(
        registry()
            .timeout("arguments::fraction")
            .unwrap()
            .duration(),
        Duration::from_millis(1500)
    );
    compound().await.unwrap();
    fraction().await.unwrap();
}

mod settings {
    use std::time::Duration;

    pub const PAYMENTS: &str = "arguments::payments";
    pub const ATTEMPTS: u32 = 4;
    pub const PAUSE: Duration = Duration::from_millis(20);
    pub const BACKOFF: resilience::Backoff = resilience::Backoff::Constant;
}

#[tokio::test(start_paused = true)]
async fn constants_name_instances_and_set_values() {
    use settings::{ATTEMPTS, BACKOFF, PAUSE, PAYMENTS};

    #[retry(name = PAYMENTS, max_attempts = ATTEMPTS, base_delay = PAUSE, backoff = BACKOFF, jitter = false)]
    async fn charge() -> Result<(), Error> {
        Err(failure())
    }
    let retry = registry().retry(PAYMENTS).unwrap();
    assert_eq!(retry.config().max_attempts, 4);
    assert_eq!(retry.config().backoff, Backoff::Constant);
    let start = Instant::now();
    let _ = charge().await;
    assert_eq!(start.elapsed(), PAUSE * 3);
    assert_eq!(retry.stats().calls, 1);
}

#[tokio::test(start_paused = true)]
async fn a_const_fn_call_is_a_value_too() {
    #[timeout(Duration::from_millis(40), name = "arguments::const_fn")]
    async fn bounded() -> Result<(), Error> {
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    let start = Instant::now();
    assert!(bounded().await.is_err());
    assert_eq!(start.elapsed(), Duration::from_millis(40));
}

#[tokio::test(start_paused = true)]
async fn a_positional_duration_may_follow_the_keys() {
    #[timeout(name = "arguments::positional_last", 75ms)]
    async fn bounded() -> Result<(), Error> {
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    assert_eq!(
        registry()
            .timeout("arguments::positional_last")
            .unwrap()
            .duration(),
        Duration::from_millis(75)
    );
    assert!(bounded().await.is_err());
}
