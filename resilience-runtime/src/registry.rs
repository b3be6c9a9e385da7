//! The process-wide registry: every named policy instance, by kind and name.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use crate::{
    Bulkhead, BulkheadConfig, BulkheadStats, CircuitBreaker, CircuitBreakerConfig,
    CircuitBreakerStats, ConfigError, RateLimiter, RateLimiterConfig, RateLimiterStats, Retry,
    RetryConfig, RetryStats, Timeout, TimeoutConfig, TimeoutStats,
};

/// The kinds of policy; each has its own namespace in the [`Registry`].
///
/// ```
/// use resilience::Kind;
/// assert_eq!(Kind::RateLimiter.to_string(), "rate limiter");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// [`CircuitBreaker`]
    CircuitBreaker,
    /// [`Retry`]
    Retry,
    /// [`Timeout`]
    Timeout,
    /// [`Bulkhead`]
    Bulkhead,
    /// [`RateLimiter`]
    RateLimiter,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::CircuitBreaker => "circuit breaker",
            Kind::Retry => "retry",
            Kind::Timeout => "timeout",
            Kind::Bulkhead => "bulkhead",
            Kind::RateLimiter => "rate limiter",
        })
    }
}

/// A policy the registry can hold. Implemented by the five policies only.
///
/// ```
/// use resilience::{CircuitBreaker, Kind, Policy};
/// assert_eq!(<CircuitBreaker as Policy>::KIND, Kind::CircuitBreaker);
/// ```
pub trait Policy: Send + Sync + Sized + 'static + sealed::Sealed {
    /// Its configuration.
    type Config: PolicyConfig<Policy = Self>;
    /// Its kind.
    const KIND: Kind;
    #[doc(hidden)]
    fn build(name: Arc<str>, config: Self::Config) -> Result<Self, ConfigError>;
    #[doc(hidden)]
    fn namespace(registry: &Registry) -> &Namespace<Self>;
    /// Its counters, and its state where it has one.
    fn snapshot(&self) -> Stats;
}

/// A policy's configuration; names the policy it configures, so
/// [`Registry::configure`] needs no type annotation.
///
/// ```
/// use resilience::{registry, RetryConfig};
/// // The config's type says which kind of instance it configures.
/// registry().configure("docs::policy_config", RetryConfig::default()).unwrap();
/// ```
pub trait PolicyConfig:
    Clone + PartialEq + Default + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// The policy this configures.
    type Policy: Policy<Config = Self>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! policies {
    ($($policy:ident $config:ident $stats:ident $field:ident,)*) => {$(
        impl sealed::Sealed for $policy {}
        impl sealed::Sealed for $config {}
        impl PolicyConfig for $config {
            type Policy = $policy;
        }
        impl Policy for $policy {
            type Config = $config;
            const KIND: Kind = Kind::$policy;
            fn build(name: Arc<str>, config: $config) -> Result<Self, ConfigError> {
                $policy::new(name, config)
            }
            fn namespace(registry: &Registry) -> &Namespace<Self> {
                &registry.$field
            }
            fn snapshot(&self) -> Stats {
                Stats::$policy(self.stats())
            }
        }
    )*};
}

policies! {
    CircuitBreaker CircuitBreakerConfig CircuitBreakerStats circuit_breakers,
    Retry RetryConfig RetryStats retries,
    Timeout TimeoutConfig TimeoutStats timeouts,
    Bulkhead BulkheadConfig BulkheadStats bulkheads,
    RateLimiter RateLimiterConfig RateLimiterStats rate_limiters,
}

/// The instances of one kind, by name.
#[doc(hidden)]
pub struct Namespace<P: Policy> {
    slots: RwLock<BTreeMap<Arc<str>, Slot<P>>>,
}

enum Slot<P: Policy> {
    /// Configured by name, not used yet.
    Configured(P::Config),
    /// In use. `declared` is the first declaration's config, to compare later ones with;
    /// `owner` is the call site of a default-named instance, which no other site shares.
    Created {
        policy: Arc<P>,
        declared: Option<P::Config>,
        owner: Option<usize>,
    },
}

impl<P: Policy> Namespace<P> {
    const fn new() -> Self {
        Self {
            slots: RwLock::new(BTreeMap::new()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Arc<str>, Slot<P>>> {
        // No user code runs under these locks; a poisoned one still holds a sound map.
        self.slots.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<Arc<str>, Slot<P>>> {
        self.slots.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, name: &str) -> Option<Arc<P>> {
        match self.read().get(name)? {
            Slot::Created { policy, .. } => Some(Arc::clone(policy)),
            Slot::Configured(_) => None,
        }
    }
}

/// Two declarations of one instance that disagree; the first one's arguments were used.
///
/// ```
/// use std::time::Duration;
/// use resilience::{registry, TimeoutConfig};
/// registry().get_or_create("docs::conflict", TimeoutConfig { duration: Duration::from_secs(1) }).unwrap();
/// registry().get_or_create("docs::conflict", TimeoutConfig { duration: Duration::from_secs(2) }).unwrap();
/// assert!(registry().conflicts().iter().any(|c| &*c.name == "docs::conflict"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conflict {
    /// The instance's kind.
    pub kind: Kind,
    /// The instance's name.
    pub name: Arc<str>,
    /// The configuration the instance was declared with first.
    pub first: String,
    /// The configuration of the later declaration that was not used.
    pub ignored: String,
}

/// Every named policy instance of the process, by kind and name.
///
/// The attributes create their instances here on first use; code can look them up, see
/// their state, and configure them by name before their first use.
///
/// ```
/// use std::time::Duration;
/// use resilience::{registry, CircuitBreakerConfig};
///
/// // At start-up, before any call: this wins over the attribute's own arguments.
/// registry()
///     .configure("docs::payments", CircuitBreakerConfig { failure_threshold: 10, ..Default::default() })
///     .unwrap();
///
/// // Later, wherever the breaker is needed by name:
/// let breaker = registry().get_or_create("docs::payments", CircuitBreakerConfig::default()).unwrap();
/// assert_eq!(breaker.config().failure_threshold, 10);
/// assert!(registry().circuit_breaker("docs::payments").is_some());
/// println!("{}", registry().snapshot());
/// ```
pub struct Registry {
    circuit_breakers: Namespace<CircuitBreaker>,
    retries: Namespace<Retry>,
    timeouts: Namespace<Timeout>,
    bulkheads: Namespace<Bulkhead>,
    rate_limiters: Namespace<RateLimiter>,
    conflicts: Mutex<Vec<Conflict>>,
}

/// The process-wide registry that the attributes use.
///
/// ```
/// assert!(resilience::registry().retry("nothing::by::this::name").is_none());
/// ```
pub fn registry() -> &'static Registry {
    static REGISTRY: Registry = Registry::new();
    &REGISTRY
}

impl Registry {
    /// An empty registry, apart from the process-wide one; useful in tests.
    pub const fn new() -> Self {
        Self {
            circuit_breakers: Namespace::new(),
            retries: Namespace::new(),
            timeouts: Namespace::new(),
            bulkheads: Namespace::new(),
            rate_limiters: Namespace::new(),
            conflicts: Mutex::new(Vec::new()),
        }
    }

    /// The circuit breaker named `name`, if it has been created.
    ///
    /// ```
    /// use resilience::{registry, CircuitBreakerConfig};
    /// assert!(registry().circuit_breaker("docs::circuit_breaker").is_none());
    /// registry().get_or_create("docs::circuit_breaker", CircuitBreakerConfig::default()).unwrap();
    /// assert!(registry().circuit_breaker("docs::circuit_breaker").is_some());
    /// ```
    pub fn circuit_breaker(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.circuit_breakers.get(name)
    }

    /// The retry named `name`, if it has been created.
    ///
    /// ```
    /// use resilience::{registry, RetryConfig};
    /// assert!(registry().retry("docs::retry").is_none());
    /// registry().get_or_create("docs::retry", RetryConfig::default()).unwrap();
    /// assert!(registry().retry("docs::retry").is_some());
    /// ```
    pub fn retry(&self, name: &str) -> Option<Arc<Retry>> {
        self.retries.get(name)
    }

    /// The timeout named `name`, if it has been created.
    ///
    /// ```
    /// use resilience::{registry, TimeoutConfig};
    /// assert!(registry().timeout("docs::timeout").is_none());
    /// registry().get_or_create("docs::timeout", TimeoutConfig::default()).unwrap();
    /// assert!(registry().timeout("docs::timeout").is_some());
    /// ```
    pub fn timeout(&self, name: &str) -> Option<Arc<Timeout>> {
        self.timeouts.get(name)
    }

    /// The bulkhead named `name`, if it has been created.
    ///
    /// ```
    /// use resilience::{registry, BulkheadConfig};
    /// assert!(registry().bulkhead("docs::bulkhead").is_none());
    /// registry().get_or_create("docs::bulkhead", BulkheadConfig::default()).unwrap();
    /// assert!(registry().bulkhead("docs::bulkhead").is_some());
    /// ```
    pub fn bulkhead(&self, name: &str) -> Option<Arc<Bulkhead>> {
        self.bulkheads.get(name)
    }

    /// The rate limiter named `name`, if it has been created.
    ///
    /// ```
    /// use resilience::{registry, RateLimiterConfig};
    /// assert!(registry().rate_limiter("docs::rate_limiter").is_none());
    /// registry().get_or_create("docs::rate_limiter", RateLimiterConfig::default()).unwrap();
    /// assert!(registry().rate_limiter("docs::rate_limiter").is_some());
    /// ```
    pub fn rate_limiter(&self, name: &str) -> Option<Arc<RateLimiter>> {
        self.rate_limiters.get(name)
    }

    /// Sets the configuration the instance `name` will be created with, whatever its
    /// declaration says. The kind is the config's: a [`CircuitBreakerConfig`] configures a
    /// circuit breaker.
    ///
    /// # Errors
    ///
    /// The config's own validation error, or [`ConfigError::AlreadyCreated`] when the
    /// instance is already in use.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience::{registry, ConfigError, TimeoutConfig};
    ///
    /// let slow = TimeoutConfig { duration: Duration::from_secs(30) };
    /// registry().configure("docs::reports", slow.clone()).unwrap();
    /// registry().get_or_create("docs::reports", TimeoutConfig::default()).unwrap();
    /// assert!(matches!(registry().configure("docs::reports", slow), Err(ConfigError::AlreadyCreated { .. })));
    /// ```
    pub fn configure<C: PolicyConfig>(&self, name: &str, config: C) -> Result<(), ConfigError> {
        C::Policy::build(Arc::from(name), config.clone())?;
        let mut slots = C::Policy::namespace(self).write();
        if let Some(Slot::Created { .. }) = slots.get(name) {
            return Err(ConfigError::AlreadyCreated {
                kind: C::Policy::KIND,
                name: Arc::from(name),
            });
        }
        slots.insert(Arc::from(name), Slot::Configured(config));
        Ok(())
    }

    /// The instance `name` of the config's kind, created from `config` unless it exists.
    ///
    /// A configuration set with [`configure`](Self::configure) wins over `config`. When the
    /// instance exists and was declared with a different config, the disagreement is
    /// recorded in [`conflicts`](Self::conflicts) and logged once as a `tracing` warning;
    /// the existing instance is returned unchanged.
    ///
    /// # Errors
    ///
    /// The config's validation error when the instance has to be created from `config`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use resilience::{registry, BulkheadConfig};
    /// let first = registry().get_or_create("docs::pool", BulkheadConfig::default()).unwrap();
    /// let again = registry().get_or_create("docs::pool", BulkheadConfig::default()).unwrap();
    /// assert!(Arc::ptr_eq(&first, &again));
    /// ```
    pub fn get_or_create<C: PolicyConfig>(
        &self,
        name: &str,
        config: C,
    ) -> Result<Arc<C::Policy>, ConfigError> {
        let namespace = C::Policy::namespace(self);
        if let Some(Slot::Created {
            policy, declared, ..
        }) = namespace.read().get(name)
        {
            self.compare(name, declared.as_ref(), &config);
            return Ok(Arc::clone(policy));
        }
        let mut slots = namespace.write();
        let chosen = match slots.get(name) {
            Some(Slot::Created {
                policy, declared, ..
            }) => {
                self.compare(name, declared.as_ref(), &config);
                return Ok(Arc::clone(policy));
            }
            Some(Slot::Configured(configured)) => configured.clone(),
            None => config.clone(),
        };
        let policy = Arc::new(C::Policy::build(Arc::from(name), chosen)?);
        slots.insert(
            Arc::from(name),
            Slot::Created {
                policy: Arc::clone(&policy),
                declared: Some(config),
                owner: None,
            },
        );
        Ok(policy)
    }

    /// The instance of the call site `owner`, named `name` unless another call site has that
    /// name already, then `name#2`, `name#3`, ...: a default name keeps an instance private
    /// to its fn even when two fns share a path (nested fns, or methods of two types).
    fn get_or_create_private<C: PolicyConfig>(
        &self,
        name: &str,
        owner: usize,
        config: C,
    ) -> Result<Arc<C::Policy>, ConfigError> {
        let mut slots = C::Policy::namespace(self).write();
        let (mut candidate, mut n) = (name.to_owned(), 1);
        let chosen = loop {
            match slots.get(candidate.as_str()) {
                Some(Slot::Created {
                    policy,
                    owner: Some(o),
                    ..
                }) if *o == owner => return Ok(Arc::clone(policy)),
                Some(Slot::Created { .. }) => {
                    n += 1;
                    candidate = format!("{name}#{n}");
                }
                Some(Slot::Configured(configured)) => break configured.clone(),
                None => break config.clone(),
            }
        };
        let policy = Arc::new(C::Policy::build(Arc::from(candidate.as_str()), chosen)?);
        let slot = Slot::Created {
            policy: Arc::clone(&policy),
            declared: Some(config),
            owner: Some(owner),
        };
        slots.insert(Arc::from(candidate), slot);
        Ok(policy)
    }

    /// Declarations that disagreed with the first declaration of the same instance.
    ///
    /// ```
    /// use resilience::Registry;
    /// assert!(Registry::new().conflicts().is_empty());
    /// ```
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.conflicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every created instance with its state and counters, sorted by kind and name.
    /// Its `Display` is a table a person can read.
    ///
    /// ```
    /// use resilience::{Kind, Registry, RetryConfig};
    /// let registry = Registry::new();
    /// registry.get_or_create("fetch", RetryConfig::default()).unwrap();
    /// assert!(registry.snapshot().get(Kind::Retry, "fetch").is_some());
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        let mut instances = Vec::new();
        self.collect(&self.circuit_breakers, &mut instances);
        self.collect(&self.retries, &mut instances);
        self.collect(&self.timeouts, &mut instances);
        self.collect(&self.bulkheads, &mut instances);
        self.collect(&self.rate_limiters, &mut instances);
        Snapshot { instances }
    }

    fn collect<P: Policy>(&self, namespace: &Namespace<P>, into: &mut Vec<Instance>) {
        for (name, slot) in namespace.read().iter() {
            if let Slot::Created { policy, .. } = slot {
                into.push(Instance {
                    kind: P::KIND,
                    name: Arc::clone(name),
                    stats: policy.snapshot(),
                });
            }
        }
    }

    fn compare<C: PolicyConfig>(&self, name: &str, first: Option<&C>, other: &C) {
        let Some(first) = first.filter(|first| *first != other) else {
            return;
        };
        let conflict = Conflict {
            kind: C::Policy::KIND,
            name: Arc::from(name),
            first: format!("{first:?}"),
            ignored: format!("{other:?}"),
        };
        let mut conflicts = self
            .conflicts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !conflicts.contains(&conflict) {
            tracing::warn!(
                kind = %conflict.kind,
                name = %conflict.name,
                first = %conflict.first,
                ignored = %conflict.ignored,
                "two declarations of one resilience instance disagree; the first one is used",
            );
            conflicts.push(conflict);
        }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("instances", &self.snapshot().instances)
            .finish()
    }
}

/// The counters of one instance, by kind.
///
/// ```
/// use resilience::{Kind, Registry, Stats, TimeoutConfig};
/// let registry = Registry::new();
/// registry.get_or_create("db", TimeoutConfig::default()).unwrap();
/// let snapshot = registry.snapshot();
/// assert!(matches!(snapshot.get(Kind::Timeout, "db").unwrap().stats, Stats::Timeout(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stats {
    /// A circuit breaker's.
    CircuitBreaker(CircuitBreakerStats),
    /// A retry's.
    Retry(RetryStats),
    /// A timeout's.
    Timeout(TimeoutStats),
    /// A bulkhead's.
    Bulkhead(BulkheadStats),
    /// A rate limiter's.
    RateLimiter(RateLimiterStats),
}

impl Stats {
    /// The state in a word or two: a breaker's state, a bulkhead's load; `-` for the rest.
    ///
    /// ```
    /// use resilience::{BulkheadConfig, Kind, Registry};
    /// let registry = Registry::new();
    /// registry.get_or_create("pool", BulkheadConfig::default()).unwrap();
    /// assert_eq!(registry.snapshot().get(Kind::Bulkhead, "pool").unwrap().stats.state(), "0 busy, 0 queued");
    /// ```
    pub fn state(&self) -> String {
        match self {
            Stats::CircuitBreaker(s) => s.state.to_string(),
            Stats::Bulkhead(s) => format!("{} busy, {} queued", s.active, s.queued),
            Stats::Retry(_) | Stats::Timeout(_) | Stats::RateLimiter(_) => "-".to_owned(),
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stats::CircuitBreaker(s) => write!(
                f,
                "calls {}, successes {}, failures {}, rejected {}, transitions {}",
                s.calls, s.successes, s.failures, s.rejections, s.transitions
            ),
            Stats::Retry(s) => write!(
                f,
                "calls {}, ok first try {}, ok after retry {}, failed {}, retries {}",
                s.calls,
                s.succeeded_first_try,
                s.succeeded_after_retry,
                s.failed_without_retry + s.failed_after_retry,
                s.retries
            ),
            Stats::Timeout(s) => write!(f, "calls {}, timed out {}", s.calls, s.timeouts),
            Stats::Bulkhead(s) => write!(f, "admitted {}, rejected {}", s.admitted, s.rejections),
            Stats::RateLimiter(s) => {
                write!(
                    f,
                    "admitted {}, waited {}, rejected {}",
                    s.admitted, s.waited, s.rejections
                )
            }
        }
    }
}

/// One instance in a [`Snapshot`].
///
/// ```
/// use resilience::{Kind, Registry, RetryConfig};
/// let registry = Registry::new();
/// registry.get_or_create("fetch", RetryConfig::default()).unwrap();
/// let instance = &registry.snapshot().instances[0];
/// assert_eq!((instance.kind, &*instance.name), (Kind::Retry, "fetch"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Instance {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: Arc<str>,
    /// Its counters.
    pub stats: Stats,
}

/// Every instance of a registry at one moment.
///
/// ```
/// use resilience::{CircuitBreakerConfig, Registry};
/// let registry = Registry::new();
/// registry.get_or_create("payments", CircuitBreakerConfig::default()).unwrap();
/// let table = registry.snapshot().to_string();
/// assert!(table.lines().nth(1).unwrap().starts_with("circuit breaker  payments  closed"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The instances, sorted by kind and name.
    pub instances: Vec<Instance>,
}

impl Snapshot {
    /// The instance of `kind` named `name`.
    ///
    /// ```
    /// use resilience::{Kind, Registry, RetryConfig};
    /// let registry = Registry::new();
    /// registry.get_or_create("fetch", RetryConfig::default()).unwrap();
    /// assert!(registry.snapshot().get(Kind::Retry, "fetch").is_some());
    /// assert!(registry.snapshot().get(Kind::Timeout, "fetch").is_none());
    /// ```
    pub fn get(&self, kind: Kind, name: &str) -> Option<&Instance> {
        self.instances
            .iter()
            .find(|i| i.kind == kind && &*i.name == name)
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .instances
            .iter()
            .map(|i| {
                [
                    i.kind.to_string(),
                    i.name.to_string(),
                    i.stats.state(),
                    i.stats.to_string(),
                ]
            })
            .collect();
        let header = ["KIND", "NAME", "STATE", "COUNTERS"].map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let [kind, name, state, counters] = row;
            writeln!(
                f,
                "{kind:<w0$}  {name:<w1$}  {state:<w2$}  {counters}",
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )?;
        }
        Ok(())
    }
}

/// Not public API. Used by resilience-macros.
///
/// The handle of one call site on one instance, resolved by name on first use.
///
/// The attributes put one in a `static` beside each guarded fn, so a call looks up nothing:
/// after the first call, reaching the instance is one atomic load.
#[doc(hidden)]
pub struct CallSite<C: PolicyConfig> {
    name: SiteName,
    config: C,
    policy: OnceLock<Arc<C::Policy>>,
}

enum SiteName {
    /// `name = "..."`: every site naming it shares the instance.
    Shared(&'static str),
    /// No name given: the fn's path, private to this site.
    Private {
        module: &'static str,
        function: &'static str,
    },
}

impl<C: PolicyConfig> CallSite<C> {
    /// A call site sharing the instance `name`, declared with `config`.
    pub const fn shared(name: &'static str, config: C) -> Self {
        Self {
            name: SiteName::Shared(name),
            config,
            policy: OnceLock::new(),
        }
    }

    /// A call site with an instance of its own, named after the fn `module::function`.
    pub const fn private(module: &'static str, function: &'static str, config: C) -> Self {
        Self {
            name: SiteName::Private { module, function },
            config,
            policy: OnceLock::new(),
        }
    }

    /// The instance of a free fn's call site.
    pub fn get(&self) -> &C::Policy {
        self.policy.get_or_init(|| self.declare(None))
    }

    /// The instance of a method's call site: a default name is `Type::method`.
    pub fn get_for<S: ?Sized>(&self) -> &C::Policy {
        self.policy
            .get_or_init(|| self.declare(Some(std::any::type_name::<S>())))
    }

    fn declare(&self, self_type: Option<&str>) -> Arc<C::Policy> {
        let registry = registry();
        match self.name {
            SiteName::Shared(name) => declare(
                name,
                |config| registry.get_or_create(name, config),
                &self.config,
            ),
            SiteName::Private { module, function } => {
                // `a::b::Client<T>` names the type; the instance is shared by every `T`.
                let path = self_type.map_or(module, |ty| ty.split('<').next().unwrap_or(ty));
                let name = format!("{path}::{function}");
                let owner = std::ptr::from_ref(self) as usize;
                declare(
                    &name,
                    |config| registry.get_or_create_private(&name, owner, config),
                    &self.config,
                )
            }
        }
    }
}

/// Creates a declared instance, which must succeed: the attributes check their arguments
/// at compile time, so a config that fails here was written by hand; it is reported and the
/// instance gets the defaults rather than a panic.
fn declare<C: PolicyConfig>(
    name: &str,
    create: impl Fn(C) -> Result<Arc<C::Policy>, ConfigError>,
    config: &C,
) -> Arc<C::Policy> {
    create(config.clone()).unwrap_or_else(|error| {
        tracing::error!(%name, %error, "invalid resilience declaration; using the defaults");
        create(C::default()).expect("every config's defaults are valid (tested in registry.rs)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn configuration_by_name_wins_over_the_declaration() {
        let registry = Registry::new();
        let configured = BulkheadConfig {
            max_concurrent: 3,
            ..Default::default()
        };
        registry.configure("db", configured.clone()).unwrap();
        assert!(
            registry.bulkhead("db").is_none(),
            "configuring creates nothing"
        );
        let bulkhead = registry
            .get_or_create("db", BulkheadConfig::default())
            .unwrap();
        assert_eq!(bulkhead.config(), &configured);
        assert!(registry.conflicts().is_empty());
    }

    #[test]
    fn configuring_an_instance_in_use_is_refused() {
        let registry = Registry::new();
        registry
            .get_or_create("db", RetryConfig::default())
            .unwrap();
        let error = registry
            .configure("db", RetryConfig::default())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "retry `db` already exists; configure it before its first use"
        );
    }

    #[test]
    fn an_invalid_configuration_is_refused_up_front() {
        let registry = Registry::new();
        let error = registry
            .configure(
                "db",
                TimeoutConfig {
                    duration: Duration::ZERO,
                },
            )
            .unwrap_err();
        assert_eq!(
            error,
            ConfigError::invalid("duration", "must be longer than zero")
        );
    }

    #[test]
    fn kinds_have_separate_namespaces() {
        let registry = Registry::new();
        let breaker = registry
            .get_or_create("x", CircuitBreakerConfig::default())
            .unwrap();
        let again = registry
            .get_or_create("x", CircuitBreakerConfig::default())
            .unwrap();
        assert!(Arc::ptr_eq(&breaker, &again));
        registry
            .get_or_create("x", TimeoutConfig::default())
            .unwrap();
        assert!(registry.retry("x").is_none());
        assert_eq!(registry.snapshot().instances.len(), 2);
    }

    #[test]
    fn a_disagreeing_declaration_is_recorded_once_and_the_first_wins() {
        let registry = Registry::new();
        let first = TimeoutConfig {
            duration: Duration::from_secs(1),
        };
        let other = TimeoutConfig {
            duration: Duration::from_secs(2),
        };
        registry.get_or_create("t", first.clone()).unwrap();
        for _ in 0..3 {
            let timeout = registry.get_or_create("t", other.clone()).unwrap();
            assert_eq!(timeout.duration(), Duration::from_secs(1));
        }
        let conflicts = registry.conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].kind, Kind::Timeout);
        assert_eq!(conflicts[0].ignored, format!("{other:?}"));
    }

    #[test]
    fn an_invalid_declaration_falls_back_to_the_defaults() {
        let registry = Registry::new();
        let bad = CircuitBreakerConfig {
            failure_threshold: 0,
            ..Default::default()
        };
        let breaker = declare("bad", |config| registry.get_or_create("bad", config), &bad);
        assert_eq!(breaker.config(), &CircuitBreakerConfig::default());
    }

    #[test]
    fn every_config_s_defaults_are_valid() {
        assert_eq!(CircuitBreakerConfig::default().validate(), Ok(()));
        assert_eq!(RetryConfig::default().validate(), Ok(()));
        assert_eq!(TimeoutConfig::default().validate(), Ok(()));
        assert_eq!(BulkheadConfig::default().validate(), Ok(()));
        assert_eq!(RateLimiterConfig::default().validate(), Ok(()));
    }

    #[test]
    fn private_instances_of_one_name_stay_apart() {
        let registry = Registry::new();
        let first = registry
            .get_or_create_private("m::f", 1, RetryConfig::default())
            .unwrap();
        let second = registry
            .get_or_create_private("m::f", 2, RetryConfig::default())
            .unwrap();
        let first_again = registry
            .get_or_create_private("m::f", 1, RetryConfig::default())
            .unwrap();
        assert!(Arc::ptr_eq(&first, &first_again));
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!((first.name(), second.name()), ("m::f", "m::f#2"));
        assert!(
            registry.conflicts().is_empty(),
            "private instances do not disagree, they are apart"
        );
    }

    #[test]
    fn the_snapshot_reads_as_a_table() {
        let registry = Registry::new();
        registry
            .get_or_create("payments", CircuitBreakerConfig::default())
            .unwrap();
        registry
            .get_or_create(
                "pool",
                BulkheadConfig {
                    max_concurrent: 4,
                    ..Default::default()
                },
            )
            .unwrap();
        let table = registry.snapshot().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("KIND"));
        assert!(
            lines[1].starts_with("circuit breaker  payments  closed"),
            "{table}"
        );
        assert!(
            lines[2].contains("bulkhead") && lines[2].contains("0 busy, 0 queued"),
            "{table}"
        );
    }
}
