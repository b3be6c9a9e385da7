//! `#[hedge]` and `Hedge` by hand, on tokio's paused clock: when each attempt starts, that
//! the first success wins and the other attempts are dropped, what a failure and a
//! rejection do, and the counters.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

use resilience::{circuit_breaker, hedge, registry, Error, Hedge, HedgeConfig, Kind, Stats};
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
