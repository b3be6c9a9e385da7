//! A `redis-server` of the test's own, on a free loopback port, stopped when dropped; and
//! the one line that says the Redis tests were skipped when there is none.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use resilience::redis::Settings;

/// The settings of the tests that are not about a slow Redis. On a loaded 2-core host,
/// with a whole fleet of test processes beside it, the loopback server can take longer than
/// the 50 ms default to answer, and a name would fall back to its local state in the middle
/// of a test about the shared one. (Shorter than the fleet's 1 s probe lease, as it must
/// be.)
pub fn patient() -> Settings {
    Settings::DEFAULT.timeout(Duration::from_millis(500))
}

pub struct RedisServer {
    child: Child,
    pub port: u16,
    password: Option<String>,
}

impl RedisServer {
    /// A fresh server, or `None` (with the one line, once) when `redis-server` is not
    /// installed and `RESILIENCE_REQUIRE_REDIS` is not `1`.
    pub fn start() -> Option<Self> {
        Self::start_with(None, free_port())
    }

    pub fn start_with(password: Option<&str>, port: u16) -> Option<Self> {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let child = match command.spawn() {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return skipped(),
            Err(error) => panic!("redis-server did not start: {error}"),
        };
        let server = Self {
            child,
            port,
            password: password.map(str::to_owned),
        };
        server.wait_for_ping();
        Some(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Sends one command, inline, and returns the first line of the reply (the whole
    /// bulk for a bulk reply).
    pub fn command(&self, command: &str) -> String {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        if let Some(password) = &self.password {
            writer
                .write_all(format!("AUTH {password}\r\n").as_bytes())
                .unwrap();
        }
        writer
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if self.password.is_some() {
            reader.read_line(&mut line).unwrap();
            line.clear();
        }
        reader.read_line(&mut line).unwrap();
        if let Some(len) = line.strip_prefix('$') {
            let len: i64 = len.trim().parse().unwrap();
            if len < 0 {
                return String::new();
            }
            let mut body = vec![0; len as usize + 2];
            std::io::Read::read_exact(&mut reader, &mut body).unwrap();
            return String::from_utf8_lossy(&body[..len as usize]).into_owned();
        }
        line.trim_end().to_owned()
    }

    /// How many times Redis ran a command, from `INFO commandstats` (0 if never).
    pub fn calls(&self, command: &str) -> u64 {
        let info = self.command("INFO commandstats");
        let prefix = format!("cmdstat_{command}:calls=");
        info.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |calls| calls.parse().unwrap())
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait_for_ping(&self) {
        let start = Instant::now();
        loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                stream
                    .set_read_timeout(Some(Duration::from_millis(500)))
                    .unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut line = String::new();
                let pinged = writer.write_all(b"PING\r\n").is_ok()
                    && BufReader::new(stream).read_line(&mut line).is_ok();
                // A server with a password answers `-NOAUTH`: it is up all the same.
                if pinged && (line.starts_with("+PONG") || line.starts_with("-NOAUTH")) {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server never answered PING"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A stopped server must be woken to die of SIGTERM; SIGKILL needs no waking.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn skipped<T>() -> Option<T> {
    if std::env::var("RESILIENCE_REQUIRE_REDIS").as_deref() == Ok("1") {
        panic!("RESILIENCE_REQUIRE_REDIS=1 but `redis-server` is not on the PATH");
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "skipped the Redis tests: `redis-server` is not on the PATH (apt-get install redis-server, then cargo test -p resilience-redis --test redis)"
        );
    });
    None
}
