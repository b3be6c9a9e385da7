//! `rediss://` against a real `redis-server` speaking TLS, with a CA made for the test:
//! trusted, it connects and shares a breaker; another CA (or the public roots) fails at
//! connect with an error that says so and never shows the password; a server that
//! authenticates its clients takes our certificate and refuses us without it; and nothing
//! logged on the way shows the password.

use std::fmt::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{patient, shared_breaker, shared_limiter, Pki, RedisServer};
use resilience::redis::{Backend, ErrorKind, Settings, Tls, WhenUnavailable};
use resilience::shared::SharedStats;
use resilience::{CircuitBreaker, CircuitBreakerConfig, RateLimiterConfig};

const PASSWORD: &str = "tls-horse-staple";

fn trusting(pki: &Pki, ca: &str) -> Settings {
    patient()
        .key_prefix("tls:")
        .tls(Tls::new().ca_certificates(pki.read(ca)))
}

async fn breaker(url: &str, settings: Settings) -> Arc<CircuitBreaker> {
    let backend = Backend::connect_with(url, settings)
        .await
        .expect("connected over TLS");
    let config = CircuitBreakerConfig::DEFAULT
        .failure_threshold(2)
        .recovery_timeout(Duration::from_secs(60));
    shared_breaker(&backend, "payments", config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_connects_over_tls_and_a_breaker_is_shared_through_it() {
    let Some(pki) = Pki::generate() else { return };
    let Some(server) = RedisServer::start_tls(&pki, Some(PASSWORD), false) else {
        return;
    };
    let url = server.tls_url();
    let a = breaker(&url, trusting(&pki, "ca.crt")).await;
    let b = breaker(&url, trusting(&pki, "ca.crt")).await;
    // Failures in `a` until `b` too is open, which only the fleet's state can do. (Until
    // its first read of the fleet's state, on a loaded host, `a` counts them alone.)
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(a.is_open() && b.is_open()) {
        assert!(Instant::now() < deadline, "the fleet never opened over TLS");
        if let Ok(call) = a.try_acquire() {
            call.failure();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Both failures went through the TLS port: the server counted them.
    assert!(server.calls("evalsha") + server.calls("eval") >= 2);
    // What a shared breaker shows of itself and of a rejection: never the password.
    let rejected = b.try_acquire().map(drop).unwrap_err();
    let shown = format!("{a:?} {b:?} {rejected} {rejected:?} {:?}", b.stats());
    assert!(shown.contains("payments"), "{shown}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_certificate_of_another_ca_fails_at_connect_without_showing_the_password() {
    let Some(pki) = Pki::generate() else { return };
    let Some(server) = RedisServer::start_tls(&pki, Some(PASSWORD), false) else {
        return;
    };
    // Another CA, and the public roots alone: neither signed the server's certificate.
    for settings in [trusting(&pki, "other-ca.crt"), patient()] {
        let error = Backend::connect_with(&server.tls_url(), settings)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Connect);
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(PASSWORD), "{shown}");
            assert!(
                shown.contains("cannot connect to rediss://127.0.0.1:"),
                "{shown}"
            );
            assert!(
                shown.contains("invalid peer certificate"),
                "not clear: {shown}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_authenticates_clients_takes_our_certificate_and_refuses_us_without() {
    let Some(pki) = Pki::generate() else { return };
    let Some(server) = RedisServer::start_tls(&pki, None, true) else {
        return;
    };
    let without = Backend::connect_with(&server.tls_url(), trusting(&pki, "ca.crt"))
        .await
        .unwrap_err();
    assert_eq!(without.kind(), ErrorKind::Connect, "{without}");
    assert!(
        without.to_string().contains("CertificateRequired"),
        "{without}"
    );

    let tls = Tls::new()
        .ca_certificates(pki.read("ca.crt"))
        .client_certificate(pki.read("client.crt"), pki.read("client.key"));
    let key = String::from_utf8(pki.read("client.key")).unwrap();
    let settings = patient().key_prefix("mtls:").tls(tls);
    let backend = Backend::connect_with(&server.tls_url(), settings)
        .await
        .expect("connected with our certificate");
    let shown = format!("{backend:?}");
    assert!(
        shown.contains("client_key: Some(\"<redacted>\")"),
        "{shown}"
    );
    assert!(!shown.contains(key.lines().nth(1).unwrap()), "{shown}");
    let limiter = shared_limiter(
        &backend,
        "quota",
        RateLimiterConfig::DEFAULT,
        WhenUnavailable::Reject,
    );
    limiter
        .acquire()
        .await
        .expect("admitted through Redis over mutual TLS");
}

#[tokio::test(flavor = "current_thread")]
async fn certificates_for_a_url_without_tls_are_refused_before_connecting() {
    let settings = Settings::DEFAULT.tls(Tls::new().ca_certificates("not even PEM"));
    let error = Backend::connect_with("redis://:pw-not-shown@127.0.0.1:1", settings)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Connect);
    assert!(error.to_string().contains("rediss://"), "{error}");
    assert!(!format!("{error} {error:?}").contains("pw-not-shown"));
}

/// Every event logged, at every level, as one line of its fields.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for Logs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn event(&self, event: &tracing::Event<'_>) {
        struct Line<'a>(&'a mut String);
        impl tracing::field::Visit for Line<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                let _ = write!(self.0, " {}={value:?}", field.name());
            }
        }
        let mut line = event.metadata().target().to_owned();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    // The code under test makes no spans.
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// On one thread, so the subscriber set for it hears the backend's own tasks too: the
/// fallback and the recovery over TLS, and a refused password, log nothing that shows it.
#[tokio::test(flavor = "current_thread")]
async fn nothing_logged_over_tls_shows_the_password() {
    let logs = Logs::default();
    let _heard = tracing::subscriber::set_default(logs.clone());
    let Some(pki) = Pki::generate() else { return };
    let Some(server) = RedisServer::start_tls(&pki, Some(PASSWORD), false) else {
        return;
    };
    let settings = trusting(&pki, "ca.crt")
        .key_prefix("logs:")
        .refresh(Duration::from_millis(100));
    let backend = Backend::connect_with(&server.tls_url(), settings.clone())
        .await
        .unwrap();
    assert!(!format!("{backend:?}").contains(PASSWORD));
    let limiter = shared_limiter(
        &backend,
        "quota",
        RateLimiterConfig::DEFAULT,
        WhenUnavailable::Local,
    );
    let breaker = breaker(&server.tls_url(), settings.clone()).await;

    server.signal("-STOP");
    let lost = |shared: Option<SharedStats>| shared.is_some_and(|s| !s.available);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(lost(limiter.stats().shared) && lost(breaker.stats().shared)) {
        assert!(Instant::now() < deadline, "Redis paused, yet not lost");
        limiter.acquire().await.expect("the local quota");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.signal("-CONT");
    let found = |shared: Option<SharedStats>| shared.is_some_and(|s| s.available);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(found(limiter.stats().shared) && found(breaker.stats().shared)) {
        assert!(Instant::now() < deadline, "Redis back, yet not found");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wrong = server.tls_url().replace(PASSWORD, "wrong-horse-staple");
    let error = Backend::connect_with(&wrong, settings).await.unwrap_err();
    assert!(!format!("{error} {error:?}").contains("wrong-horse-staple"));

    let shown = format!("{limiter:?} {:?} {breaker:?}", limiter.stats());
    assert!(!shown.contains(PASSWORD), "{shown}");

    let logs = logs.0.lock().unwrap();
    assert!(
        logs.iter()
            .any(|line| line.contains("lost its shared state")),
        "the capture heard nothing: {logs:?}"
    );
    for line in logs.iter() {
        assert!(!line.contains(PASSWORD), "{line}");
        assert!(!line.contains("wrong-horse-staple"), "{line}");
    }
}
