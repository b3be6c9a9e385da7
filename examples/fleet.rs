//! Three processes of one service share the breaker `payments` through Redis: the
//! provider fails for one of them, and all three stop calling it together, then recover
//! together.
//!
//! ```text
//! cargo run --example fleet                  # starts a redis-server if one is on the PATH
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example fleet
//! ```
//!
//! The example runs itself again as each member of the fleet (`FLEET_MEMBER` set).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use resilience::events::Detail;
use resilience::{circuit_breaker, registry, Error};

/// Five failures across the fleet open it for everyone; one probe, anywhere, closes it.
#[circuit_breaker(name = "payments", failure_threshold = 5, recovery_timeout = "1500ms")]
async fn charge(provider_down: bool) -> Result<(), Error> {
    if provider_down {
        Err(Error::Timeout {
            name: "provider".into(),
            after: Duration::from_millis(100),
        })
    } else {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::var("FLEET_MEMBER") {
        Ok(member) => run_member(&member, &std::env::var("REDIS_URL")?).await,
        Err(_) => run_fleet(),
    }
}

/// Starts Redis when no `REDIS_URL` is given, then the three members, and waits for them.
fn run_fleet() -> Result<(), Box<dyn std::error::Error>> {
    let mut server = None;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let started = Command::new("redis-server")
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
                .spawn();
            match started {
                Ok(child) => server = Some(child),
                Err(_) => {
                    eprintln!("no redis-server on the PATH: install it, or set REDIS_URL");
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(300));
            format!("redis://127.0.0.1:{port}")
        }
    };
    println!("three members of one service, one breaker `payments` in {url}");
    let members: Vec<_> = (0..3)
        .map(|member| {
            Command::new(std::env::current_exe()?)
                .env("FLEET_MEMBER", member.to_string())
                .env("REDIS_URL", &url)
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    for mut member in members {
        member.wait()?;
    }
    if let Some(mut server) = server {
        server.kill()?;
        server.wait()?;
    }
    Ok(())
}

/// Calls `charge` every 50ms for four seconds; the provider is down for member 0 alone,
/// from 0.5s to 1.5s. Prints every change of the breaker's state it sees.
async fn run_member(member: &str, url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let redis = resilience::redis::Backend::connect(url).await?;
    redis.share_circuit_breaker("payments")?;
    let breaker = registry()
        .circuit_breaker("payments")
        .expect("declared by the attribute");
    let mut events = breaker.subscribe();
    let start = Instant::now();
    let me = member.to_owned();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let Detail::StateChanged { from, to } = event.detail {
                let at = start.elapsed().as_millis();
                println!("[member {me}] {at:>5}ms  payments: {from} -> {to}");
            }
        }
    });
    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
    let outage = Duration::from_millis(500)..Duration::from_millis(1500);
    while start.elapsed() < Duration::from_secs(4) {
        let down = member == "0" && outage.contains(&start.elapsed());
        match charge(down).await {
            Ok(()) => ok += 1,
            Err(Error::CircuitOpen { .. }) => rejected += 1,
            Err(_) => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("[member {member}] {ok} charged, {failed} failed, {rejected} turned away by the fleet's breaker");
    Ok(())
}
