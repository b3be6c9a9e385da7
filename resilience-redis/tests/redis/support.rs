//! A `redis-server` of the test's own, on a free loopback port, stopped when dropped; and
//! the one line that says the Redis tests were skipped when there is none.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Once;
use std::time::{Duration, Instant};

use std::sync::Arc;

use resilience::redis::{Backend, Settings, WhenUnavailable};
use resilience::{CircuitBreaker, CircuitBreakerConfig, RateLimiter, RateLimiterConfig};

/// One process's breaker `name` of `config`, shared through `backend`, falling back to its
/// local state.
pub fn shared_breaker(
    backend: &Backend,
    name: &str,
    config: CircuitBreakerConfig,
) -> Arc<CircuitBreaker> {
    let breaker = Arc::new(CircuitBreaker::new(name, config).unwrap());
    backend
        .share_breaker(&breaker, WhenUnavailable::Local)
        .unwrap();
    breaker
}

/// One process's limiter `name` of `config`, shared through `backend` in `mode`.
pub fn shared_limiter(
    backend: &Backend,
    name: &str,
    config: RateLimiterConfig,
    mode: WhenUnavailable,
) -> Arc<RateLimiter> {
    let limiter = Arc::new(RateLimiter::new(name, config).unwrap());
    backend.share_limiter(&limiter, mode).unwrap();
    limiter
}

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
    /// The TLS port of a server started with [`start_tls`](Self::start_tls); the plain
    /// one stays open for the test's own commands.
    tls_port: Option<u16>,
}

impl RedisServer {
    /// A fresh server, or `None` (with the one line, once) when `redis-server` is not
    /// installed and `RESILIENCE_REQUIRE_REDIS` is not `1`.
    pub fn start() -> Option<Self> {
        Self::start_with(None, free_port())
    }

    pub fn start_with(password: Option<&str>, port: u16) -> Option<Self> {
        Self::spawn(password, port, None)
    }

    /// A server that also speaks TLS, with `pki`'s server certificate, and asks clients
    /// for a certificate of `pki`'s CA when `authenticate_clients`.
    pub fn start_tls(
        pki: &Pki,
        password: Option<&str>,
        authenticate_clients: bool,
    ) -> Option<Self> {
        let file = |name: &str| pki.path(name);
        let args = [
            "--tls-cert-file".into(),
            file("server.crt"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("ca.crt"),
            "--tls-auth-clients".into(),
            if authenticate_clients { "yes" } else { "no" }.into(),
        ];
        Self::spawn(password, free_port(), Some((free_port(), &args)))
    }

    fn spawn(password: Option<&str>, port: u16, tls: Option<(u16, &[String])>) -> Option<Self> {
        let mut command = Command::new("redis-server");
        if let Some((tls_port, args)) = tls {
            command
                .args(["--tls-port", &tls_port.to_string()])
                .args(args);
        }
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
            tls_port: tls.map(|(tls_port, _)| tls_port),
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

    /// The `rediss://` URL of a server started with [`start_tls`](Self::start_tls).
    pub fn tls_url(&self) -> String {
        let port = self.tls_port.expect("a server started with start_tls");
        match &self.password {
            Some(password) => format!("rediss://:{password}@127.0.0.1:{port}"),
            None => format!("rediss://127.0.0.1:{port}"),
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

/// A CA of the test's own, in a directory of its own (removed when dropped): `ca.crt`,
/// a server certificate for 127.0.0.1 (`server.crt`, `server.key`), a client certificate
/// (`client.crt`, `client.key`), and another CA that signed neither (`other-ca.crt`).
/// Made with the `openssl` command, as an operator makes them; `None` (with one line,
/// once) when it is not installed and `RESILIENCE_REQUIRE_REDIS` is not `1`.
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub fn generate() -> Option<Self> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "resilience-redis-pki-{}-{}",
            std::process::id(),
            N.fetch_add(1, Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Self { dir };
        // P-256 keys: quick to make, and every TLS stack takes them.
        let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        for ca in ["ca", "other-ca"] {
            pki.openssl(&format!(
                "req -x509 {new_key} -keyout {ca}.key -out {ca}.crt -days 2 -subj /CN=test-{ca}"
            ))?;
        }
        for (leaf, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            // rustls checks the server's name against the subject alternative names.
            let extensions = format!(
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
                 keyUsage=digitalSignature\nextendedKeyUsage={usage}\n"
            );
            std::fs::write(pki.dir.join(format!("{leaf}.ext")), extensions).unwrap();
            pki.openssl(&format!(
                "req {new_key} -keyout {leaf}.key -out {leaf}.csr -subj /CN=test-{leaf}"
            ))?;
            pki.openssl(&format!(
                "x509 -req -in {leaf}.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                 -out {leaf}.crt -days 2 -extfile {leaf}.ext"
            ))?;
        }
        Some(pki)
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap()
    }

    /// Runs `openssl <args>` (split at whitespace) in the directory; `None` without it.
    fn openssl(&self, args: &str) -> Option<()> {
        let output = Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(&self.dir)
            .output();
        match output {
            Ok(output) => {
                let said = String::from_utf8_lossy(&output.stderr);
                assert!(output.status.success(), "openssl {args}: {said}");
                Some(())
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => skipped_for("openssl"),
            Err(error) => panic!("openssl did not start: {error}"),
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn skipped<T>() -> Option<T> {
    skipped_for("redis-server")
}

fn skipped_for<T>(program: &str) -> Option<T> {
    if std::env::var("RESILIENCE_REQUIRE_REDIS").as_deref() == Ok("1") {
        panic!("RESILIENCE_REQUIRE_REDIS=1 but `{program}` is not on the PATH");
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "skipped the Redis tests: `{program}` is not on the PATH (apt-get install redis-server openssl, then cargo test -p resilience-redis --test redis)"
        );
    });
    None
}
