//! `#[hedge]` and `Hedge` by hand, on tokio's paused clock: when each attempt starts, that
//! the first success wins and the other attempts are dropped, what a failure and a
//! rejection do, and the counters.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

use resilience::{
    circuit_breaker, hedge, registry, retry, timeout, Error, Hedge, HedgeConfig, Kind, Stats,
};
use tokio::time::{sleep, Instant};

const MS: Duration = Duration::from_millis(1);

/// Counts attempts dropped before they finished.
struct Unfinished<'a>(&'a AtomicU32);

impl Unfinished<'_> {
    fn finished(self) {
        std::mem::forget(self);
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn each_attempt_starts_exactly_after_the_delay_and_the_first_success_wins() {
    static STARTS: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    static DROPPED: AtomicU32 = AtomicU32::new(0);
    static ORIGIN: Mutex<Option<Instant>> = Mutex::new(None);
    #[hedge(name = "hedge::timing", delay = "100ms", max_attempts = 3)]
    async fn search(slow_for: u32) -> Result<u32, Error> {
        let origin = ORIGIN.lock().unwrap().unwrap();
        let attempt = {
            let mut starts = STARTS.lock().unwrap();
            starts.push(origin.elapsed());
            starts.len() as u32
        };
        let guard = Unfinished(&DROPPED);
        // Attempts up to `slow_for` take a second; later ones answer in 30ms.
        sleep(if attempt <= slow_for {
            1000 * MS
        } else {
            30 * MS
        })
        .await;
        guard.finished();
        Ok(attempt)
    }
    *ORIGIN.lock().unwrap() = Some(Instant::now());
    let start = Instant::now();
    assert_eq!(search(2).await, Ok(3), "the third attempt answered first");
    assert_eq!(start.elapsed(), 230 * MS);
    assert_eq!(
        *STARTS.lock().unwrap(),
        [Duration::ZERO, 100 * MS, 200 * MS]
    );
    assert_eq!(
        DROPPED.load(SeqCst),
        2,
        "both slower attempts were dropped, unfinished"
    );

    let stats = registry().hedge("hedge::timing").unwrap().stats();
    assert_eq!(
        (
            stats.calls,
            stats.succeeded,
            stats.hedges,
            stats.won_by_hedge,
            stats.cancelled
        ),
        (1, 1, 2, 1, 2)
    );

    STARTS.lock().unwrap().clear();
    *ORIGIN.lock().unwrap() = Some(Instant::now());
    assert_eq!(search(0).await, Ok(1));
    assert_eq!(
        *STARTS.lock().unwrap(),
        [Duration::ZERO],
        "an answer within the delay starts no hedge"
    );
    let listed = registry().snapshot();
    let instance = listed.get(Kind::Hedge, "hedge::timing").unwrap();
    assert!(matches!(instance.stats, Stats::Hedge(s) if s.calls == 2 && s.hedges == 2));
}

#[tokio::test(start_paused = true)]
async fn a_failed_attempt_starts_the_next_at_once_and_when_all_fail_the_last_error_returns() {
    static STARTS: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    #[hedge(name = "hedge::all_fail", delay = "100ms", max_attempts = 3)]
    async fn fetch() -> Result<(), anyhow::Error> {
        let attempt = {
            let mut starts = STARTS.lock().unwrap();
            starts.push(Instant::now());
            starts.len()
        };
        sleep(10 * MS).await;
        Err(anyhow::anyhow!("attempt {attempt} failed"))
    }
    let start = Instant::now();
    let error = fetch().await.unwrap_err();
    assert_eq!(error.to_string(), "attempt 3 failed");
    let starts: Vec<Duration> = STARTS
        .lock()
        .unwrap()
        .iter()
        .map(|at| *at - start)
        .collect();
    assert_eq!(
        starts,
        [Duration::ZERO, 10 * MS, 20 * MS],
        "each failure started the next"
    );
    let stats = registry().hedge("hedge::all_fail").unwrap().stats();
    assert_eq!(
        (stats.calls, stats.failed, stats.succeeded, stats.hedges),
        (1, 1, 0, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn an_attempt_rejected_by_the_breaker_below_starts_no_further_attempt() {
    static BODY: AtomicU32 = AtomicU32::new(0);
    #[hedge(name = "hedge::over_breaker", delay = "100ms", max_attempts = 3)]
    #[circuit_breaker(name = "hedge::breaker", failure_threshold = 1)]
    async fn call() -> Result<(), Error> {
        BODY.fetch_add(1, SeqCst);
        sleep(10 * MS).await;
        Err(Error::Timeout {
            name: "downstream".into(),
            after: MS,
        })
    }
    let start = Instant::now();
    let result = call().await;
    assert!(
        matches!(result, Err(Error::CircuitOpen { .. })),
        "{result:?}"
    );
    assert_eq!(
        BODY.load(SeqCst),
        1,
        "only the first attempt reached the body"
    );
    assert_eq!(
        start.elapsed(),
        10 * MS,
        "the rejection ended the call at once"
    );
    let stats = registry().hedge("hedge::over_breaker").unwrap().stats();
    assert_eq!(
        stats.hedges, 1,
        "the second attempt was rejected; no third started"
    );
    let breaker = registry()
        .circuit_breaker("hedge::breaker")
        .unwrap()
        .stats();
    assert_eq!((breaker.failures, breaker.rejections), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn an_attempt_cut_short_by_a_timeout_below_starts_the_next_at_once() {
    static STARTS: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    #[hedge(delay = "1s", max_attempts = 3)]
    #[timeout("30ms")]
    async fn call() -> Result<u32, Error> {
        let attempt = {
            let mut starts = STARTS.lock().unwrap();
            starts.push(Instant::now());
            starts.len() as u32
        };
        // The first attempt outlives its timeout; the second answers in 10ms.
        sleep(if attempt == 1 { 1000 * MS } else { 10 * MS }).await;
        Ok(attempt)
    }
    let start = Instant::now();
    assert_eq!(call().await, Ok(2));
    let starts: Vec<Duration> = STARTS
        .lock()
        .unwrap()
        .iter()
        .map(|at| *at - start)
        .collect();
    assert_eq!(
        starts,
        [Duration::ZERO, 30 * MS],
        "a `Timeout` is a failure, not a rejection that stops the hedge"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_a_hedged_call_drops_every_attempt_it_started() {
    static DROPPED: AtomicU32 = AtomicU32::new(0);
    #[hedge(delay = "10ms", max_attempts = 4)]
    async fn stuck() -> Result<(), Error> {
        let _guard = Unfinished(&DROPPED);
        std::future::pending::<()>().await;
        Ok(())
    }
    let gave_up = tokio::time::timeout(25 * MS, stuck()).await;
    assert!(gave_up.is_err());
    assert_eq!(
        DROPPED.load(SeqCst),
        3,
        "attempts started at 0, 10 and 20ms, all dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_share_the_arguments_and_the_call_is_send() {
    #[hedge(delay = 0, max_attempts = 3)]
    async fn lookup(key: String, shard: u8, prefix: &str) -> Result<String, Error> {
        // `key` is a `&String` and `shard` a copy in each of the three attempts.
        let key: &String = key;
        tokio::task::yield_now().await;
        Ok(format!("{prefix}{key}@{shard}"))
    }
    let handle = tokio::spawn(lookup("user".into(), 7, "k:"));
    assert_eq!(handle.await.unwrap().unwrap(), "k:user@7");
}

struct Replicas {
    names: Vec<&'static str>,
}

impl Replicas {
    #[hedge(delay = "5ms")]
    async fn first(&self, path: &str) -> Result<String, Error> {
        Ok(format!("{}{path}", self.names[0]))
    }
}

#[tokio::test(start_paused = true)]
async fn a_method_s_attempts_share_self() {
    let replicas = Replicas {
        names: vec!["eu", "us"],
    };
    assert_eq!(replicas.first("/x").await.unwrap(), "eu/x");
}

#[tokio::test(start_paused = true)]
async fn by_hand_a_hedge_races_different_backends() {
    let hedge = Hedge::new(
        "backends",
        HedgeConfig::DEFAULT.delay(20 * MS).max_attempts(3),
    )
    .unwrap();
    let backends = [("primary", 500), ("secondary", 100), ("tertiary", 10)];
    let start = Instant::now();
    let answer = hedge
        .race(|attempt| async move {
            let (name, millis) = backends[attempt as usize];
            sleep(millis * MS).await;
            Ok::<_, Error>(name)
        })
        .await;
    assert_eq!(answer, Ok("tertiary"));
    assert_eq!(
        start.elapsed(),
        50 * MS,
        "started at 40ms, answered 10ms later"
    );
    assert_eq!(hedge.stats().cancelled, 2);

    let once = Hedge::new("once", HedgeConfig::DEFAULT.max_attempts(1)).unwrap();
    let slow = once
        .call(|| async {
            sleep(1000 * MS).await;
            Ok::<_, Error>("slow")
        })
        .await;
    assert_eq!(slow, Ok("slow"));
    assert_eq!(once.stats().hedges, 0, "one attempt at most");
}

#[tokio::test(start_paused = true)]
async fn a_retry_above_a_hedge_retries_the_hedged_call_and_below_it_each_attempt() {
    static ABOVE: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    static BELOW: AtomicU32 = AtomicU32::new(0);
    // Above: each retry runs a hedged call; the first call's two attempts both fail.
    #[retry(max_attempts = 2, base_delay = "100ms", jitter = false)]
    #[hedge(delay = "10ms", max_attempts = 2)]
    async fn above(key: String, origin: Instant) -> Result<String, Error> {
        let attempt = {
            let mut starts = ABOVE.lock().unwrap();
            starts.push(origin.elapsed());
            starts.len()
        };
        sleep(20 * MS).await;
        match attempt {
            1 | 2 => Err(Error::Timeout {
                name: "db".into(),
                after: MS,
            }),
            _ => Ok(format!("{key} on attempt {attempt}")),
        }
    }
    let origin = Instant::now();
    assert_eq!(above("k".into(), origin).await.unwrap(), "k on attempt 3");
    assert_eq!(
        *ABOVE.lock().unwrap(),
        [Duration::ZERO, 10 * MS, 130 * MS, 140 * MS],
        "a hedge at 10ms; both failed by 30ms; the retry waited 100ms, and hedged again"
    );

    // Below: each hedge attempt retries on its own, sharing the arguments.
    #[hedge(delay = "10ms", max_attempts = 2)]
    #[retry(max_attempts = 3, base_delay = "1ms", jitter = false)]
    async fn below(key: String, n: u32) -> Result<String, Error> {
        let call = BELOW.fetch_add(1, SeqCst);
        sleep(5 * MS).await;
        match call {
            0 => Err(Error::Timeout {
                name: "db".into(),
                after: MS,
            }),
            _ => Ok(format!("{key}{n} on call {call}")),
        }
    }
    assert_eq!(below("k".into(), 1).await.unwrap(), "k1 on call 1");
}

#[tokio::test(start_paused = true)]
async fn a_fallback_above_a_hedge_answers_when_every_attempt_failed() {
    #[resilience::fallback(cached)]
    #[hedge(delay = "10ms", max_attempts = 3)]
    async fn price(sku: String) -> Result<String, Error> {
        let _: &String = sku;
        Err(Error::Timeout {
            name: "live".into(),
            after: MS,
        })
    }
    #[allow(clippy::ptr_arg)]
    async fn cached(sku: &String, error: Error) -> Result<String, Error> {
        Ok(format!("{sku} from cache after {}", error.name()))
    }
    assert_eq!(
        price("A-1".into()).await.unwrap(),
        "A-1 from cache after live"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fallback_below_a_hedge_answers_for_each_attempt_with_the_shared_arguments() {
    static PRIMARY: AtomicU32 = AtomicU32::new(0);
    #[hedge(delay = "10ms", max_attempts = 2)]
    #[resilience::fallback(per_attempt)]
    async fn price(sku: String, cents: u32) -> Result<String, Error> {
        let _: (&String, u32) = (sku, cents); // shared by the attempts
        let call = PRIMARY.fetch_add(1, SeqCst);
        // The first attempt is slow and fails; the hedge's own one fails at once.
        sleep(if call == 0 { 50 * MS } else { MS }).await;
        Err(Error::Timeout {
            name: format!("call {call}").into(),
            after: MS,
        })
    }
    #[allow(clippy::ptr_arg)]
    async fn per_attempt(sku: &String, cents: u32, error: Error) -> Result<String, Error> {
        Ok(format!("{sku} {cents} after {}", error.name()))
    }
    assert_eq!(
        price("A-1".into(), 250).await.unwrap(),
        "A-1 250 after call 1"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hedge_is_declared_before_its_first_call_and_configured_by_name() {
    static STARTS: AtomicU32 = AtomicU32::new(0);
    #[hedge(name = "hedge::configured", delay = "100ms", max_attempts = 2)]
    async fn slow() -> Result<(), Error> {
        STARTS.fetch_add(1, SeqCst);
        sleep(1000 * MS).await;
        Ok(())
    }
    let listed = registry().snapshot();
    assert!(
        listed.get(Kind::Hedge, "hedge::configured").is_some(),
        "declared at link time"
    );
    registry()
        .configure(
            "hedge::configured",
            HedgeConfig::DEFAULT.delay(10 * MS).max_attempts(4),
        )
        .unwrap();
    let start = Instant::now();
    slow().await.unwrap();
    assert_eq!(start.elapsed(), 1000 * MS);
    assert_eq!(
        STARTS.load(SeqCst),
        4,
        "the configuration by name won over the attribute's"
    );
}
