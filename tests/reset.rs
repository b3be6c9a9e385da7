//! `registry().reset()`, alone in its binary: it resets every instance of the process, so
//! in a binary with other tests it would reset theirs under them.

use std::time::Duration;

use resilience::{bulkhead, circuit_breaker, fallback, hedge, registry, retry, timeout, Error};

#[tokio::test(start_paused = true)]
async fn reset_returns_every_instance_to_its_initial_state() {
    use resilience::rate_limit;

    #[circuit_breaker(name = "registry::reset::breaker", failure_threshold = 1)]
    #[retry(name = "registry::reset::retry", max_attempts = 2, base_delay = 0)]
    #[bulkhead(name = "registry::reset::bulkhead")]
    #[timeout("1s", name = "registry::reset::timeout")]
    async fn failing() -> Result<(), Error> {
        Err(Error::Timeout {
            name: "db".into(),
            after: Duration::from_secs(1),
        })
    }
    #[rate_limit(name = "registry::reset::limiter", max_requests = 1, window = "1h")]
    async fn limited() -> Result<(), Error> {
        Ok(())
    }
    #[fallback(give_up, name = "registry::reset::fallback")]
    async fn with_fallback() -> Result<(), Error> {
        hedged().await
    }
    async fn give_up(error: Error) -> Result<(), Error> {
        Err(error)
    }
    #[hedge(name = "registry::reset::hedge")]
    async fn hedged() -> Result<(), Error> {
        Ok(())
    }
    let _ = failing().await;
    with_fallback().await.unwrap();
    limited().await.unwrap();
    assert!(limited().await.is_err(), "the quota is spent");
    let breaker = registry()
        .circuit_breaker("registry::reset::breaker")
        .unwrap();
    assert!(breaker.is_open());

    registry().reset();

    assert!(breaker.is_closed());
    assert_eq!(breaker.stats().calls, 0);
    assert_eq!(
        registry()
            .retry("registry::reset::retry")
            .unwrap()
            .stats()
            .calls,
        0
    );
    assert_eq!(
        registry()
            .bulkhead("registry::reset::bulkhead")
            .unwrap()
            .stats()
            .admitted,
        0
    );
    assert_eq!(
        registry()
            .timeout("registry::reset::timeout")
            .unwrap()
            .stats()
            .calls,
        0
    );
    assert_eq!(
        registry()
            .rate_limiter("registry::reset::limiter")
            .unwrap()
            .stats()
            .admitted,
        0
    );
    assert_eq!(
        registry()
            .fallback("registry::reset::fallback")
            .unwrap()
            .stats()
            .calls,
        0
    );
    assert_eq!(
        registry()
            .hedge("registry::reset::hedge")
            .unwrap()
            .stats()
            .calls,
        0
    );
    limited().await.expect("a full quota again");
}
