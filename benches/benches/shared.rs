//! Shared state in Redis, against a `redis-server` this bench starts on a free loopback
//! port (skipped, with one line, when there is none):
//!
//! - a closed shared breaker's success costs what a local breaker's does, and sends no
//!   command to Redis: counted exactly with `INFO commandstats` around the run (the bench
//!   panics on any);
//! - a shared limiter's admission is one round trip (one GCRA script), beside a bare `PING`
//!   round trip on the same loopback.
//!
//! ```text
//! cargo bench --manifest-path benches/Cargo.toml --bench shared
//! ```

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use resilience::redis::{Backend, Settings, WhenUnavailable};
use resilience::{CircuitBreaker, CircuitBreakerConfig, Error, RateLimiter, RateLimiterConfig};
use tokio::runtime::Runtime;

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        std::thread::sleep(Duration::from_millis(300));
        Some(Self { child, port })
    }

    /// `calls=` of `cmdstat_<command>` in `INFO commandstats`.
    fn calls(&self, command: &str) -> u64 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.write_all(b"INFO commandstats\r\n").unwrap();
        let mut reader = BufReader::new(stream);
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let len: usize = header[1..].trim().parse().unwrap();
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        let prefix = format!("cmdstat_{command}:calls=");
        String::from_utf8_lossy(&body)
            .lines()
            .find_map(|line| {
                line.strip_prefix(&prefix)
                    .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
            })
            .unwrap_or(0)
    }

    fn commands(&self) -> u64 {
        ["evalsha", "eval", "get", "set", "hset", "hmget", "publish"]
            .iter()
            .map(|c| self.calls(c))
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn shared(c: &mut Criterion) {
    let Some(server) = Server::start() else {
        eprintln!("skipped the shared-state benches: no redis-server on the PATH");
        return;
    };
    let rt = runtime();
    let url = format!("redis://127.0.0.1:{}", server.port);
    // No refresh during the run: only calls could send commands.
    let settings = Settings::DEFAULT.refresh(Duration::from_secs(3600));
    let backend = rt.block_on(Backend::connect_with(&url, settings)).unwrap();
    let local = CircuitBreaker::new("bench::local", CircuitBreakerConfig::default()).unwrap();
    let breaker =
        Arc::new(CircuitBreaker::new("bench::shared", CircuitBreakerConfig::default()).unwrap());
    backend
        .share_breaker(&breaker, WhenUnavailable::Local)
        .unwrap();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(200)).await });

    let mut group = c.benchmark_group("shared_breaker");
    group.bench_function("bare call", |b| {
        b.to_async(&rt)
            .iter(|| async { Ok::<_, Error>(black_box(1)) })
    });
    group.bench_function("resilience local", |b| {
        b.to_async(&rt)
            .iter(|| local.call(|| async { Ok::<_, Error>(black_box(1)) }))
    });
    let before = server.commands();
    group.bench_function("resilience shared, closed", |b| {
        b.to_async(&rt)
            .iter(|| breaker.call(|| async { Ok::<_, Error>(black_box(1)) }))
    });
    let sent = server.commands() - before;
    assert_eq!(
        sent, 0,
        "a closed shared breaker's successes sent {sent} commands to Redis"
    );
    eprintln!("closed shared breaker: 0 Redis commands over the whole run");
    group.finish();

    let config = RateLimiterConfig::DEFAULT
        .max_requests(1_000_000)
        .window(Duration::from_secs(1));
    let limiter = Arc::new(RateLimiter::new("bench::quota", config).unwrap());
    backend
        .share_limiter(&limiter, WhenUnavailable::Reject)
        .unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    let connection = rt
        .block_on(client.get_multiplexed_async_connection())
        .unwrap();
    let mut group = c.benchmark_group("shared_limiter");
    group.bench_function("redis PING round trip", |b| {
        b.to_async(&rt).iter(|| {
            let mut connection = connection.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .unwrap()
            }
        })
    });
    let before = server.calls("evalsha");
    let mut admissions = 0u64;
    group.bench_function("resilience shared, admitted", |b| {
        b.to_async(&rt).iter(|| {
            admissions += 1;
            limiter.acquire()
        })
    });
    let scripts = server.calls("evalsha") - before;
    eprintln!("shared limiter: {scripts} scripts for {admissions} admissions");
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = shared
}
criterion_main!(benches);
