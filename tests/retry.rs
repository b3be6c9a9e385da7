//! `#[retry]` and `Retry`, on tokio's paused clock.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use resilience::{registry, retry, Backoff, Error, Jitter, Retry, RetryConfig};
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

#[derive(Debug, PartialEq)]
enum DbError {
    Deadlock(u32),
    Constraint,
    Rejected(Error),
}

// What the retry events show of the error.
impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl From<Error> for DbError {
    fn from(error: Error) -> Self {
        DbError::Rejected(error)
    }
}

fn is_deadlock(error: &DbError) -> bool {
    matches!(error, DbError::Deadlock(_))
}

/// Fails with `Deadlock(n)` on attempts `n < failures`, then succeeds.
struct Flaky {
    attempts: AtomicU32,
    failures: u32,
}

impl Flaky {
    const fn new(failures: u32) -> Self {
        Self {
            attempts: AtomicU32::new(0),
            failures,
        }
    }

    fn next(&self) -> Result<u32, DbError> {
        let n = self.attempts.fetch_add(1, SeqCst);
        if n < self.failures {
            Err(DbError::Deadlock(n))
        } else {
            Ok(n)
        }
    }
}

#[tokio::test(start_paused = true)]
async fn exponential_delays_follow_the_formula_exactly() {
    static FLAKY: Flaky = Flaky::new(3);
    #[retry(max_attempts = 4, base_delay = "100ms", jitter = false)]
    async fn insert() -> Result<u32, DbError> {
        FLAKY.next()
    }
    let start = Instant::now();
    assert_eq!(insert().await, Ok(3));
    assert_eq!(start.elapsed(), MS * (100 + 200 + 400));
}

#[tokio::test(start_paused = true)]
async fn linear_and_constant_backoff() {
    static LINEAR: Flaky = Flaky::new(3);
    static CONSTANT: Flaky = Flaky::new(3);
    #[retry(
        max_attempts = 4,
        base_delay = "100ms",
        backoff = "linear",
        jitter = false
    )]
    async fn linear() -> Result<u32, DbError> {
        LINEAR.next()
    }
    #[retry(
        max_attempts = 4,
        base_delay = 0.1,
        backoff = "constant",
        jitter = false
    )]
    async fn constant() -> Result<u32, DbError> {
        CONSTANT.next()
    }
    let start = Instant::now();
    linear().await.unwrap();
    assert_eq!(start.elapsed(), MS * (100 + 200 + 300));
    let start = Instant::now();
    constant().await.unwrap();
    assert_eq!(start.elapsed(), MS * 300);
}

#[tokio::test(start_paused = true)]
async fn delays_are_capped_at_max_delay() {
    static FLAKY: Flaky = Flaky::new(4);
    #[retry(
        max_attempts = 5,
        base_delay = "1s",
        max_delay = "3s",
        exponential_base = 3,
        jitter = false
    )]
    async fn capped() -> Result<u32, DbError> {
        FLAKY.next()
    }
    let start = Instant::now();
    capped().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(1 + 3 + 3 + 3));
}

#[tokio::test(start_paused = true)]
async fn gives_back_the_last_error_when_attempts_run_out() {
    static FLAKY: Flaky = Flaky::new(u32::MAX);
    #[retry(name = "retry::exhausted", max_attempts = 3, base_delay = "10ms")]
    async fn always_failing() -> Result<u32, DbError> {
        FLAKY.next()
    }
    assert_eq!(always_failing().await, Err(DbError::Deadlock(2)));
    assert_eq!(FLAKY.attempts.load(SeqCst), 3);
    let stats = registry().retry("retry::exhausted").unwrap().stats();
    assert_eq!(
        (stats.calls, stats.failed_after_retry, stats.retries),
        (1, 1, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn retry_if_false_returns_at_once() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 5, retry_if = is_deadlock)]
    async fn violate() -> Result<(), DbError> {
        ATTEMPTS.fetch_add(1, SeqCst);
        Err(DbError::Constraint)
    }
    let start = Instant::now();
    assert_eq!(violate().await, Err(DbError::Constraint));
    assert_eq!(ATTEMPTS.load(SeqCst), 1);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn full_jitter_stays_in_its_envelope_and_repeats_with_a_seed() {
    let config = RetryConfig::DEFAULT
        .max_attempts(4)
        .base_delay(MS * 100)
        .jitter(Jitter::Full);
    let mut elapsed = Vec::new();
    for _ in 0..2 {
        let retry = Retry::new("retry::jitter", config.clone()).unwrap();
        retry.reseed(7);
        let flaky = Flaky::new(3);
        let start = Instant::now();
        retry.call(|| async { flaky.next() }).await.unwrap();
        elapsed.push(start.elapsed());
    }
    assert_eq!(
        elapsed[0], elapsed[1],
        "the same seed gives the same delays"
    );
    assert!(elapsed[0] <= MS * 700, "{:?}", elapsed[0]);
}

#[tokio::test(start_paused = true)]
async fn equal_jitter_stays_between_half_and_one_and_a_half_of_the_delay() {
    let config = RetryConfig::DEFAULT
        .max_attempts(2)
        .base_delay(MS * 100)
        .jitter(Jitter::Equal);
    let retry = Retry::new("retry::equal", config).unwrap();
    for seed in 0..50 {
        retry.reseed(seed);
        let flaky = Flaky::new(1);
        let start = Instant::now();
        retry.call(|| async { flaky.next() }).await.unwrap();
        let waited = start.elapsed();
        assert!(
            waited >= MS * 50 && waited <= MS * 150,
            "seed {seed}: {waited:?}"
        );
    }
}

struct Connection {
    attempts: u32,
    log: Vec<String>,
}

impl Connection {
    #[retry(max_attempts = 3, base_delay = "1ms")]
    async fn query(&mut self, sql: &str, rows: &mut Vec<u32>) -> Result<usize, DbError> {
        self.attempts += 1;
        self.log.push(format!("{sql} #{}", self.attempts));
        rows.push(self.attempts);
        if self.attempts < 3 {
            return Err(DbError::Deadlock(self.attempts));
        }
        Ok(rows.len())
    }
}

#[tokio::test(start_paused = true)]
async fn a_mut_self_method_is_retried_with_its_borrows() {
    let mut connection = Connection {
        attempts: 0,
        log: Vec::new(),
    };
    let mut rows = Vec::new();
    assert_eq!(connection.query("select", &mut rows).await, Ok(3));
    assert_eq!(connection.log, ["select #1", "select #2", "select #3"]);
    assert_eq!(rows, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn question_mark_and_owned_arguments_in_the_body() {
    fn parse(text: &str) -> Result<u32, DbError> {
        text.parse().map_err(|_| DbError::Constraint)
    }
    // Under `#[retry]` the body borrows the arguments: `texts` is a `&Vec<String>` and the
    // `mut` binding `total` a `&mut u32` that each attempt is lent in turn.
    #[retry(max_attempts = 2, base_delay = 0)]
    async fn parse_all(texts: Vec<String>, mut total: u32) -> Result<u32, DbError> {
        for text in texts {
            *total += parse(text)?;
        }
        Ok(*total)
    }
    assert_eq!(parse_all(vec!["1".into(), "2".into()], 10).await, Ok(13));
    assert_eq!(
        parse_all(vec!["x".into()], 0).await,
        Err(DbError::Constraint)
    );
}

#[tokio::test(start_paused = true)]
async fn by_hand_with_backoff_and_predicate() {
    let retry = Retry::new(
        "retry::by_hand",
        RetryConfig::DEFAULT
            .max_attempts(3)
            .base_delay(MS * 10)
            .backoff(Backoff::Linear)
            .jitter(Jitter::None),
    )
    .unwrap();
    let flaky = Flaky::new(2);
    let start = Instant::now();
    assert_eq!(
        retry
            .call_with(is_deadlock, || async { flaky.next() })
            .await,
        Ok(2)
    );
    assert_eq!(start.elapsed(), MS * 30);
    let stats = retry.stats();
    assert_eq!((stats.succeeded_after_retry, stats.retries), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_first_try_success_does_not_wait() {
    #[retry(name = "retry::first_try")]
    async fn fine() -> Result<u8, Error> {
        Ok(1)
    }
    let start = Instant::now();
    assert_eq!(fine().await, Ok(1));
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        registry()
            .retry("retry::first_try")
            .unwrap()
            .stats()
            .succeeded_first_try,
        1
    );
}

fn label(n: u32) -> String {
    format!("#{n}")
}

struct Renamed {
    name: String,
    seen: Vec<String>,
}

impl Renamed {
    /// Under `#[retry]` a `&mut self` body's `self` is renamed: inside macros too, but not in
    /// `self::` paths nor in items nested in the body, which have a `self` of their own.
    #[retry(max_attempts = 2, base_delay = 0)]
    async fn record(&mut self) -> Result<usize, DbError> {
        struct Nested(u32);
        impl Nested {
            fn get(&self) -> u32 {
                self.0
            }
        }
        let entry = format!(
            "{}{}",
            self.name,
            self::label(Nested(self.seen.len() as u32).get())
        );
        self.seen.push(entry);
        if self.seen.len() < 2 {
            return Err(DbError::Deadlock(0));
        }
        Ok(self.seen.len())
    }
}

#[tokio::test(start_paused = true)]
async fn the_body_s_self_is_renamed_only_where_it_means_the_receiver() {
    let mut renamed = Renamed {
        name: "r".into(),
        seen: Vec::new(),
    };
    assert_eq!(renamed.record().await, Ok(2));
    assert_eq!(renamed.seen, ["r#0", "r#1"]);
}

#[tokio::test(start_paused = true)]
async fn a_rejection_that_asks_for_more_than_max_delay_ends_the_call_at_once() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 5, base_delay = "10ms", max_delay = "1s")]
    #[resilience::rate_limit(max_requests = 1, window = "1h")]
    async fn limited() -> Result<(), DbError> {
        ATTEMPTS.fetch_add(1, SeqCst);
        Ok(())
    }
    limited().await.unwrap();
    let start = Instant::now();
    let result = limited().await;
    let Err(DbError::Rejected(Error::RateLimited { retry_after, .. })) = result else {
        panic!("{result:?}")
    };
    assert_eq!(retry_after, Duration::from_secs(3600));
    assert_eq!(start.elapsed(), Duration::ZERO, "gave up at once");
    assert_eq!(ATTEMPTS.load(SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rejection_that_asks_for_more_than_max_elapsed_left_ends_the_call_at_once() {
    #[retry(
        max_attempts = 5,
        base_delay = "10ms",
        max_delay = "2h",
        max_elapsed = "5s"
    )]
    #[resilience::rate_limit(max_requests = 1, window = "1h")]
    async fn limited() -> Result<(), DbError> {
        Ok(())
    }
    limited().await.unwrap();
    let start = Instant::now();
    assert!(matches!(
        limited().await,
        Err(DbError::Rejected(Error::RateLimited { .. }))
    ));
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn retry_if_decides_for_timeouts_too() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    // A POST that must not run twice: only deadlocks are retried, not timeouts.
    #[retry(max_attempts = 3, base_delay = "10ms", retry_if = is_deadlock)]
    #[resilience::timeout("100ms")]
    async fn post() -> Result<(), DbError> {
        ATTEMPTS.fetch_add(1, SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    fn is_timeout(error: &DbError) -> bool {
        matches!(error, DbError::Rejected(Error::Timeout { .. }))
    }
    static TIMEOUTS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 3, base_delay = "10ms", jitter = false, retry_if = is_timeout)]
    #[resilience::timeout("100ms")]
    async fn get() -> Result<(), DbError> {
        TIMEOUTS.fetch_add(1, SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(())
    }
    let start = Instant::now();
    assert!(matches!(
        post().await,
        Err(DbError::Rejected(Error::Timeout { .. }))
    ));
    assert_eq!(ATTEMPTS.load(SeqCst), 1, "retry_if said no to the timeout");
    assert_eq!(start.elapsed(), MS * 100);
    let start = Instant::now();
    assert!(get().await.is_err());
    assert_eq!(TIMEOUTS.load(SeqCst), 3, "retry_if said yes to the timeout");
    assert_eq!(start.elapsed(), MS * (100 + 10 + 100 + 20 + 100));
}

#[tokio::test(start_paused = true)]
async fn no_attempt_starts_after_max_elapsed() {
    static FLAKY: Flaky = Flaky::new(u32::MAX);
    #[retry(
        max_attempts = 10,
        base_delay = "1s",
        jitter = false,
        max_elapsed = "3500ms"
    )]
    async fn call() -> Result<u32, DbError> {
        FLAKY.next()
    }
    let start = Instant::now();
    // Attempts at 0s, 1s and 3s; the next would start at 7s.
    assert_eq!(call().await, Err(DbError::Deadlock(2)));
    assert_eq!(FLAKY.attempts.load(SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_secs(3), "gave up at once");
}

#[derive(Debug, PartialEq)]
enum HttpError {
    Unavailable { retry_after: &'static str },
    Rejected(Error),
}

impl From<Error> for HttpError {
    fn from(error: Error) -> Self {
        HttpError::Rejected(error)
    }
}

fn server_hint(error: &HttpError) -> Option<Duration> {
    match error {
        HttpError::Unavailable { retry_after } => {
            resilience::parse_retry_after(retry_after, std::time::SystemTime::now())
        }
        HttpError::Rejected(_) => None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_server_s_retry_after_sets_the_next_wait_capped_at_max_delay() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[retry(
        max_attempts = 4,
        base_delay = "10ms",
        max_delay = "5s",
        jitter = false,
        retry_after = server_hint
    )]
    async fn fetch() -> Result<u32, HttpError> {
        match ATTEMPTS.fetch_add(1, SeqCst) {
            0 => Err(HttpError::Unavailable { retry_after: "2" }),
            1 => Err(HttpError::Unavailable {
                retry_after: "3600",
            }),
            2 => Err(HttpError::Unavailable {
                retry_after: "soon",
            }),
            n => Ok(n),
        }
    }
    let start = Instant::now();
    assert_eq!(fetch().await, Ok(3));
    // 2s as asked, then 5s (an hour asked, capped at max_delay), then the backoff's 40ms
    // (a hint that is not one).
    assert_eq!(start.elapsed(), MS * (2000 + 5000 + 40));
}

#[tokio::test(start_paused = true)]
async fn a_retry_without_delay_lets_the_other_tasks_run() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[resilience::timeout("10ms")]
    #[retry(max_attempts = 1000000, base_delay = "0s", jitter = false)]
    async fn spin() -> Result<(), DbError> {
        ATTEMPTS.fetch_add(1, SeqCst);
        Err(DbError::Deadlock(0))
    }
    // On the paused clock time moves only when a task moves it: this one runs only if the
    // retry yields between attempts.
    let clock = tokio::spawn(tokio::time::advance(MS * 10));
    let start = Instant::now();
    let result = spin().await;
    assert!(
        matches!(result, Err(DbError::Rejected(Error::Timeout { .. }))),
        "{result:?} after {} attempts",
        ATTEMPTS.load(SeqCst)
    );
    assert_eq!(start.elapsed(), MS * 10);
    assert!(ATTEMPTS.load(SeqCst) < 1000000);
    clock.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn retries_cancelled_during_their_wait_are_not_counted() {
    let retry = Retry::new(
        "retry::cancelled",
        RetryConfig::DEFAULT
            .base_delay(Duration::from_secs(1))
            .jitter(Jitter::None),
    )
    .unwrap();
    let call = retry.call(|| async { Err::<(), _>(DbError::Deadlock(0)) });
    assert!(tokio::time::timeout(MS * 500, call).await.is_err());
    assert_eq!(retry.stats().retries, 0, "the second attempt never ran");
    let call = retry.call(|| async { Err::<(), _>(DbError::Deadlock(0)) });
    assert!(tokio::time::timeout(MS * 1500, call).await.is_err());
    assert_eq!(retry.stats().retries, 1);
}

#[tokio::test(start_paused = true)]
async fn reset_zeroes_every_counter() {
    let retry = Retry::new("retry::reset", RetryConfig::DEFAULT.base_delay(MS)).unwrap();
    let _ = retry.call(|| async { Ok::<_, DbError>(()) }).await;
    let _ = retry
        .call(|| async { Err::<(), _>(DbError::Constraint) })
        .await;
    assert_eq!((retry.stats().calls, retry.stats().retries), (2, 2));
    retry.reset();
    let stats = retry.stats();
    assert_eq!(
        (
            stats.calls,
            stats.succeeded_first_try,
            stats.failed_after_retry,
            stats.retries
        ),
        (0, 0, 0, 0)
    );
    let _ = retry.call(|| async { Ok::<_, DbError>(()) }).await;
    assert_eq!(retry.stats().succeeded_first_try, 1);
}

/// Inline format arguments are ordinary Rust: `{self}` works under `#[retry]` as it does
/// without it, on `&mut self` and `self` receivers.
#[derive(Debug)]
struct Ticket {
    id: u32,
    attempts: u32,
}

impl std::fmt::Display for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ticket {}", self.id)
    }
}

impl Ticket {
    #[retry(max_attempts = 2, base_delay = 0)]
    async fn describe(&mut self) -> Result<String, Error> {
        self.attempts += 1;
        if self.attempts < 2 {
            return Err(Error::BulkheadFull {
                name: "desk".into(),
                max_concurrent: 1,
            });
        }
        Ok(format!(
            "{self} after {} attempts, {{self}} stays",
            self.attempts
        ))
    }

    #[retry(base_delay = 0)]
    async fn into_label(self) -> Result<String, Error> {
        Ok(format!("{self:?}"))
    }
}

#[tokio::test(start_paused = true)]
async fn self_in_a_format_string_is_the_receiver() {
    let mut ticket = Ticket { id: 7, attempts: 0 };
    assert_eq!(
        ticket.describe().await.unwrap(),
        "ticket 7 after 2 attempts, {self} stays"
    );
    assert_eq!(
        ticket.into_label().await.unwrap(),
        "Ticket { id: 7, attempts: 2 }"
    );
}

#[tokio::test(start_paused = true)]
async fn arguments_are_copied_shared_or_lent_by_their_type() {
    use std::cell::Cell;
    // `u64` is `Copy`: a copy. `String` is `Sync`: a `&String`. `Cell` is neither: a
    // `&mut Cell`, so the call's future stays `Send`.
    #[retry(max_attempts = 3, base_delay = 0)]
    async fn attempt(id: u64, label: String, tries: Cell<u32>) -> Result<String, Error> {
        let id: u64 = id;
        let label: &String = label;
        let tries: &mut Cell<u32> = tries;
        tries.set(tries.get() + 1);
        if tries.get() < 3 {
            return Err(Error::BulkheadFull {
                name: "desk".into(),
                max_concurrent: 1,
            });
        }
        Ok(format!("{label} {id} on try {}", tries.get()))
    }
    let call = attempt(9, "order".into(), Cell::new(0));
    let answer = tokio::spawn(call).await.unwrap();
    assert_eq!(answer.unwrap(), "order 9 on try 3");
}
