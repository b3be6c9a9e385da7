//! `rediss://` against a real `redis-server` speaking TLS, with a CA made for the test:
//! trusted, it connects and shares a breaker; another CA (or the public roots) fails at
//! connect with an error that says so and never shows the password; a server that
//! authenticates its clients takes our certificate and refuses us without it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{patient, Pki, RedisServer};
use resilience::redis::{Backend, ErrorKind, Settings, Tls, WhenUnavailable};
use resilience::{CircuitBreaker, CircuitBreakerConfig, RateLimiter, RateLimiterConfig};

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
    let breaker = Arc::new(CircuitBreaker::new("payments", config).unwrap());
    backend
        .share_breaker(&breaker, WhenUnavailable::Local)
        .unwrap();
    breaker
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
    a.try_acquire().unwrap().failure();
    a.try_acquire().unwrap().failure();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(a.is_open() && b.is_open()) {
        assert!(Instant::now() < deadline, "the fleet never opened over TLS");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Both failures went through the TLS port: the server counted them.
    assert!(server.calls("evalsha") + server.calls("eval") >= 2);
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
    let limiter = Arc::new(RateLimiter::new("quota", RateLimiterConfig::DEFAULT).unwrap());
    backend
        .share_limiter(&limiter, WhenUnavailable::Reject)
        .unwrap();
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
