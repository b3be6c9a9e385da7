//! Configuration documents (feature `config`): the layers and their precedence, every
//! problem reported at once with its path, nothing applied unless all is valid, and
//! `apply` at run time reloading instances in use.

use std::time::Duration;

use resilience::config::Document;
use resilience::events::Detail;
use resilience::{
    registry, retry, BulkheadConfig, CircuitBreakerConfig, Kind, RateLimiterConfig, Registry,
    RetryConfig, SlidingWindow, TimeoutConfig,
};

const SECOND: Duration = Duration::from_secs(1);

/// Held by the tests that apply documents to the process-wide registry: an apply sets
/// every instance of the kinds it names, so two at once would undo each other.
static GLOBAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn toml(text: &str) -> Document {
    Document::from_toml(text).unwrap()
}

fn paths_and_messages(registry: &Registry, document: &Document) -> Vec<String> {
    let errors = registry.apply(document).unwrap_err();
    errors.iter().map(ToString::to_string).collect()
}

#[test]
fn each_layer_overrides_the_one_below_up_to_the_environment() {
    let registry = Registry::new();
    let declared = RetryConfig::DEFAULT
        .max_attempts(2)
        .base_delay(SECOND)
        .max_delay(10 * SECOND)
        .exponential_base(3.0)
        .max_elapsed(Duration::from_secs(600));
    for name in ["shop::fetch", "other"] {
        registry.get_or_create(name, declared.clone()).unwrap();
    }
    let document = toml(
        r#"
        [retry.defaults]
        max_attempts = 3
        base_delay = "100ms"
        max_delay = "20s"
        exponential_base = 1.5

        [retry.bases.patient]
        max_attempts = 5
        base_delay = "200ms"
        max_delay = "30s"

        [retry.instances."shop::fetch"]
        extends = "patient"
        max_attempts = 7
        base_delay = "300ms"
        "#,
    )
    .with_vars([
        ("RESILIENCE_RETRY__SHOP__FETCH__MAX_ATTEMPTS", "9"),
        ("PATH", "/usr/bin"),
    ]);
    registry.apply(&document).unwrap();
    let fetch = registry.retry("shop::fetch").unwrap();
    let config = fetch.config();
    assert_eq!(config.max_attempts, 9, "the environment over the instance");
    assert_eq!(
        config.base_delay,
        Duration::from_millis(300),
        "the instance over its base"
    );
    assert_eq!(config.max_delay, 30 * SECOND, "the base over the defaults");
    assert_eq!(
        config.exponential_base, 1.5,
        "the defaults over the declaration"
    );
    assert_eq!(
        config.max_elapsed,
        Some(Duration::from_secs(600)),
        "the declaration"
    );
    let other = registry.retry("other").unwrap();
    assert_eq!(
        (other.config().max_attempts, other.config().max_delay),
        (3, 20 * SECOND),
        "the defaults reach every instance of their kind"
    );
}

#[test]
fn an_instance_no_longer_mentioned_goes_back_to_its_declaration() {
    let registry = Registry::new();
    registry
        .get_or_create("db", TimeoutConfig::DEFAULT.duration(2 * SECOND))
        .unwrap();
    registry
        .apply(&toml("[timeout.instances.db]\nduration = \"5s\""))
        .unwrap();
    assert_eq!(registry.timeout("db").unwrap().duration(), 5 * SECOND);
    let changed = registry.apply(&Document::default()).unwrap();
    assert_eq!(changed, [(Kind::Timeout, "db".into())]);
    assert_eq!(registry.timeout("db").unwrap().duration(), 2 * SECOND);
    assert!(
        registry.apply(&Document::default()).unwrap().is_empty(),
        "nothing changed"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_path_and_nothing_is_applied() {
    let registry = Registry::new();
    registry
        .get_or_create("payments", CircuitBreakerConfig::DEFAULT)
        .unwrap();
    registry
        .get_or_create("pool", BulkheadConfig::DEFAULT)
        .unwrap();
    registry
        .get_or_create("geo", RateLimiterConfig::DEFAULT)
        .unwrap();
    let document = toml(
        r#"
        [circuit_breaker.defaults]
        recovery_timeout = "1 sec"

        [circuit_breaker.instances.payments]
        failure_threshold = 0
        max_concurrent = 3
        extends = "flakey"

        [circuit_breaker.bases.flaky]
        failure_treshold = 2

        [circuit_breaker.instance.x]

        [bulkhead.instances.pool]
        max_concurrent = "four"
        max_wait = "2s"

        [bulkhead.instances.poll]
        max_concurrent = 2

        [rate_limit.instances.geo]
        max_requests = 5
        algorithm = "leaky"

        [retri.defaults]
        "#,
    )
    .with_vars([
        ("RESILIENCE_TIMEOUT__X__DURATION", "5s"),
        ("RESILIENCE_BULKHEAD__POOL__MAX_WAIT", "forever"),
        ("RESILIENCE_BULKHED__POOL__MAX_WAIT", "1s"),
    ]);
    assert_eq!(
        paths_and_messages(&registry, &document),
        [
            "RESILIENCE_BULKHEAD__POOL__MAX_WAIT: expected a duration such as \"250ms\", \"30s\", \"1h30m\" or a number of seconds; the units are `ns`, `us`, `ms`, `s`, `m` and `h`",
            "RESILIENCE_BULKHED__POOL__MAX_WAIT: unknown kind `BULKHED`; did you mean `BULKHEAD`?",
            "RESILIENCE_TIMEOUT__X__DURATION: no timeout named `X` is declared",
            "bulkhead.instances.poll: no bulkhead named `poll` is declared; did you mean `pool`?",
            "bulkhead.instances.pool.max_concurrent: expected a whole number, found \"four\"",
            "circuit_breaker.bases.flaky.failure_treshold: unknown field `failure_treshold` of a circuit breaker; did you mean `failure_threshold`?",
            "circuit_breaker.defaults.recovery_timeout: unknown unit `sec`; did you mean `s`? The units are `ns`, `us`, `ms`, `s`, `m` and `h`",
            "circuit_breaker.instance: unknown part `instance`; did you mean `instances`?",
            "circuit_breaker.instances.payments.extends: unknown base `flakey`; did you mean `flaky`?",
            "circuit_breaker.instances.payments.failure_threshold: must be at least 1",
            "circuit_breaker.instances.payments.max_concurrent: `max_concurrent` is a field of a bulkhead, not of a circuit breaker",
            "rate_limit.instances.geo.algorithm: unknown value \"leaky\"; expected one of \"token_bucket\", \"sliding_window\", \"fixed_window\"",
            "retri: unknown kind `retri`; did you mean `retry`?",
        ]
    );
    assert_eq!(
        registry.bulkhead("pool").unwrap().config(),
        &BulkheadConfig::DEFAULT,
        "nothing applied"
    );
    assert_eq!(
        registry.rate_limiter("geo").unwrap().config().max_requests,
        10,
        "nothing applied"
    );
}

#[test]
fn a_config_the_policy_refuses_is_reported_at_the_field_it_names() {
    let registry = Registry::new();
    registry
        .get_or_create("fetch", RetryConfig::DEFAULT)
        .unwrap();
    let document = toml("[retry.defaults]\nbase_delay = \"2m\"\nmax_delay = \"1m\"");
    let errors = paths_and_messages(&registry, &document);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("retry.instances.fetch.max_delay: "),
        "{errors:?}"
    );
}

#[test]
fn a_change_a_running_instance_cannot_take_is_a_problem_before_its_first_use_not_after() {
    let registry = Registry::new();
    let windowed = CircuitBreakerConfig::DEFAULT.failure_rate_threshold(50);
    registry.get_or_create("b", windowed).unwrap();
    let document = toml("[circuit_breaker.instances.b]\nsliding_window = 20");
    assert_eq!(
        paths_and_messages(&registry, &document),
        ["circuit_breaker.instances.b.sliding_window: cannot change while the breaker runs (its window holds the calls counted so far); it applies from the next start"]
    );
}

#[resilience::circuit_breaker(name = "config::pending", failure_rate_threshold = 50)]
async fn pending() -> Result<(), resilience::Error> {
    Ok(())
}

#[tokio::test]
async fn an_instance_not_yet_in_use_is_created_with_the_document_s_config() {
    let _global = GLOBAL.lock().await;
    let document = toml(
        r#"
        [circuit_breaker.instances."config::pending"]
        sliding_window = 20
        minimum_calls = 20
        "#,
    );
    let mut everything = registry().subscribe();
    let changed = registry().apply(&document).unwrap();
    assert!(changed.contains(&(Kind::CircuitBreaker, "config::pending".into())));
    // Announced as a reload is, to the registry's subscribers: the instance has none yet.
    let announced = std::iter::from_fn(|| everything.try_recv().ok())
        .find(|event| &*event.name == "config::pending")
        .expect("an event for the instance not yet in use");
    assert_eq!(
        announced.detail,
        Detail::Reconfigured {
            changes: "sliding_window: Calls(100) -> Calls(20), minimum_calls: 100 -> 20".into()
        }
    );
    pending().await.unwrap();
    let breaker = registry().circuit_breaker("config::pending").unwrap();
    assert_eq!(breaker.config().sliding_window, SlidingWindow::Calls(20));
    assert_eq!(
        breaker.config().failure_rate_threshold,
        Some(50),
        "the attribute's"
    );
    // Running now, it keeps the window it was created with when a document leaves the
    // window out, and refuses one that sets another.
    registry()
        .apply(&toml(
            "[circuit_breaker.instances.\"config::pending\"]\nminimum_calls = 10",
        ))
        .unwrap();
    assert_eq!(breaker.config().sliding_window, SlidingWindow::Calls(20));
    assert_eq!(breaker.config().minimum_calls, 10);
    let refused = registry()
        .apply(&toml(
            "[circuit_breaker.instances.\"config::pending\"]\nsliding_window = 50",
        ))
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("sliding_window: cannot change"),
        "{refused}"
    );
}

#[retry(name = "config::running", max_attempts = 2, base_delay = "10ms")]
async fn running() -> Result<(), resilience::Error> {
    Ok(())
}

#[tokio::test]
async fn applied_at_run_time_an_instance_in_use_is_reloaded_with_an_event() {
    let _global = GLOBAL.lock().await;
    running().await.unwrap();
    let retry = registry().retry("config::running").unwrap();
    let mut events = retry.subscribe();
    let document = toml("[retry.instances.\"config::running\"]\nmax_attempts = 4");
    let changed = registry().apply(&document).unwrap();
    assert!(changed.contains(&(Kind::Retry, "config::running".into())));
    assert_eq!(
        retry.config().max_attempts,
        4,
        "the same instance, reloaded"
    );
    assert_eq!(
        events.try_recv().unwrap().detail,
        Detail::Reconfigured {
            changes: "max_attempts: 2 -> 4".into()
        }
    );
    assert_eq!(retry.stats().calls, 1, "its counters kept");
}

#[test]
fn an_environment_variable_naming_two_instances_is_refused() {
    let registry = Registry::new();
    for name in ["a::b", "a__b"] {
        registry
            .get_or_create(name, TimeoutConfig::DEFAULT)
            .unwrap();
    }
    let document = Document::default().with_vars([("RESILIENCE_TIMEOUT__A__B__DURATION", "1s")]);
    assert_eq!(
        paths_and_messages(&registry, &document),
        ["RESILIENCE_TIMEOUT__A__B__DURATION: names more than one timeout: `a::b`, `a__b`; give them names apart"]
    );
}

#[test]
fn variables_of_another_shape_are_left_alone_and_a_misspelt_kind_is_not() {
    let registry = Registry::new();
    registry
        .get_or_create("shop::fetch", RetryConfig::DEFAULT)
        .unwrap();
    let others = [
        ("RESILIENCE_CONFIG", "/etc/resilience.toml"),
        ("RESILIENCE_SERVICE_HOST", "10.0.0.7"),
        ("RESILIENCE_PORT_80_TCP", "tcp://10.0.0.7:80"),
        ("RESILIENCE_REQUIRE_PROMTOOL", "1"),
    ];
    let document = Document::default()
        .with_vars(others)
        .with_vars([("RESILIENCE_RETRY__SHOP__FETCH__MAX_ATTEMPTS", "5")]);
    registry.apply(&document).unwrap();
    assert_eq!(
        registry.retry("shop::fetch").unwrap().config().max_attempts,
        5
    );

    let misspelt =
        Document::default().with_vars([("RESILIENCE_RETRI__SHOP__FETCH__MAX_ATTEMPTS", "5")]);
    assert_eq!(
        paths_and_messages(&registry, &misspelt),
        ["RESILIENCE_RETRI__SHOP__FETCH__MAX_ATTEMPTS: unknown kind `RETRI`; did you mean `RETRY`?"]
    );
}

/// `std::env::vars` panics on a variable that is not Unicode, anyone's: the process's
/// environment here has one of another program's, and one of ours.
#[cfg(unix)]
#[test]
fn a_variable_that_is_not_unicode_is_no_panic_and_one_of_ours_is_refused_by_name() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let registry = Registry::new();
    registry
        .get_or_create("latin1", TimeoutConfig::DEFAULT)
        .unwrap();
    // Names no other test reads; set before any thread of this test reads the environment.
    std::env::set_var("OTHER_PROGRAM_GREETING", OsStr::from_bytes(b"caf\xe9"));
    std::env::set_var(
        "RESILIENCE_TIMEOUT__LATIN1__DURATION",
        OsStr::from_bytes(b"1\xe9s"),
    );
    let document = Document::default().with_env();
    let errors = paths_and_messages(&registry, &document);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("RESILIENCE_TIMEOUT__LATIN1__DURATION: "),
        "{errors:?}"
    );
    std::env::remove_var("RESILIENCE_TIMEOUT__LATIN1__DURATION");
    std::env::remove_var("OTHER_PROGRAM_GREETING");
}

#[test]
fn optional_fields_are_unset_by_none_and_durations_read_as_numbers_of_seconds() {
    let registry = Registry::new();
    registry
        .get_or_create("r", RetryConfig::DEFAULT.max_elapsed(SECOND))
        .unwrap();
    let document = toml("[retry.instances.r]\nmax_elapsed = \"none\"\nbase_delay = 0.25");
    registry.apply(&document).unwrap();
    let retry = registry.retry("r").unwrap();
    assert_eq!(retry.config().max_elapsed, None);
    assert_eq!(retry.config().base_delay, Duration::from_millis(250));
}

#[test]
fn a_toml_mistake_is_reported_at_its_line() {
    for (text, line) in [
        (
            "[retry.instances.a]\nmax_attempts = 2\nmax_attempts = 3\n",
            3,
        ),
        ("[retry.instances.a]\n\n = 2\n", 3),
        ("[retry.instances.a\n", 1),
    ] {
        let errors = Document::from_toml(text).unwrap_err();
        let message = errors.iter().next().unwrap().to_string();
        assert!(
            message.ends_with(&format!("(line {line})")),
            "{text:?}: {message}"
        );
    }
}

struct Client;

impl Client {
    #[retry(max_attempts = 2, base_delay = "10ms")]
    async fn fetch(&self) -> Result<(), resilience::Error> {
        Ok(())
    }
}

/// A method's instance is named after its `Self` type, known at its first call: a
/// document applied at start-up, before it, still configures it, over the attribute.
#[tokio::test]
async fn a_method_s_instance_takes_a_document_applied_before_its_first_call() {
    let _global = GLOBAL.lock().await;
    let name = "config::Client::fetch";
    let invalid = toml(&format!("[retry.instances.\"{name}\"]\nmax_attempts = 0\n"));
    assert_eq!(
        paths_and_messages(registry(), &invalid),
        [format!(
            "retry.instances.\"{name}\".max_attempts: must be at least 1"
        )]
    );
    let document = toml(&format!("[retry.instances.\"{name}\"]\nmax_attempts = 4\n"));
    let changed = registry().apply(&document).unwrap();
    assert!(changed.contains(&(Kind::Retry, name.into())), "{changed:?}");
    Client.fetch().await.unwrap();
    let config = registry().retry(name).unwrap().config().clone();
    assert_eq!(config.max_attempts, 4, "the document's");
    assert_eq!(
        config.base_delay,
        Duration::from_millis(10),
        "the attribute's"
    );
    // Declared now, it goes back to its attribute when a document stops naming it.
    registry().apply(&Document::default()).unwrap();
    assert_eq!(registry().retry(name).unwrap().config().max_attempts, 2);
}

#[resilience::rate_limit(name = "config::per-user", max_requests = 5, window = "1m", key = user)]
async fn per_user(user: u64) -> Result<(), resilience::Error> {
    let _ = user;
    Ok(())
}

#[tokio::test]
async fn a_keyed_instance_named_by_a_document_is_refused_as_keyed() {
    let _global = GLOBAL.lock().await;
    per_user(1).await.unwrap();
    let document = toml("[rate_limit.instances.\"config::per-user\"]\nmax_requests = 3\n");
    assert_eq!(
        paths_and_messages(registry(), &document),
        ["rate_limit.instances.\"config::per-user\": `config::per-user` is a keyed rate limiter: documents do not configure keyed instances; `registry().configure` does, before their first use"]
    );
}

#[test]
fn a_base_no_instance_extends_is_still_checked_field_by_field() {
    let registry = Registry::new();
    registry
        .get_or_create("breaker", CircuitBreakerConfig::DEFAULT)
        .unwrap();
    let document = toml(
        "[circuit_breaker.bases.flaky]\nfailure_threshold = 0\n\n\
         [circuit_breaker.bases.patient]\nrecovery_timeout = \"10m\"\n",
    );
    assert_eq!(
        paths_and_messages(&registry, &document),
        ["circuit_breaker.bases.flaky.failure_threshold: must be at least 1"]
    );
}
