//! `#[fallback]` and `Fallback` by hand: the chain is tried in written order, each fallback
//! is given the error of the step before it and the guarded fn's arguments, `fallback_if`
//! decides what falls back, and the counters say who answered.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Mutex;

use resilience::{
    circuit_breaker, fallback, registry, retry, Error, Fallback, FallbackConfig, Kind, Stats,
};

#[derive(Debug, PartialEq, Clone)]
enum UserError {
    Down(&'static str),
    NotFound,
    Rejected(Error),
}

impl From<Error> for UserError {
    fn from(error: Error) -> Self {
        UserError::Rejected(error)
    }
}

resilience::as_rejection!(UserError::Rejected);

/// Which steps ran, and the error each was given.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn seen(step: &str, error: &UserError) {
    SEEN.lock().unwrap().push(format!("{step} got {error:?}"));
}

fn take_seen() -> Vec<String> {
    std::mem::take(&mut *SEEN.lock().unwrap())
}

#[tokio::test]
async fn the_chain_is_tried_in_order_each_fallback_given_the_error_before_it() {
    #[fallback(first_cache, second_replica, third_default, name = "fallback::order")]
    async fn user(id: u32) -> Result<String, UserError> {
        match id {
            0 => Ok("primary".into()),
            _ => Err(UserError::Down("primary")),
        }
    }
    async fn first_cache(id: u32, error: UserError) -> Result<String, UserError> {
        seen("cache", &error);
        match id {
            1 => Ok("cache".into()),
            _ => Err(UserError::Down("cache")),
        }
    }
    async fn second_replica(id: u32, error: UserError) -> Result<String, UserError> {
        seen("replica", &error);
        match id {
            2 => Ok("replica".into()),
            _ => Err(UserError::Down("replica")),
        }
    }
    async fn third_default(id: u32, error: UserError) -> Result<String, UserError> {
        seen("default", &error);
        match id {
            3 => Ok("default".into()),
            _ => Err(UserError::Down("default")),
        }
    }
    let _serial = SERIAL.lock().await;
    take_seen();

    assert_eq!(user(0).await.unwrap(), "primary");
    assert!(take_seen().is_empty(), "no fallback runs after a success");

    assert_eq!(user(2).await.unwrap(), "replica");
    assert_eq!(
        take_seen(),
        ["cache got Down(\"primary\")", "replica got Down(\"cache\")"],
        "each step gets the error of the step before it, and the chain stops at a success"
    );

    assert_eq!(
        user(9).await,
        Err(UserError::Down("default")),
        "all failed: the last fallback's error"
    );
    assert_eq!(take_seen().len(), 3);

    assert_eq!(user(1).await.unwrap(), "cache");
    assert_eq!(user(3).await.unwrap(), "default");
    take_seen();

    let stats = registry().fallback("fallback::order").unwrap().stats();
    assert_eq!(stats.calls, 5);
    assert_eq!(stats.primary_succeeded, 1);
    assert_eq!(stats.recovered, 3);
    assert_eq!(stats.all_failed, 1);
    assert_eq!(stats.declined, 0);
    assert_eq!(
        stats.fallbacks,
        2 + 3 + 1 + 3,
        "fallbacks started, over all calls"
    );
    assert_eq!(
        (
            stats.recovered_by(1),
            stats.recovered_by(2),
            stats.recovered_by(3)
        ),
        (1, 1, 1),
        "which fallback answered"
    );
    let listed = registry().snapshot();
    let instance = listed.get(Kind::Fallback, "fallback::order").unwrap();
    assert!(matches!(instance.stats, Stats::Fallback(s) if s == stats));
    assert!(listed.to_string().contains("fallback::order"), "{listed}");
}

/// Tests that read the shared `SEEN` log run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn is_outage(error: &UserError) -> bool {
    !matches!(error, UserError::NotFound)
}

#[tokio::test]
async fn fallback_if_keeps_an_error_from_falling_back() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[fallback(cache, fallback_if = is_outage, name = "fallback::declined")]
    async fn user(id: u32) -> Result<String, UserError> {
        match id {
            0 => Err(UserError::NotFound),
            _ => Err(UserError::Down("primary")),
        }
    }
    async fn cache(id: u32, _: UserError) -> Result<String, UserError> {
        CALLS.fetch_add(1, SeqCst);
        match id {
            1 => Err(UserError::NotFound),
            _ => Ok("cache".into()),
        }
    }
    assert_eq!(user(0).await, Err(UserError::NotFound));
    assert_eq!(CALLS.load(SeqCst), 0, "a `NotFound` does not fall back");
    assert_eq!(user(2).await.unwrap(), "cache");
    assert_eq!(CALLS.load(SeqCst), 1);
    let stats = registry().fallback("fallback::declined").unwrap().stats();
    assert_eq!((stats.calls, stats.declined, stats.recovered), (2, 1, 1));
}

#[tokio::test]
async fn a_chain_asks_fallback_if_of_each_fallback_s_error_too() {
    static SECOND: AtomicU32 = AtomicU32::new(0);
    #[fallback(not_found, second, fallback_if = is_outage)]
    async fn user() -> Result<String, UserError> {
        Err(UserError::Down("primary"))
    }
    async fn not_found(_: UserError) -> Result<String, UserError> {
        Err(UserError::NotFound)
    }
    async fn second(_: UserError) -> Result<String, UserError> {
        SECOND.fetch_add(1, SeqCst);
        Ok("second".into())
    }
    assert_eq!(user().await, Err(UserError::NotFound));
    assert_eq!(SECOND.load(SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_fallback_above_a_breaker_answers_circuit_open_and_below_it_is_not_seen_by_it() {
    static BODY: AtomicU32 = AtomicU32::new(0);
    #[fallback(stale)]
    #[circuit_breaker(name = "fallback::above", failure_threshold = 1)]
    async fn above() -> Result<String, UserError> {
        BODY.fetch_add(1, SeqCst);
        Err(UserError::Down("primary"))
    }
    async fn stale(error: UserError) -> Result<String, UserError> {
        Ok(format!("stale after {error:?}"))
    }
    assert_eq!(above().await.unwrap(), "stale after Down(\"primary\")");
    let answer = above().await.unwrap();
    assert!(
        answer.starts_with("stale after Rejected(CircuitOpen"),
        "the open breaker's rejection, converted into the fn's error: {answer}"
    );
    assert_eq!(
        BODY.load(SeqCst),
        1,
        "the open breaker kept the body from running"
    );

    #[circuit_breaker(name = "fallback::below", failure_threshold = 1)]
    #[fallback(stale)]
    async fn below() -> Result<String, UserError> {
        Err(UserError::Down("primary"))
    }
    below().await.unwrap();
    below().await.unwrap();
    let breaker = registry().circuit_breaker("fallback::below").unwrap();
    assert!(
        breaker.is_closed(),
        "the breaker saw the fallbacks' successes"
    );
    assert_eq!(breaker.stats().failures, 0);
}

#[tokio::test(start_paused = true)]
async fn a_rejection_that_does_not_fall_back_stays_a_rejection_for_the_layers_above() {
    static BODY: AtomicU32 = AtomicU32::new(0);
    fn never(_: &UserError) -> bool {
        false
    }
    // The retry above must not retry the breaker's `CircuitOpen`, though it went through
    // the fallback layer.
    #[retry(max_attempts = 5, base_delay = "10ms")]
    #[fallback(unused, fallback_if = never)]
    #[circuit_breaker(name = "fallback::carried", failure_threshold = 1)]
    async fn call() -> Result<(), UserError> {
        BODY.fetch_add(1, SeqCst);
        Err(UserError::Down("primary"))
    }
    async fn unused(_: UserError) -> Result<(), UserError> {
        Ok(())
    }
    let result = call().await;
    assert!(
        matches!(result, Err(UserError::Rejected(Error::CircuitOpen { .. }))),
        "{result:?}"
    );
    assert_eq!(BODY.load(SeqCst), 1);
    let retry = registry()
        .retry(concat!(module_path!(), "::call"))
        .unwrap()
        .stats();
    assert_eq!(
        retry.retries, 1,
        "the first failure was retried, the rejection not"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_below_a_fallback_runs_out_before_the_fallback_answers() {
    static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
    #[fallback(cached)]
    #[retry(max_attempts = 3, base_delay = "10ms", jitter = false)]
    async fn quote(symbol: String) -> Result<String, UserError> {
        assert_eq!(symbol, "ACME");
        ATTEMPTS.fetch_add(1, SeqCst);
        Err(UserError::Down("live"))
    }
    async fn cached(symbol: &String, error: UserError) -> Result<String, UserError> {
        Ok(format!("{symbol} from cache after {error:?}"))
    }
    assert_eq!(
        quote("ACME".into()).await.unwrap(),
        "ACME from cache after Down(\"live\")"
    );
    assert_eq!(ATTEMPTS.load(SeqCst), 3);
}

struct Store {
    misses: u32,
    label: &'static str,
}

impl Store {
    /// The fallback gets the method's receiver first: `&mut Self` here, as the body.
    #[fallback(Self::remember_miss)]
    async fn get(&mut self, key: String, attempt: u8) -> Result<String, UserError> {
        let _ = (key, attempt);
        Err(UserError::Down(self.label))
    }

    async fn remember_miss(
        &mut self,
        key: &String,
        attempt: u8,
        _: UserError,
    ) -> Result<String, UserError> {
        self.misses += 1;
        Ok(format!("{key}#{attempt} missed {} times", self.misses))
    }

    #[fallback(Self::shared)]
    async fn peek(&self, key: &str) -> Result<String, UserError> {
        Err(UserError::Down(key.len().to_string().leak()))
    }

    async fn shared(&self, key: &str, error: UserError) -> Result<String, UserError> {
        Ok(format!("{}: {key} after {error:?}", self.label))
    }
}

#[tokio::test]
async fn a_fallback_takes_the_arguments_as_the_body_sees_them_receiver_first() {
    let mut store = Store {
        misses: 0,
        label: "store",
    };
    assert_eq!(
        store.get("a".into(), 1).await.unwrap(),
        "a#1 missed 1 times"
    );
    assert_eq!(
        store.get("b".into(), 2).await.unwrap(),
        "b#2 missed 2 times"
    );
    assert_eq!(
        store.misses, 2,
        "the fallback changed the receiver through `&mut self`"
    );
    assert_eq!(
        store.peek("key").await.unwrap(),
        "store: key after Down(\"3\")"
    );
}

#[tokio::test]
async fn a_fallback_s_own_rejection_reaches_the_caller_as_the_last_error() {
    #[fallback(limited)]
    async fn call() -> Result<(), anyhow::Error> {
        Err(anyhow::anyhow!("down"))
    }
    #[resilience::bulkhead(name = "fallback::limited", max_concurrent = 1, max_wait = 0)]
    async fn limited(_: anyhow::Error) -> Result<(), anyhow::Error> {
        Ok(())
    }
    let bulkhead = registry().bulkhead("fallback::limited").unwrap();
    let permit = bulkhead.try_acquire().unwrap();
    let error = call().await.unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<Error>(),
            Some(Error::BulkheadFull { .. })
        ),
        "{error}"
    );
    drop(permit);
    call().await.unwrap();
}

#[tokio::test]
async fn by_hand_a_chain_over_closures_as_the_seed_s_fallback_chain() {
    let fallback = Fallback::new("users", FallbackConfig::DEFAULT).unwrap();
    let down = |name: &'static str| move || async move { Err::<String, _>(UserError::Down(name)) };
    let user = fallback
        .call(down("cache"))
        .or(|error| async move {
            assert_eq!(error, UserError::Down("cache"));
            Err(UserError::Down("db"))
        })
        .or(|error| async move { Ok(format!("api after {error:?}")) })
        .run()
        .await;
    assert_eq!(user.unwrap(), "api after Down(\"db\")");
    let all_down = fallback
        .call(down("cache"))
        .or(|_| down("db")())
        .run()
        .await;
    assert_eq!(all_down, Err(UserError::Down("db")));
    let stats = fallback.stats();
    assert_eq!(
        (stats.calls, stats.recovered_by(2), stats.all_failed),
        (2, 1, 1)
    );
    fallback.reset();
    assert_eq!(fallback.stats().calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_fn_with_a_chain_is_send_and_runs_on_any_worker() {
    #[fallback(shout, whisper)]
    async fn greet(name: String, times: u8) -> Result<String, UserError> {
        let _: &String = name; // lent, as under `#[retry]`
        tokio::task::yield_now().await;
        Err(UserError::Down(if times > 1 { "many" } else { "one" }))
    }
    // A `String` argument is lent to a fallback as `&String`, as to a retried body.
    #[allow(clippy::ptr_arg)]
    async fn shout(name: &String, times: u8, _: UserError) -> Result<String, UserError> {
        tokio::task::yield_now().await;
        match times {
            0 => Ok(name.to_uppercase()),
            _ => Err(UserError::NotFound),
        }
    }
    #[allow(clippy::ptr_arg)]
    async fn whisper(name: &String, times: u8, error: UserError) -> Result<String, UserError> {
        Ok(format!("{} x{times} after {error:?}", name.to_lowercase()))
    }
    let tasks: Vec<_> = (0..3u8)
        .map(|times| tokio::spawn(greet("Ada".into(), times)))
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().unwrap());
    }
    assert_eq!(
        answers,
        ["ADA", "ada x1 after NotFound", "ada x2 after NotFound"]
    );
}
