//! Real fleets: this test binary runs itself again as four child processes (the `child`
//! test, which does nothing unless `FLEET_ROLE` is set), each sharing one breaker or one
//! quota through a `redis-server` the parent started. The parent drives them over stdin
//! and reads what they saw, stamped with the wall clock (one host, one clock), on stdout.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{self, RedisServer};
use resilience::redis::{Backend, WhenUnavailable};
use resilience::{CircuitBreakerConfig, CircuitState, RateLimiter, RateLimiterConfig};

const ROLE: &str = "FLEET_ROLE";
const URL: &str = "FLEET_URL";
const PREFIX: &str = "FLEET_PREFIX";
const FLEET: usize = 4;
const LEASE: Duration = Duration::from_secs(1);
const PROBES: usize = 2;
const RATE: u64 = 100;
/// How soon a change must reach every process: generous for a loaded 2-core host, and
/// still half the default 1s refresh, so that only pub/sub can have carried it.
const SOON: Duration = Duration::from_millis(500);

fn micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

/// One child process, and the lines starting with `@` it printed.
struct Member {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Member {
    fn spawn(role: &str, server: &RedisServer, prefix: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "fleet::child", "--nocapture", "--test-threads=1"])
            .env(ROLE, role)
            .env(URL, server.url())
            .env(PREFIX, prefix)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest's "test child ... " may come first on the line.
                if let Some((_, line)) = line.split_once('@') {
                    let _ = send.send(line.to_owned());
                }
            }
        });
        let stdin = child.stdin.take().unwrap();
        Self {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").unwrap();
    }

    /// The next line that starts with `word`, within 10s; others are skipped.
    fn expect(&self, word: &str) -> Vec<u64> {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no `{word}` from a member"));
            let mut parts = line.split(' ');
            if parts.next() == Some(word) {
                return parts.map(|n| n.parse().unwrap()).collect();
            }
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn four_processes_open_together_share_the_probes_and_close_together() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut fleet: Vec<_> = (0..FLEET)
        .map(|_| Member::spawn("breaker", &server, "fleet-b:"))
        .collect();
    fleet.iter().for_each(|member| _ = member.expect("ready"));

    fleet[0].send("fail 3");
    let failed = fleet[0].expect("failed")[0];
    let seen: Vec<u64> = fleet
        .iter()
        .map(|member| member.expect("open")[0])
        .collect();
    let slowest = Duration::from_micros(seen.iter().max().unwrap().saturating_sub(failed));
    eprintln!("the fleet saw the breaker open within {slowest:?} of the last failure");
    assert!(
        slowest < SOON,
        "opening reached every process in {slowest:?}"
    );

    // Past the recovery timeout, every member tries for probes at once.
    std::thread::sleep(Duration::from_millis(1100));
    fleet.iter_mut().for_each(|member| member.send("probe 300"));
    let probes: Vec<u64> = fleet
        .iter()
        .map(|member| member.expect("probes")[0])
        .collect();
    assert_eq!(
        probes.iter().sum::<u64>(),
        PROBES as u64,
        "probes across the fleet: {probes:?}"
    );

    // The probers die mid-probe; their leases free the slots after the lease's TTL. (The
    // survivors try for less than a TTL after that: a probe held longer frees its slot too.)
    let (probers, mut rest): (Vec<_>, Vec<_>) =
        fleet.into_iter().zip(&probes).partition(|(_, &n)| n > 0);
    drop(probers);
    let asked = micros();
    rest.iter_mut()
        .for_each(|(member, _)| member.send("probe 1200"));
    let again: Vec<Vec<u64>> = rest
        .iter()
        .map(|(member, _)| member.expect("probes"))
        .collect();
    assert_eq!(
        again.iter().map(|p| p[0]).sum::<u64>(),
        PROBES as u64,
        "{again:?}"
    );
    let first = again
        .iter()
        .filter(|p| p[0] > 0)
        .map(|p| p[1])
        .min()
        .unwrap();
    assert!(
        Duration::from_micros(first - asked) > Duration::from_millis(400),
        "a slot came free before the dead prober's lease expired"
    );

    // The probes succeed: the fleet closes, everywhere.
    let mut survivors: Vec<_> = rest.into_iter().map(|(member, _)| member).collect();
    let succeeded = micros();
    survivors
        .iter_mut()
        .for_each(|member| member.send("succeed"));
    let closed: Vec<u64> = survivors
        .iter()
        .map(|member| member.expect("closed")[0])
        .collect();
    let slowest = Duration::from_micros(closed.iter().max().unwrap().saturating_sub(succeeded));
    assert!(
        slowest < SOON,
        "closing reached every process in {slowest:?}"
    );
}

#[test]
fn four_processes_sharing_a_hundred_per_second_never_exceed_it() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut fleet: Vec<_> = (0..FLEET)
        .map(|_| Member::spawn("limiter", &server, "fleet-q:"))
        .collect();
    fleet.iter().for_each(|member| _ = member.expect("ready"));
    // Each member admits by a path of its own: the fleet's quota is one on every path.
    for (member, path) in fleet.iter_mut().zip(["async", "try", "blocking", "tower"]) {
        member.send(&format!("run 3000 {path}"));
    }
    let runs: Vec<Vec<u64>> = fleet
        .iter()
        .map(|member| member.expect("admitted"))
        .collect();
    let admitted: u64 = runs.iter().map(|run| run[0]).sum();
    let start = runs.iter().map(|run| run[1]).min().unwrap();
    let end = runs.iter().map(|run| run[2]).max().unwrap();
    // The token bucket's bound: a full bucket (`burst`, the quota) at the start, then the
    // rate over the span every member ran in. `try_acquire`'s leases add nothing to it
    // over a whole run: every permit they hand out was granted in that span.
    let bound = RATE + (end - start) * RATE / 1_000_000 + 1;
    eprintln!(
        "the fleet admitted {admitted} in {:?}, bound {bound}",
        Duration::from_micros(end - start)
    );
    assert!(
        admitted <= bound,
        "over the quota: {admitted} > {bound} ({runs:?})"
    );
    assert!(
        admitted >= 3 * RATE,
        "the quota was used, not starved: {admitted}"
    );
    assert!(
        runs.iter().all(|run| run[0] > 0),
        "every member got permits: {runs:?}"
    );
}

/// A member of a fleet: does nothing in a normal run.
#[test]
fn child() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let settings = support::patient()
            .key_prefix(std::env::var(PREFIX).unwrap())
            .probe_lease(LEASE);
        let backend = Backend::connect_with(&std::env::var(URL).unwrap(), settings)
            .await
            .unwrap();
        match role.as_str() {
            "breaker" => breaker_member(backend).await,
            _ => limiter_member(backend).await,
        }
    });
}

async fn commands() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (send, receive) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

async fn breaker_member(backend: Backend) {
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(3)
        .recovery_timeout(Duration::from_secs(1))
        .half_open_max_calls(PROBES as u32)
        .success_threshold(PROBES as u32);
    let breaker = support::shared_breaker(&backend, "payments", config);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let watched = Arc::clone(&breaker);
    tokio::spawn(async move {
        let mut was = CircuitState::Closed;
        loop {
            let now = watched.state();
            match (was, now) {
                (CircuitState::Closed, CircuitState::Open) => println!("@open {}", micros()),
                (CircuitState::HalfOpen, CircuitState::Closed) => println!("@closed {}", micros()),
                _ => {}
            }
            was = now;
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    });
    println!("@ready");
    let mut commands = commands().await;
    let mut held = Vec::new();
    while let Some(command) = commands.recv().await {
        let (verb, n) = command
            .split_once(' ')
            .map_or((command.as_str(), 0), |(v, n)| (v, n.parse().unwrap()));
        match verb {
            "fail" => {
                for _ in 0..n {
                    breaker.try_acquire().expect("closed").failure();
                }
                println!("@failed {}", micros());
            }
            "probe" => {
                let until = tokio::time::Instant::now() + Duration::from_millis(n);
                let mut first = 0;
                while tokio::time::Instant::now() < until {
                    if let Ok(permit) = Arc::clone(&breaker).try_acquire_owned() {
                        if first == 0 {
                            first = micros();
                        }
                        held.push(permit);
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                println!("@probes {} {first}", held.len());
            }
            _ => held.drain(..).for_each(|permit| permit.success()),
        }
    }
}

async fn limiter_member(backend: Backend) {
    let config = RateLimiterConfig::DEFAULT
        .max_requests(RATE as u32)
        .window(Duration::from_secs(1));
    let limiter = support::shared_limiter(&backend, "partner-api", config, WhenUnavailable::Reject);
    println!("@ready");
    let mut commands = commands().await;
    while let Some(command) = commands.recv().await {
        let mut words = command.split(' ').skip(1);
        let millis: u64 = words.next().unwrap().parse().unwrap();
        let path = words.next().unwrap().to_owned();
        let start = micros();
        let until = tokio::time::Instant::now() + Duration::from_millis(millis);
        let mut admitted = 0;
        while tokio::time::Instant::now() < until {
            if admit(&limiter, &path).await.is_ok() {
                admitted += 1;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        println!("@admitted {admitted} {start} {}", micros());
    }
}

/// One admission of `limiter` by `path`.
async fn admit(limiter: &Arc<RateLimiter>, path: &str) -> Result<(), resilience::Error> {
    match path {
        "try" => limiter.try_acquire(),
        "blocking" => {
            let limiter = Arc::clone(limiter);
            tokio::task::spawn_blocking(move || limiter.acquire_blocking())
                .await
                .unwrap()
        }
        "tower" => {
            use tower::{service_fn, Layer, ServiceExt};
            let service = resilience::tower::RateLimitLayer::new(Arc::clone(limiter))
                .layer(service_fn(|()| async { Ok::<_, resilience::Error>(()) }));
            service
                .oneshot(())
                .await
                .map_err(|error| error.downcast_ref::<resilience::Error>().cloned().unwrap())
        }
        _ => limiter.acquire().await,
    }
}
