//! Stacked attributes: one pipeline in written order (top = outermost), rejections that
//! travel as rejections, and only the outermost layer converting them.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilience::{bulkhead, circuit_breaker, rate_limit, registry, retry, timeout, Error};
use tokio::time::{sleep, Instant};

const MS: Duration = Duration::from_millis(1);

#[derive(Debug, PartialEq)]
enum CallError {
    Down,
    Rejected(Error),
}

impl From<Error> for CallError {
    fn from(error: Error) -> Self {
        CallError::Rejected(error)
    }
}

#[tokio::test(start_paused = true)]
async fn retry_over_breaker_stops_retrying_once_the_breaker_opens() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 5, base_delay = "10ms", jitter = false)]
    #[circuit_breaker(name = "stack::retry_over_cb", failure_threshold = 2)]
    async fn call() -> Result<(), CallError> {
        CALLS.fetch_add(1, SeqCst);
        Err(CallError::Down)
    }
    let result = call().await;
    assert!(
        matches!(result, Err(CallError::Rejected(Error::CircuitOpen { .. }))),
        "{result:?}"
    );
    assert_eq!(
        CALLS.load(SeqCst),
        2,
        "two failures opened it; the third attempt was rejected and not retried"
    );
    let breaker = registry()
        .circuit_breaker("stack::retry_over_cb")
        .unwrap()
        .stats();
    assert_eq!((breaker.failures, breaker.rejections), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn breaker_over_retry_counts_one_failure_per_exhausted_call() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[circuit_breaker(name = "stack::cb_over_retry", failure_threshold = 2)]
    #[retry(max_attempts = 3, base_delay = "10ms", jitter = false)]
    async fn call() -> Result<(), CallError> {
        CALLS.fetch_add(1, SeqCst);
        Err(CallError::Down)
    }
    assert_eq!(call().await, Err(CallError::Down));
    assert_eq!(CALLS.load(SeqCst), 3);
    assert!(registry()
        .circuit_breaker("stack::cb_over_retry")
        .unwrap()
        .is_closed());
    assert_eq!(call().await, Err(CallError::Down));
    assert_eq!(CALLS.load(SeqCst), 6);
    assert!(registry()
        .circuit_breaker("stack::cb_over_retry")
        .unwrap()
        .is_open());
    assert!(matches!(
        call().await,
        Err(CallError::Rejected(Error::CircuitOpen { .. }))
    ));
    assert_eq!(CALLS.load(SeqCst), 6);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_inside_a_retry_bounds_each_attempt_and_is_retried() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 3, base_delay = "100ms", jitter = false)]
    #[timeout("1s")]
    async fn call() -> Result<u32, CallError> {
        let n = CALLS.fetch_add(1, SeqCst);
        if n < 2 {
            sleep(Duration::from_secs(5)).await;
        }
        Ok(n)
    }
    let start = Instant::now();
    assert_eq!(call().await, Ok(2));
    assert_eq!(start.elapsed(), MS * (1000 + 100 + 1000 + 200));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_outside_a_retry_bounds_the_whole_call() {
    #[timeout("1s")]
    #[retry(
        max_attempts = 10,
        base_delay = "300ms",
        backoff = "constant",
        jitter = false
    )]
    async fn call() -> Result<(), CallError> {
        Err(CallError::Down)
    }
    let start = Instant::now();
    assert!(matches!(
        call().await,
        Err(CallError::Rejected(Error::Timeout { .. }))
    ));
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn per_attempt_and_total_timeouts_on_one_fn_are_two_instances() {
    #[timeout("2s")]
    #[retry(max_attempts = 5, base_delay = "1ms", jitter = false)]
    #[timeout("500ms")]
    async fn two_timeouts() -> Result<(), CallError> {
        sleep(Duration::from_secs(60)).await;
        Ok(())
    }
    let start = Instant::now();
    let result = two_timeouts().await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    let Err(CallError::Rejected(Error::Timeout { after, .. })) = result else {
        panic!("{result:?}")
    };
    assert_eq!(after, Duration::from_secs(2));
    let total = registry()
        .timeout(concat!(module_path!(), "::two_timeouts"))
        .unwrap();
    let per_attempt = registry()
        .timeout(concat!(module_path!(), "::two_timeouts#2"))
        .unwrap();
    assert_eq!(
        (total.duration(), per_attempt.duration()),
        (Duration::from_secs(2), Duration::from_millis(500))
    );
    assert_eq!(
        per_attempt.stats().timeouts,
        3,
        "three attempts of 500ms, then the total ran out"
    );
}

#[tokio::test(start_paused = true)]
async fn a_breaker_counts_an_inner_timeout_as_a_failure() {
    #[circuit_breaker(name = "stack::cb_timeout", failure_threshold = 1)]
    #[timeout("10ms")]
    async fn call() -> Result<(), CallError> {
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    assert!(matches!(
        call().await,
        Err(CallError::Rejected(Error::Timeout { .. }))
    ));
    assert!(registry()
        .circuit_breaker("stack::cb_timeout")
        .unwrap()
        .is_open());
}

#[tokio::test(start_paused = true)]
async fn a_breaker_ignores_inner_load_shedding() {
    #[circuit_breaker(name = "stack::cb_shed", failure_threshold = 1)]
    #[rate_limit(max_requests = 1, window = "1m")]
    async fn call() -> Result<(), CallError> {
        Ok(())
    }
    call().await.unwrap();
    for _ in 0..3 {
        assert!(matches!(
            call().await,
            Err(CallError::Rejected(Error::RateLimited { .. }))
        ));
    }
    let breaker = registry().circuit_breaker("stack::cb_shed").unwrap();
    assert!(breaker.is_closed());
    assert_eq!(breaker.stats().abandoned, 3);
}

#[tokio::test(start_paused = true)]
async fn a_retry_waits_at_least_a_rate_limit_s_retry_after() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 2, base_delay = "1ms", jitter = false)]
    #[rate_limit(max_requests = 1, window = "2s")]
    async fn call() -> Result<u32, CallError> {
        Ok(CALLS.fetch_add(1, SeqCst))
    }
    call().await.unwrap();
    let start = Instant::now();
    assert_eq!(call().await, Ok(1));
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "the backoff was 1ms, the limiter said 2s"
    );
}

#[tokio::test(start_paused = true)]
async fn all_five_stacked_on_one_fn() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[circuit_breaker(name = "stack::five", failure_threshold = 3)]
    #[retry(max_attempts = 3, base_delay = "100ms", jitter = false)]
    #[timeout("1s")]
    #[bulkhead(name = "stack::five", max_concurrent = 4)]
    #[rate_limit(name = "stack::five", max_requests = 100, window = "1s")]
    async fn fetch(id: u32) -> Result<String, CallError> {
        if CALLS.fetch_add(1, SeqCst) == 0 {
            return Err(CallError::Down);
        }
        Ok(format!("item {id}"))
    }
    let start = Instant::now();
    assert_eq!(fetch(7).await, Ok("item 7".to_owned()));
    assert_eq!(start.elapsed(), MS * 100);
    let snapshot = registry().snapshot();
    for kind in [
        resilience::Kind::CircuitBreaker,
        resilience::Kind::Bulkhead,
        resilience::Kind::RateLimiter,
    ] {
        assert!(snapshot.get(kind, "stack::five").is_some(), "{kind}");
    }
    let bulkhead = registry().bulkhead("stack::five").unwrap().stats();
    assert_eq!((bulkhead.admitted, bulkhead.active), (2, 0));
}

#[tokio::test(start_paused = true)]
async fn the_written_order_holds_whichever_attribute_is_path_qualified() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[resilience::retry(max_attempts = 4, base_delay = "1ms", jitter = false)]
    #[resilience::circuit_breaker(name = "stack::qualified", failure_threshold = 2)]
    async fn call() -> Result<(), CallError> {
        CALLS.fetch_add(1, SeqCst);
        Err(CallError::Down)
    }
    assert!(matches!(
        call().await,
        Err(CallError::Rejected(Error::CircuitOpen { .. }))
    ));
    assert_eq!(CALLS.load(SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_fn_spawns_on_a_multi_threaded_runtime() {
    struct Client {
        hits: AtomicU32,
    }
    impl Client {
        #[circuit_breaker(name = "stack::spawn")]
        #[retry(max_attempts = 2, base_delay = "1ms")]
        #[timeout("5s")]
        async fn hit(&mut self, by: u32) -> Result<u32, CallError> {
            self.hits.fetch_add(by, SeqCst);
            tokio::task::yield_now().await;
            Ok(self.hits.load(SeqCst))
        }
    }
    let task = tokio::spawn(async move {
        let mut client = Client {
            hits: AtomicU32::new(0),
        };
        client.hit(2).await
    });
    assert_eq!(task.await.unwrap(), Ok(2));
}

/// `use resilience as rl;` and a re-export, the two ways a path can hide that an attribute
/// is ours.
use resilience as rl;

mod corp {
    pub use resilience::{retry, timeout};
}

/// Three attempts of 100ms each: what a retry over a timeout does, and a timeout over a
/// retry does not.
async fn assert_retried_timeouts<F: std::future::Future<Output = Result<(), Error>>>(
    call: F,
    calls: &AtomicU32,
) {
    let start = Instant::now();
    let result = call.await;
    assert!(matches!(result, Err(Error::Timeout { .. })), "{result:?}");
    assert_eq!(calls.load(SeqCst), 3, "the retry is the outer layer");
    assert_eq!(start.elapsed(), 300 * MS);
}

/// A test that a retry written above a timeout, spelled as given, retries each attempt the
/// timeout cuts short. The attributes go through as tokens, as a user writes them.
macro_rules! retry_over_timeout {
    ($test:ident, $(#[$($attribute:tt)*])+) => {
        #[tokio::test(start_paused = true)]
        async fn $test() {
            static CALLS: AtomicU32 = AtomicU32::new(0);
            $(#[$($attribute)*])+
            async fn call() -> Result<(), Error> {
                CALLS.fetch_add(1, SeqCst);
                sleep(Duration::from_secs(1)).await;
                Ok(())
            }
            assert_retried_timeouts(call(), &CALLS).await;
        }
    };
}

use resilience::timeout as deadline;

retry_over_timeout!(
    the_written_order_holds_when_a_sibling_is_named_through_an_alias,
    #[retry(max_attempts = 3, base_delay = 0)]
    #[rl::timeout("100ms")]
);
retry_over_timeout!(
    the_written_order_holds_when_every_attribute_is_named_through_an_alias,
    #[rl::retry(max_attempts = 3, base_delay = 0)]
    #[rl::timeout("100ms")]
);
retry_over_timeout!(
    the_written_order_holds_through_a_re_export,
    #[corp::retry(max_attempts = 3, base_delay = 0)]
    #[corp::timeout("100ms")]
);
retry_over_timeout!(
    the_written_order_holds_when_a_sibling_is_renamed_on_import,
    #[retry(max_attempts = 3, base_delay = 0)]
    #[deadline("100ms")]
);

#[tokio::test(start_paused = true)]
async fn the_written_order_holds_with_an_aliased_attribute_in_the_middle() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[circuit_breaker(name = "stack::aliased_middle", failure_threshold = 5)]
    #[rl::retry(max_attempts = 3, base_delay = 0)]
    #[timeout("100ms")]
    async fn call() -> Result<(), Error> {
        CALLS.fetch_add(1, SeqCst);
        sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    assert_retried_timeouts(call(), &CALLS).await;
    let breaker = registry()
        .circuit_breaker("stack::aliased_middle")
        .unwrap()
        .stats();
    assert_eq!(
        (breaker.calls, breaker.failures),
        (1, 1),
        "the breaker is outermost: it saw one call"
    );
}
