//! The registry as operators use it: names, configuration before first use, conflicts,
//! default names, and the snapshot.

use std::time::Duration;

use resilience::{
    bulkhead, circuit_breaker, registry, retry, timeout, CircuitBreakerConfig, ConfigError, Error,
    Kind, RetryConfig, Stats, TimeoutConfig,
};

#[tokio::test(start_paused = true)]
async fn configuration_by_name_before_first_use_wins_over_the_attribute() {
    #[circuit_breaker(name = "registry::configured", failure_threshold = 5)]
    async fn call() -> Result<(), Error> {
        Err(Error::Timeout {
            name: "downstream".into(),
            after: Duration::from_secs(1),
        })
    }
    registry()
        .configure(
            "registry::configured",
            CircuitBreakerConfig::DEFAULT.failure_threshold(1),
        )
        .unwrap();
    let _ = call().await;
    let breaker = registry().circuit_breaker("registry::configured").unwrap();
    assert_eq!(breaker.config().failure_threshold, 1);
    assert!(breaker.is_open());
    let late = registry().configure("registry::configured", CircuitBreakerConfig::default());
    assert_eq!(
        late.unwrap_err().to_string(),
        "circuit breaker `registry::configured` already exists; configure it before its first use"
    );
}

#[tokio::test(start_paused = true)]
async fn disagreeing_declarations_are_reported_once_and_the_first_wins() {
    #[timeout("1s", name = "registry::disagree")]
    async fn first() -> Result<(), Error> {
        Ok(())
    }
    #[timeout("5s", name = "registry::disagree")]
    async fn second() -> Result<(), Error> {
        Ok(())
    }
    first().await.unwrap();
    for _ in 0..3 {
        second().await.unwrap();
    }
    assert_eq!(
        registry().timeout("registry::disagree").unwrap().duration(),
        Duration::from_secs(1)
    );
    let conflicts: Vec<_> = registry()
        .conflicts()
        .into_iter()
        .filter(|c| &*c.name == "registry::disagree")
        .collect();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].kind, Kind::Timeout);
    assert!(conflicts[0].ignored.contains("5s"), "{:?}", conflicts[0]);
}

#[tokio::test(start_paused = true)]
async fn declarations_that_agree_share_without_complaint() {
    #[bulkhead(name = "registry::agree", max_concurrent = 3)]
    async fn one() -> Result<(), Error> {
        Ok(())
    }
    #[bulkhead(name = "registry::agree", max_concurrent = 3)]
    async fn other() -> Result<(), Error> {
        Ok(())
    }
    one().await.unwrap();
    other().await.unwrap();
    assert_eq!(
        registry()
            .bulkhead("registry::agree")
            .unwrap()
            .stats()
            .admitted,
        2
    );
    assert!(registry()
        .conflicts()
        .iter()
        .all(|c| &*c.name != "registry::agree"));
}

mod billing {
    use resilience::{retry, Error};

    pub struct Invoices;
    pub struct Refunds;

    impl Invoices {
        #[retry(base_delay = 0)]
        pub async fn get(&self) -> Result<&'static str, Error> {
            Ok("invoice")
        }
    }

    impl Refunds {
        #[retry(base_delay = 0)]
        pub async fn get(&self) -> Result<&'static str, Error> {
            Ok("refund")
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_method_s_default_name_is_type_and_method_and_same_named_methods_stay_apart() {
    assert_eq!(billing::Invoices.get().await, Ok("invoice"));
    assert_eq!(billing::Refunds.get().await, Ok("refund"));
    let invoices = registry()
        .retry(concat!(module_path!(), "::billing::Invoices::get"))
        .unwrap();
    let refunds = registry()
        .retry(concat!(module_path!(), "::billing::Refunds::get"))
        .unwrap();
    assert_eq!((invoices.stats().calls, refunds.stats().calls), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn two_fns_with_one_path_and_no_name_get_an_instance_each() {
    let first = {
        #[retry(base_delay = 0)]
        async fn shadowed() -> Result<u8, Error> {
            Ok(1)
        }
        shadowed
    };
    let second = {
        #[retry(base_delay = 0)]
        async fn shadowed() -> Result<u8, Error> {
            Ok(2)
        }
        shadowed
    };
    assert_eq!((first().await, second().await), (Ok(1), Ok(2)));
    let name = concat!(module_path!(), "::shadowed");
    let a = registry().retry(name).unwrap();
    let b = registry().retry(&format!("{name}#2")).unwrap();
    assert_eq!((a.stats().calls, b.stats().calls), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_lists_each_instance_with_its_counters() {
    #[circuit_breaker(name = "registry::snap")]
    #[retry(name = "registry::snap", base_delay = 0)]
    async fn call() -> Result<(), Error> {
        Ok(())
    }
    call().await.unwrap();
    let snapshot = registry().snapshot();
    let Stats::CircuitBreaker(breaker) = snapshot
        .get(Kind::CircuitBreaker, "registry::snap")
        .unwrap()
        .stats
    else {
        panic!("a breaker's stats")
    };
    assert_eq!((breaker.calls, breaker.successes), (1, 1));
    let table = snapshot.to_string();
    let row = table
        .lines()
        .find(|line| line.starts_with("circuit breaker") && line.contains("registry::snap"))
        .unwrap();
    assert!(
        row.contains("closed") && row.contains("calls 1, successes 1"),
        "{row}"
    );
    assert!(table
        .lines()
        .any(|line| line.starts_with("retry") && line.contains("registry::snap")));
}

#[test]
fn the_registry_refuses_invalid_configs_with_an_error() {
    let error = registry()
        .configure(
            "registry::bad",
            TimeoutConfig::DEFAULT.duration(Duration::ZERO),
        )
        .unwrap_err();
    assert_eq!(error.to_string(), "`duration` must be longer than zero");
}

/// Declared here, called by no test: the registry must know them all the same.
#[allow(dead_code)]
mod never_called {
    use resilience::{circuit_breaker, rate_limit, Error};

    #[circuit_breaker(name = "registry::declared", failure_threshold = 3)]
    pub async fn charge() -> Result<(), Error> {
        Ok(())
    }

    #[rate_limit(max_requests = 5, window = "1s")]
    pub async fn search() -> Result<(), Error> {
        Ok(())
    }
}

#[test]
fn every_declared_instance_is_known_before_its_first_call() {
    let breaker = registry()
        .circuit_breaker("registry::declared")
        .expect("declared at link time");
    assert_eq!(breaker.config().failure_threshold, 3);
    let search = concat!(module_path!(), "::never_called::search");
    assert_eq!(
        registry()
            .rate_limiter(search)
            .unwrap()
            .config()
            .max_requests,
        5
    );
    let snapshot = registry().snapshot();
    assert!(snapshot
        .get(Kind::CircuitBreaker, "registry::declared")
        .is_some());
    assert!(snapshot.get(Kind::RateLimiter, search).is_some());
}

#[test]
fn configuring_a_name_nothing_declares_is_an_error_naming_it() {
    let error = registry()
        .configure("registry::declraed", CircuitBreakerConfig::DEFAULT)
        .unwrap_err();
    assert!(matches!(error, ConfigError::Undeclared { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "no circuit breaker named `registry::declraed` is declared; did you mean `registry::declared`?"
    );
}

mod meters {
    use resilience::{circuit_breaker, retry, Error};

    pub struct Counter;
    pub struct Gauge;

    impl Counter {
        #[retry(base_delay = 0)]
        pub async fn new() -> Result<Self, Error> {
            Ok(Counter)
        }

        /// Spells its type in the signature, and says `Self` in the body only.
        #[retry(base_delay = 0)]
        pub async fn fresh() -> Result<Counter, Error> {
            Ok(Self)
        }
    }

    impl Gauge {
        #[retry(base_delay = 0)]
        pub async fn new() -> Result<Self, Error> {
            Ok(Gauge)
        }

        #[retry(base_delay = 0)]
        pub async fn read(&self) -> Result<u32, Error> {
            Ok(7)
        }
    }

    /// A trait's default method: one instance per implementing type.
    pub trait Probe {
        #[circuit_breaker(failure_threshold = 1)]
        async fn probe(&self, healthy: bool) -> Result<(), Error> {
            match healthy {
                true => Ok(()),
                false => Err(Error::Timeout {
                    name: "meter".into(),
                    after: std::time::Duration::from_secs(1),
                }),
            }
        }
    }

    impl Probe for Counter {}
    impl Probe for Gauge {}
}

#[tokio::test(start_paused = true)]
async fn associated_fns_are_named_after_their_type_whatever_the_call_order() {
    use meters::{Counter, Gauge};
    // Gauge first: the names must not depend on which is called first.
    let _gauge = Gauge::new().await.unwrap();
    let _counter = Counter::new().await.unwrap();
    let gauge = registry()
        .retry(concat!(module_path!(), "::meters::Gauge::new"))
        .unwrap();
    let counter = registry()
        .retry(concat!(module_path!(), "::meters::Counter::new"))
        .unwrap();
    assert_eq!((gauge.stats().calls, counter.stats().calls), (1, 1));
    assert!(registry()
        .retry(concat!(module_path!(), "::meters::new#2"))
        .is_none());
    let _fresh = Counter::fresh().await.unwrap();
    assert!(registry()
        .retry(concat!(module_path!(), "::meters::Counter::fresh"))
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn a_trait_default_method_has_one_instance_per_implementing_type() {
    use meters::{Counter, Gauge, Probe};
    let _ = Counter.probe(false).await;
    assert!(matches!(
        Counter.probe(true).await,
        Err(Error::CircuitOpen { .. })
    ));
    assert_eq!(
        Gauge.probe(true).await,
        Ok(()),
        "the gauge's breaker is its own"
    );
    let counter = registry()
        .circuit_breaker(concat!(module_path!(), "::meters::Counter::probe"))
        .unwrap();
    let gauge = registry()
        .circuit_breaker(concat!(module_path!(), "::meters::Gauge::probe"))
        .unwrap();
    assert!(counter.is_open());
    assert!(gauge.is_closed());
}

#[tokio::test(start_paused = true)]
async fn a_method_s_default_name_can_be_configured_before_its_first_call() {
    let name = concat!(module_path!(), "::meters::Gauge::read");
    registry()
        .configure(name, RetryConfig::DEFAULT.max_attempts(9))
        .unwrap();
    assert_eq!(meters::Gauge.read().await, Ok(7));
    assert_eq!(registry().retry(name).unwrap().config().max_attempts, 9);
}

mod generic {
    use resilience::{retry, Error};

    pub struct Client<T>(pub T);

    impl<T: Send + Sync> Client<T> {
        #[retry(base_delay = 0)]
        pub async fn fetch(&self) -> Result<(), Error> {
            Ok(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_client_of_a_generic_impl_shares_one_instance_from_any_thread() {
    use generic::Client;
    let calls = (0..4).map(|i| {
        tokio::spawn(async move {
            Client(1u8).fetch().await.unwrap();
            Client(String::from("a")).fetch().await.unwrap();
            Client(vec![i]).fetch().await.unwrap();
        })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap();
    }
    let retry = registry()
        .retry(concat!(module_path!(), "::generic::Client::fetch"))
        .unwrap();
    assert_eq!(retry.stats().calls, 12, "three types, one instance");
}
