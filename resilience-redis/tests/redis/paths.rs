//! Every admission path of a shared limiter draws on the fleet's quota, not on the
//! process's own: `try_acquire` (a round trip, or its lease on a current-thread runtime),
//! plain fns (`#[rate_limit]` on a
//! non-async fn, `call_blocking`) and the tower layer. Two "processes" in one, each with a
//! backend of its own, as in `limiter.rs`; and each path follows its name's fallback mode
//! while the server is paused.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{self, RedisServer};
use resilience::redis::{Backend, Settings, WhenUnavailable};
use resilience::tower::RateLimitLayer;
use resilience::{Error, RateLimiter, RateLimiterConfig};
use tower::{service_fn, Layer, ServiceExt};

/// The fleet's quota, `quota` an hour. In an hour's window no permit comes back while a
/// test runs, so the whole test is one window: the two processes together may be admitted
/// `quota` times.
fn an_hour(quota: u32) -> RateLimiterConfig {
    RateLimiterConfig::DEFAULT
        .max_requests(quota)
        .window(Duration::from_secs(3600))
}

async fn backend(server: &RedisServer, settings: Settings) -> Backend {
    Backend::connect_with(&server.url(), settings)
        .await
        .unwrap()
}

/// A limiter of its own named `name`, ten an hour, shared through `backend`: one
/// process's instance.
fn shared(backend: &Backend, name: &str, mode: WhenUnavailable) -> Arc<RateLimiter> {
    shared_with(backend, name, an_hour(10), mode)
}

fn shared_with(
    backend: &Backend,
    name: &str,
    config: RateLimiterConfig,
    mode: WhenUnavailable,
) -> Arc<RateLimiter> {
    support::shared_limiter(backend, name, config, mode)
}

/// One admission through the tower layer over `limiter`, as a server makes it.
async fn through_tower(limiter: &Arc<RateLimiter>) -> Result<(), Error> {
    let service = RateLimitLayer::new(Arc::clone(limiter))
        .layer(service_fn(|()| async { Ok::<_, Error>(()) }));
    service.oneshot(()).await.map_err(|error| {
        error
            .downcast_ref::<Error>()
            .cloned()
            .expect("a limiter's error")
    })
}

/// Asks `a` and `b` in turn for one admission each until together they were admitted
/// `quota` times (within a generous bound), then fifty rounds more in which neither may be
/// admitted again; what each was admitted.
async fn drain<A, B, FA, FB>(quota: u32, mut a: A, mut b: B) -> (u32, u32)
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = Result<(), Error>>,
    FB: Future<Output = Result<(), Error>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut admitted = (0, 0);
    let mut after = 0;
    while after < 50 {
        admitted.0 += u32::from(a().await.is_ok());
        admitted.1 += u32::from(b().await.is_ok());
        if admitted.0 + admitted.1 >= quota {
            after += 1;
        } else {
            assert!(
                Instant::now() < deadline,
                "the quota was never used up: {admitted:?}"
            );
        }
        // Room for a lease's refill, on the backends' runtime.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    admitted
}

fn assert_one_quota(path: &str, quota: u32, (a, b): (u32, u32)) {
    assert_eq!(
        a + b,
        quota,
        "{path}: {a} + {b} admitted, each process's own quota would have been {quota}"
    );
    assert!(a > 0 && b > 0, "{path}: both drew on the quota: {a} + {b}");
}

/// Two processes calling `try_acquire` until the fleet's quota of ninety-five is spent:
/// together they get it all and no more, and then the fleet's wait for its next permit.
async fn try_acquire_shares_one_quota(prefix: &str) {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = support::patient().key_prefix(prefix);
    let member =
        |backend: &Backend| shared_with(backend, "try", an_hour(95), WhenUnavailable::Reject);
    let a = member(&backend(&server, settings.clone()).await);
    let b = member(&backend(&server, settings).await);
    let admitted = drain(
        95,
        || std::future::ready(a.try_acquire()),
        || std::future::ready(b.try_acquire()),
    )
    .await;
    assert_one_quota("try_acquire", 95, admitted);
    match a.try_acquire() {
        Err(Error::RateLimited { retry_after, .. }) => assert!(
            // One permit an hour / 95 = 37.9s: the fleet's next permit, as Redis said.
            retry_after > Duration::from_secs(30) && retry_after <= Duration::from_millis(37_895),
            "the fleet's next permit: {retry_after:?}"
        ),
        other => panic!("the fleet's quota is spent: {other:?}"),
    }
}

/// On a multi-thread runtime's worker, `try_acquire` waits for one round trip
/// (`block_in_place` hands the worker's other tasks on meanwhile): the fleet's exact
/// answer, as an async call gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_trying_to_acquire_share_one_quota() {
    try_acquire_shares_one_quota("paths-try:").await;
}

/// A current-thread runtime's only thread cannot wait for a script that would run on it,
/// so there `try_acquire` hands out permits leased from the fleet ahead of time: leases
/// are admissions the fleet counted, so two processes together never get more than the
/// quota, the last lease partial (the script grants only the permits left).
#[tokio::test]
async fn two_processes_trying_to_acquire_on_one_thread_share_one_quota_through_leases() {
    try_acquire_shares_one_quota("paths-lease:").await;
}

#[resilience::rate_limit(name = "redis::paths::plain", max_requests = 10, window = "1h")]
fn plain() -> Result<(), Error> {
    Ok(())
}

/// A plain fn with `#[rate_limit]`, called on a `spawn_blocking` thread, and another
/// process's `call_blocking` on a thread with no runtime at all: one quota between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_calling_plain_fns_share_one_quota() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = support::patient().key_prefix("paths-plain:");
    let a = backend(&server, settings.clone()).await;
    a.share_rate_limiter("redis::paths::plain").unwrap();
    let b = shared(
        &backend(&server, settings).await,
        "redis::paths::plain",
        WhenUnavailable::Reject,
    );
    let admitted = drain(
        10,
        || async { tokio::task::spawn_blocking(plain).await.unwrap() },
        || {
            let b = Arc::clone(&b);
            async move {
                tokio::task::spawn_blocking(move || {
                    std::thread::spawn(move || b.call_blocking(|| Ok::<_, Error>(())))
                        .join()
                        .unwrap()
                })
                .await
                .unwrap()
            }
        },
    )
    .await;
    assert_one_quota("plain fns", 10, admitted);
}

/// Two processes' tower services over one shared name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_behind_the_tower_layer_share_one_quota() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = support::patient().key_prefix("paths-tower:");
    let a = shared(
        &backend(&server, settings.clone()).await,
        "tower",
        WhenUnavailable::Reject,
    );
    let b = shared(
        &backend(&server, settings).await,
        "tower",
        WhenUnavailable::Reject,
    );
    let admitted = drain(10, || through_tower(&a), || through_tower(&b)).await;
    assert_one_quota("tower", 10, admitted);
}

/// The timeout of the paused-server test, and the slack a loaded host gets on top.
const TIMEOUT: Duration = Duration::from_millis(100);
const SLACK: Duration = Duration::from_millis(300);

#[resilience::rate_limit(name = "redis::paths::paused-reject", max_requests = 10, window = "1h")]
fn plain_reject() -> Result<(), Error> {
    Ok(())
}

#[resilience::rate_limit(name = "redis::paths::paused-local", max_requests = 10, window = "1h")]
fn plain_local() -> Result<(), Error> {
    Ok(())
}

/// Runs `f` on a blocking thread: what it returned and how long it took.
async fn timed_blocking(f: fn() -> Result<(), Error>) -> (Result<(), Error>, Duration) {
    tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        (f(), start.elapsed())
    })
    .await
    .unwrap()
}

/// `try_acquire` until `done` says its answer is the fallback's, each call answered at
/// once (it never waits on Redis); within a generous bound.
fn try_until(limiter: &RateLimiter, done: impl Fn(&Result<(), Error>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let start = Instant::now();
        let answer = limiter.try_acquire();
        assert!(
            start.elapsed() < TIMEOUT,
            "try_acquire waited {:?}",
            start.elapsed()
        );
        if done(&answer) {
            return;
        }
        assert!(
            answer.is_err(),
            "admitted while the lease was empty: {answer:?}"
        );
        assert!(Instant::now() < deadline, "never fell back: {answer:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// With the server paused, every path of a name set to reject refuses within the timeout
/// (`retry_after` = the refresh), and every path of a name set to fall back takes the
/// process's own quota. Each path meets the paused server first through a name of its own,
/// so each waits out the timeout itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_is_refused_or_local_on_every_path_as_the_name_says() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let settings = |prefix: &str, mode| {
        Settings::DEFAULT
            .key_prefix(prefix)
            .timeout(TIMEOUT)
            .refresh(Duration::from_millis(100))
            .when_unavailable(mode)
    };
    let reject = backend(&server, settings("paused-r:", WhenUnavailable::Reject)).await;
    let local = backend(&server, settings("paused-l:", WhenUnavailable::Local)).await;
    reject
        .share_rate_limiter("redis::paths::paused-reject")
        .unwrap();
    local
        .share_rate_limiter("redis::paths::paused-local")
        .unwrap();
    let tower_reject = shared(&reject, "tower", WhenUnavailable::Reject);
    let tower_local = shared(&local, "tower", WhenUnavailable::Local);
    let try_reject = shared(&reject, "try", WhenUnavailable::Reject);
    let try_local = shared(&local, "try", WhenUnavailable::Local);
    server.signal("-STOP");

    let refused = |answer: &Result<(), Error>| matches!(answer, Err(Error::RateLimited { retry_after, .. }) if *retry_after == Duration::from_millis(100));
    let (answer, took) = timed_blocking(plain_reject).await;
    assert!(refused(&answer), "plain fn, reject: {answer:?}");
    assert!(took < TIMEOUT + SLACK, "plain fn, reject: waited {took:?}");
    let (answer, took) = timed_blocking(plain_local).await;
    assert!(answer.is_ok(), "plain fn, local: {answer:?}");
    assert!(took < TIMEOUT + SLACK, "plain fn, local: waited {took:?}");

    for (limiter, reject) in [(&tower_reject, true), (&tower_local, false)] {
        let start = Instant::now();
        let answer = through_tower(limiter).await;
        let took = start.elapsed();
        assert_eq!(refused(&answer), reject, "tower: {answer:?}");
        assert_eq!(answer.is_ok(), !reject, "tower: {answer:?}");
        assert!(took < TIMEOUT + SLACK, "tower: waited {took:?}");
    }

    // `try_acquire` waits for its round trip where a thread may block (a worker of this
    // multi-thread runtime, a thread of no runtime): the timeout, then the name's mode.
    let start = Instant::now();
    let answer = try_reject.try_acquire();
    assert!(
        refused(&answer),
        "try_acquire on a worker, reject: {answer:?}"
    );
    assert!(
        start.elapsed() < TIMEOUT + SLACK,
        "waited {:?}",
        start.elapsed()
    );
    let local_limiter = Arc::clone(&try_local);
    let (answer, took) = std::thread::spawn(move || {
        let start = Instant::now();
        (local_limiter.try_acquire(), start.elapsed())
    })
    .join()
    .unwrap();
    assert!(
        answer.is_ok(),
        "try_acquire on a plain thread, local: {answer:?}"
    );
    assert!(took < TIMEOUT + SLACK, "waited {took:?}");

    // On a current-thread runtime it never waits: the first call finds no lease and
    // starts fetching one; the calls after it are turned away until the fetch times out,
    // then the name's mode answers.
    let leased_reject = shared(&reject, "lease", WhenUnavailable::Reject);
    let leased_local = shared(&local, "lease", WhenUnavailable::Local);
    std::thread::spawn(move || {
        let one_thread = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        one_thread.block_on(async {
            try_until(&leased_reject, refused);
            try_until(&leased_local, Result::is_ok);
        });
    })
    .join()
    .unwrap();
    server.signal("-CONT");
}
