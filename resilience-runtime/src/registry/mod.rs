//! The process-wide registry: every named policy instance, by kind and name.
//!
//! Cut by concern: `policy` (what the registry holds), `namespace` (storage), `site` (the
//! attributes' call sites and their link-time declarations), `snapshot` (what an operator
//! reads). This file is the registry's API.

#[cfg(feature = "config")]
mod apply;
mod namespace;
mod policy;
mod site;
mod snapshot;
mod suggest;

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

pub use namespace::Namespace;
use namespace::{private_name, Slot};
pub use policy::{Policy, PolicyConfig};
pub use site::{CallSite, Declaration, Declarations, Location};
pub use snapshot::{Instance, Snapshot, Stats};
pub(crate) use suggest::nearest;

use crate::events::{self, Subscription};
use crate::{
    Bulkhead, CircuitBreaker, ConfigError, Fallback, Hedge, Keyed, KeyedCircuitBreaker,
    KeyedRateLimiter, Kind, RateLimiter, Retry, Timeout,
};

/// Two declarations of one instance that disagree; the first one's arguments are used.
///
/// Declarations are compared at start-up in the order of their source location, so the
/// same one wins every run.
///
/// ```
/// use std::time::Duration;
/// use resilience::{registry, TimeoutConfig};
/// registry().get_or_create("docs::conflict", TimeoutConfig::DEFAULT.duration(Duration::from_secs(1))).unwrap();
/// registry().get_or_create("docs::conflict", TimeoutConfig::DEFAULT.duration(Duration::from_secs(2))).unwrap();
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
/// Every instance an attribute declares is known here from the start of `main`: the
/// attributes submit their declarations at link time. An instance is created when it is
/// first called, looked up, or listed; until then it can be configured by name.
///
/// ```
/// use std::time::Duration;
/// use resilience::{circuit_breaker, registry, CircuitBreakerConfig};
///
/// #[circuit_breaker(name = "docs::payments", failure_threshold = 5)]
/// async fn charge() -> Result<(), resilience::Error> { Ok(()) }
///
/// // At start-up, before any call: this wins over the attribute's own arguments.
/// registry()
///     .configure("docs::payments", CircuitBreakerConfig::DEFAULT.failure_threshold(10))
///     .unwrap();
///
/// // Known before its first call, by the name the attribute gave it:
/// let breaker = registry().circuit_breaker("docs::payments").unwrap();
/// assert_eq!(breaker.config().failure_threshold, 10);
///
/// // A name nothing declares is an error, not a silent no-op:
/// assert!(registry().configure("docs::paymnets", CircuitBreakerConfig::DEFAULT).is_err());
/// println!("{}", registry().snapshot());
/// ```
pub struct Registry {
    circuit_breakers: Namespace<CircuitBreaker>,
    retries: Namespace<Retry>,
    timeouts: Namespace<Timeout>,
    bulkheads: Namespace<Bulkhead>,
    rate_limiters: Namespace<RateLimiter>,
    keyed_circuit_breakers: Namespace<Keyed<CircuitBreaker>>,
    keyed_rate_limiters: Namespace<Keyed<RateLimiter>>,
    fallbacks: Namespace<Fallback>,
    hedges: Namespace<Hedge>,
    conflicts: Mutex<Vec<Conflict>>,
    /// `(kind, module, function)` of each method whose instances are named after their
    /// `Self` type, known at their first call only.
    methods: Mutex<Vec<(Kind, &'static str, &'static str)>>,
    /// Held by `apply`, so documents apply one at a time.
    #[cfg(feature = "config")]
    applying: Mutex<()>,
}

/// The process-wide registry that the attributes use, holding every declared instance.
///
/// ```
/// assert!(resilience::registry().retry("nothing::by::this::name").is_none());
/// ```
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::with_declarations)
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
            keyed_circuit_breakers: Namespace::new(),
            keyed_rate_limiters: Namespace::new(),
            fallbacks: Namespace::new(),
            hedges: Namespace::new(),
            conflicts: Mutex::new(Vec::new()),
            methods: Mutex::new(Vec::new()),
            #[cfg(feature = "config")]
            applying: Mutex::new(()),
        }
    }

    /// A registry holding every declaration the attributes submitted at link time: named
    /// instances first, then default-named ones, each in source order, so names and
    /// conflicts come out the same every run.
    fn with_declarations() -> Self {
        let registry = Self::new();
        let mut declarations: Vec<&Declaration> = Declarations::all().collect();
        declarations.sort_by_key(|declaration| (declaration.is_private(), declaration.at()));
        for declaration in declarations {
            declaration.declare(&registry);
        }
        registry
    }

    /// The circuit breaker named `name`, declared or created.
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

    /// The retry named `name`, declared or created.
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

    /// The timeout named `name`, declared or created.
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

    /// The bulkhead named `name`, declared or created.
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

    /// The rate limiter named `name`, declared or created.
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

    /// The instance of `P`'s kind named `name`, declared or created: what the tower layers'
    /// `named` constructors look up.
    ///
    /// A name nothing declared or created is an error that suggests the nearest declared
    /// one, as in [`configure`](Self::configure): a typo in a route's layer must not get a
    /// breaker of its own that no attribute and no operator ever sees.
    ///
    /// Only a registry that lives for good serves layers: they borrow its instances for
    /// good, so their calls count no references.
    #[cfg(feature = "tower")]
    pub(crate) fn named<P: Policy>(
        &'static self,
        name: &str,
    ) -> Result<&'static Arc<P>, ConfigError> {
        let namespace = P::namespace(self);
        namespace
            .forever(name)
            .ok_or_else(|| ConfigError::Undeclared {
                kind: P::KIND,
                name: Arc::from(name),
                did_you_mean: nearest(name, namespace.declared_names()),
            })
    }

    /// The keyed rate limiter named `name` (one limiter per key), declared or created.
    ///
    /// ```
    /// use resilience::{registry, KeyedConfig, RateLimiterConfig};
    /// assert!(registry().keyed_rate_limiter("docs::per_user").is_none());
    /// registry().get_or_create("docs::per_user", KeyedConfig::new(RateLimiterConfig::default())).unwrap();
    /// let per_user = registry().keyed_rate_limiter("docs::per_user").unwrap();
    /// per_user.try_acquire(&42_u64).unwrap();
    /// assert_eq!(per_user.get(&42_u64).unwrap().stats().admitted, 1);
    /// ```
    pub fn keyed_rate_limiter(&self, name: &str) -> Option<Arc<KeyedRateLimiter>> {
        self.keyed_rate_limiters.get(name)
    }

    /// The keyed circuit breaker named `name` (one breaker per key), declared or created.
    ///
    /// ```
    /// use resilience::{registry, CircuitBreakerConfig, KeyedConfig};
    /// assert!(registry().keyed_circuit_breaker("docs::per_host").is_none());
    /// registry().get_or_create("docs::per_host", KeyedConfig::new(CircuitBreakerConfig::default())).unwrap();
    /// assert!(registry().keyed_circuit_breaker("docs::per_host").unwrap().is_empty());
    /// ```
    pub fn keyed_circuit_breaker(&self, name: &str) -> Option<Arc<KeyedCircuitBreaker>> {
        self.keyed_circuit_breakers.get(name)
    }

    pub(crate) fn keyed_rate_limiters(&self) -> &Namespace<Keyed<RateLimiter>> {
        &self.keyed_rate_limiters
    }

    pub(crate) fn keyed_circuit_breakers(&self) -> &Namespace<Keyed<CircuitBreaker>> {
        &self.keyed_circuit_breakers
    }

    /// The fallback named `name`, declared or created.
    ///
    /// ```
    /// use resilience::{registry, FallbackConfig};
    /// assert!(registry().fallback("docs::fallback").is_none());
    /// registry().get_or_create("docs::fallback", FallbackConfig::default()).unwrap();
    /// assert!(registry().fallback("docs::fallback").is_some());
    /// ```
    pub fn fallback(&self, name: &str) -> Option<Arc<Fallback>> {
        self.fallbacks.get(name)
    }

    /// The hedge named `name`, declared or created.
    ///
    /// ```
    /// use resilience::{registry, HedgeConfig};
    /// assert!(registry().hedge("docs::hedge").is_none());
    /// registry().get_or_create("docs::hedge", HedgeConfig::default()).unwrap();
    /// assert!(registry().hedge("docs::hedge").is_some());
    /// ```
    pub fn hedge(&self, name: &str) -> Option<Arc<Hedge>> {
        self.hedges.get(name)
    }

    /// Sets the configuration the instance `name` is created with, whatever its
    /// declaration says. The kind is the config's: a [`CircuitBreakerConfig`](crate::CircuitBreakerConfig)
    /// configures a circuit breaker.
    ///
    /// A method's default-named instance (`module::Type::method`) is created at its first
    /// call, when its type is known; configuring it by that name before then is accepted
    /// when a method of that name is declared in that crate (the type itself cannot be
    /// checked before the first call: give the method a `name` to have it checked).
    ///
    /// An instance already in use keeps its state and takes a new config through its own
    /// `reconfigure` (for example [`CircuitBreaker::reconfigure`]), or through
    /// `apply` with a config document (feature `config`).
    ///
    /// # Errors
    ///
    /// The config's own validation error; [`ConfigError::AlreadyCreated`] when the
    /// instance is already in use; [`ConfigError::OtherShape`] when the name is declared
    /// keyed and the config is plain, or the reverse; [`ConfigError::Undeclared`] when
    /// nothing declares an instance of this kind and name.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience::{registry, timeout, ConfigError, TimeoutConfig};
    ///
    /// #[timeout("5s", name = "docs::reports")]
    /// async fn report() -> Result<(), resilience::Error> { Ok(()) }
    ///
    /// let slow = TimeoutConfig::DEFAULT.duration(Duration::from_secs(30));
    /// registry().configure("docs::reports", slow.clone()).unwrap();
    /// assert_eq!(registry().timeout("docs::reports").unwrap().duration(), Duration::from_secs(30));
    /// assert!(matches!(registry().configure("docs::reports", slow), Err(ConfigError::AlreadyCreated { .. })));
    /// ```
    pub fn configure<C: PolicyConfig>(&self, name: &str, config: C) -> Result<(), ConfigError> {
        config.check()?;
        let namespace = C::Policy::namespace(self);
        let mut slots = namespace.write();
        if let Some(slot) = slots.get_mut(name) {
            if slot.policy.is_some() {
                return Err(ConfigError::AlreadyCreated {
                    kind: C::Policy::KIND,
                    name: Arc::from(name),
                });
            }
            slot.configured = Some(config);
            return Ok(());
        }
        if self.is_method_name(C::Policy::KIND, name) {
            let slot = Slot {
                declared: None,
                configured: Some(config),
                owner: None,
                policy: None,
                #[cfg(feature = "tower")]
                forever: std::sync::OnceLock::new(),
                #[cfg(feature = "config")]
                documented: None,
            };
            slots.insert(Arc::from(name), slot);
            return Ok(());
        }
        drop(slots);
        let kind = C::Policy::KIND;
        // Declared, but keyed where the config is plain, or the reverse: the first thing
        // to try, and the one a bare "not declared" would hide.
        let other = !C::Policy::KEYED;
        if self.declares(kind, name, other) {
            return Err(ConfigError::OtherShape {
                kind,
                name: Arc::from(name),
                keyed: other,
            });
        }
        Err(ConfigError::Undeclared {
            kind,
            name: Arc::from(name),
            did_you_mean: nearest(name, namespace.declared_names()),
        })
    }

    /// Whether `name` reads `krate::path::Type::function` for a method `function` declared
    /// in the crate `krate`. The type between is known at the method's first call only, so
    /// it cannot be checked here; a `name = ".."` can be, from the start.
    pub(super) fn is_method_name(&self, kind: Kind, name: &str) -> bool {
        let methods = self.methods.lock().unwrap_or_else(PoisonError::into_inner);
        methods.iter().any(|&(k, module, function)| {
            let krate = module.split("::").next().unwrap_or(module);
            k == kind
                && name
                    .strip_suffix(function)
                    .and_then(|path| path.strip_suffix("::"))
                    .and_then(|path| path.strip_prefix(krate))
                    .and_then(|path| path.strip_prefix("::"))
                    .is_some_and(|path| !path.is_empty())
        })
    }

    /// The instance named `name`, created with `config` unless it exists; the way to use
    /// the registry without the attributes. A declaration or configuration by name wins
    /// over `config`; a `config` that disagrees with the declaration is recorded in
    /// [`conflicts`](Self::conflicts).
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
        // `config` is recorded only where nothing declared the name: check it then.
        let recorded = C::Policy::namespace(self)
            .read()
            .get(name)
            .is_some_and(|slot| slot.declared.is_some());
        if !recorded {
            config.check()?;
        }
        Ok(self.instance_of(0, name, false, &config))
    }

    /// Records a call site's declaration at start-up: a named instance shared with every
    /// site naming it, or a default-named one private to `owner`.
    fn declare_site<C: PolicyConfig>(&self, owner: usize, name: &str, private: bool, config: &C) {
        let mut slots = C::Policy::namespace(self).write();
        if !private {
            match slots.get(name) {
                Some(slot) => self.compare(name, slot.declared.as_ref(), config),
                None => {
                    slots.insert(Arc::from(name), Slot::declared(config.clone(), None));
                }
            }
            return;
        }
        let name = private_name(&slots, name, owner);
        slots
            .entry(name)
            .or_insert_with(|| Slot::declared(config.clone(), Some(owner)));
    }

    /// Whether `name` is an instance of `kind`, keyed or not as `keyed` says, declared or
    /// configured. Only breakers and limiters may be keyed.
    pub(super) fn declares(&self, kind: Kind, name: &str, keyed: bool) -> bool {
        match (kind, keyed) {
            (Kind::CircuitBreaker, false) => self.circuit_breakers.read().contains_key(name),
            (Kind::RateLimiter, false) => self.rate_limiters.read().contains_key(name),
            (Kind::CircuitBreaker, true) => self.keyed_circuit_breakers.read().contains_key(name),
            (Kind::RateLimiter, true) => self.keyed_rate_limiters.read().contains_key(name),
            _ => false,
        }
    }

    /// Records a method whose instances are named after their `Self` type.
    fn declare_method<C: PolicyConfig>(&self, module: &'static str, function: &'static str) {
        let mut methods = self.methods.lock().unwrap_or_else(PoisonError::into_inner);
        methods.push((C::Policy::KIND, module, function));
    }

    /// The instance named `name` for a call site (`owner`, which a shared name ignores),
    /// declared now from `config` if nothing declared it: an instance first named at its
    /// call, one used by hand, or a registry built without declarations.
    fn instance_of<C: PolicyConfig>(
        &self,
        owner: usize,
        name: &str,
        private: bool,
        config: &C,
    ) -> Arc<C::Policy> {
        let mut slots = C::Policy::namespace(self).write();
        let name = if private {
            private_name(&slots, name, owner)
        } else {
            Arc::from(name)
        };
        let slot = slots
            .entry(Arc::clone(&name))
            .or_insert_with(|| Slot::declared(config.clone(), private.then_some(owner)));
        match &slot.declared {
            Some(first) if !private => self.compare(&name, Some(first), config),
            Some(_) => {}
            None => {
                // A slot only configured by name, now claimed by its method's call site.
                slot.declared = Some(config.clone());
                slot.owner = private.then_some(owner);
                #[cfg(feature = "config")]
                if let Some(documented) = slot.documented.take() {
                    match (documented.over)(&documented.fields, config) {
                        Ok(config) => slot.configured = Some(config),
                        // Checked over the kind's defaults when it was applied; only this
                        // declaration's own values can break it, and the declaration,
                        // valid, stands.
                        Err(refused) => {
                            crate::events::trace::document_refused(C::Policy::KIND, &name, &refused)
                        }
                    }
                }
            }
        }
        slot.materialize(&name).expect(
            "every recorded config was checked: at compile time, by `configure`, or by `get_or_create`",
        )
    }

    /// Returns every instance to its initial state: closed breakers, full limiters, empty
    /// bulkheads' counters, zero counters everywhere. Calls running go on and are counted
    /// when they end; configurations, names and conflicts stay.
    ///
    /// A test suite whose tests share named instances calls this at the start of each test
    /// (with the tests run one at a time, `--test-threads=1`, or holding one lock), or gives
    /// each test instances of its own names.
    ///
    /// ```
    /// use resilience::{circuit_breaker, registry, Error};
    ///
    /// #[circuit_breaker(name = "docs::reset", failure_threshold = 1)]
    /// async fn flaky() -> Result<(), Error> {
    ///     Err(Error::Timeout { name: "db".into(), after: std::time::Duration::from_secs(1) })
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let _ = flaky().await;
    /// assert!(registry().circuit_breaker("docs::reset").unwrap().is_open());
    /// registry().reset();
    /// let breaker = registry().circuit_breaker("docs::reset").unwrap();
    /// assert!(breaker.is_closed());
    /// assert_eq!(breaker.stats().calls, 0);
    /// # }
    /// ```
    pub fn reset(&self) {
        self.reset_all(&self.circuit_breakers);
        self.reset_all(&self.retries);
        self.reset_all(&self.timeouts);
        self.reset_all(&self.bulkheads);
        self.reset_all(&self.rate_limiters);
        self.reset_all(&self.keyed_circuit_breakers);
        self.reset_all(&self.keyed_rate_limiters);
        self.reset_all(&self.fallbacks);
        self.reset_all(&self.hedges);
    }

    fn reset_all<P: Policy>(&self, namespace: &Namespace<P>) {
        for slot in namespace.read().values() {
            if let Some(policy) = &slot.policy {
                policy.reset();
            }
        }
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

    /// The [events](crate::events) of every policy instance in the process, from now on:
    /// this registry's, and those built by hand or held by another [`Registry`] (events
    /// have one process-wide channel, as `tracing` has one global dispatcher). Each
    /// instance's own `subscribe()` gives its events alone.
    ///
    /// ```
    /// use resilience::events::Detail;
    /// use resilience::{circuit_breaker, registry, CircuitState, Error};
    ///
    /// #[circuit_breaker(name = "docs::events", failure_threshold = 1)]
    /// async fn fetch() -> Result<(), Error> {
    ///     Err(Error::Timeout { name: "upstream".into(), after: std::time::Duration::from_secs(1) })
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let mut events = registry().subscribe();
    /// let watcher = tokio::spawn(async move {
    ///     loop {
    ///         let Ok(event) = events.recv().await else { continue }; // lagged: read on
    ///         if let Detail::StateChanged { to: CircuitState::Open, .. } = event.detail {
    ///             return event.name;
    ///         }
    ///     }
    /// });
    /// let _ = fetch().await;
    /// assert_eq!(&*watcher.await.unwrap(), "docs::events");
    /// # }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        events::subscribe_all()
    }

    /// Every declared or created instance with its state and counters, sorted by kind and
    /// name; one not yet in use shows its initial state and is not created by this. Its
    /// `Display` is a table a person can read.
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
        self.collect(&self.keyed_circuit_breakers, &mut instances);
        self.collect(&self.keyed_rate_limiters, &mut instances);
        self.collect(&self.fallbacks, &mut instances);
        self.collect(&self.hedges, &mut instances);
        Snapshot { instances }
    }

    fn collect<P: Policy>(&self, namespace: &Namespace<P>, into: &mut Vec<Instance>) {
        for (name, slot) in namespace.read().iter() {
            // A declared instance not yet in use shows its initial state, read from a
            // throwaway instance, so listing creates nothing and `configure` still applies.
            let (stats, open_keys) = match &slot.policy {
                Some(policy) => (policy.snapshot(), policy.open_keys()),
                None => match slot.build(name) {
                    Some(fresh) => (fresh.snapshot(), Vec::new()),
                    None => continue,
                },
            };
            into.push(Instance {
                kind: P::KIND,
                name: Arc::clone(name),
                stats,
                open_keys,
            });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BulkheadConfig, CircuitBreakerConfig, RetryConfig, TimeoutConfig};
    use std::time::Duration;

    /// A call site as the attributes emit one, leaked to be `'static`.
    fn site<C: PolicyConfig>(
        name: Option<&'static str>,
        config: C,
        line: u32,
    ) -> &'static CallSite<C> {
        let at = Location::new("src/lib.rs", line, 1);
        Box::leak(Box::new(match name {
            Some(name) => CallSite::shared(name, config, at),
            None => CallSite::function("m", "f", config, at),
        }))
    }

    fn declare_all(registry: &Registry, declarations: &mut [Declaration]) {
        declarations.sort_by_key(|d| (d.is_private(), d.at()));
        for declaration in declarations.iter() {
            declaration.declare(registry);
        }
    }

    #[test]
    fn a_declared_instance_is_found_before_its_first_call_and_configurable_until_then() {
        let registry = Registry::new();
        let bulkhead = site(Some("db"), BulkheadConfig::DEFAULT, 1);
        declare_all(&registry, &mut [Declaration::new(bulkhead)]);
        registry
            .configure("db", BulkheadConfig::DEFAULT.max_concurrent(3))
            .unwrap();
        let found = registry.bulkhead("db").expect("declared, so found");
        assert_eq!(found.config().max_concurrent, 3, "configuration wins");
        let error = registry
            .configure("db", BulkheadConfig::DEFAULT)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "bulkhead `db` already exists; configure it before its first use"
        );
    }

    #[test]
    fn configuring_a_name_nothing_declares_is_an_error_that_suggests_the_nearest() {
        let registry = Registry::new();
        registry
            .get_or_create("payments", RetryConfig::DEFAULT)
            .unwrap();
        let error = registry
            .configure("paymnets", RetryConfig::DEFAULT)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "no retry named `paymnets` is declared; did you mean `payments`?"
        );
        let error = registry
            .configure("inventory", RetryConfig::DEFAULT)
            .unwrap_err();
        assert_eq!(error.to_string(), "no retry named `inventory` is declared");
        let error = registry
            .configure("payments", TimeoutConfig::DEFAULT)
            .unwrap_err();
        assert!(matches!(
            error,
            ConfigError::Undeclared {
                kind: Kind::Timeout,
                ..
            }
        ));
    }

    #[test]
    fn an_invalid_configuration_is_refused_up_front() {
        let registry = Registry::new();
        registry
            .get_or_create("db", TimeoutConfig::DEFAULT)
            .unwrap();
        let error = registry
            .configure("db", TimeoutConfig::DEFAULT.duration(Duration::ZERO))
            .unwrap_err();
        assert_eq!(error.to_string(), "`duration` must be longer than zero");
    }

    #[test]
    fn listing_creates_nothing_so_configuring_after_it_still_applies() {
        let registry = Registry::new();
        let breaker = site(Some("db"), CircuitBreakerConfig::DEFAULT, 1);
        declare_all(&registry, &mut [Declaration::new(breaker)]);
        let listed = registry.snapshot();
        assert_eq!(
            listed
                .get(Kind::CircuitBreaker, "db")
                .unwrap()
                .stats
                .state(),
            "closed"
        );
        registry
            .configure("db", CircuitBreakerConfig::DEFAULT.failure_threshold(2))
            .unwrap();
        assert_eq!(
            registry
                .circuit_breaker("db")
                .unwrap()
                .config()
                .failure_threshold,
            2
        );
    }

    #[test]
    fn by_hand_an_invalid_config_is_refused_unless_a_declaration_wins() {
        let registry = Registry::new();
        let zero = TimeoutConfig::DEFAULT.duration(Duration::ZERO);
        let error = registry.get_or_create("t", zero.clone()).unwrap_err();
        assert_eq!(error.to_string(), "`duration` must be longer than zero");
        assert!(registry.timeout("t").is_none(), "nothing was recorded");
        let declared = site(Some("d"), TimeoutConfig::DEFAULT, 1);
        declare_all(&registry, &mut [Declaration::new(declared)]);
        let timeout = registry.get_or_create("d", zero).unwrap();
        assert_eq!(timeout.duration(), TimeoutConfig::DEFAULT.duration);
        assert_eq!(
            registry.conflicts().len(),
            1,
            "the disagreement is recorded"
        );
    }

    #[test]
    fn kinds_have_separate_namespaces() {
        let registry = Registry::new();
        let breaker = registry
            .get_or_create("x", CircuitBreakerConfig::DEFAULT)
            .unwrap();
        let again = registry
            .get_or_create("x", CircuitBreakerConfig::DEFAULT)
            .unwrap();
        assert!(Arc::ptr_eq(&breaker, &again));
        registry.get_or_create("x", TimeoutConfig::DEFAULT).unwrap();
        assert!(registry.retry("x").is_none());
        assert_eq!(registry.snapshot().instances.len(), 2);
    }

    #[test]
    fn disagreeing_declarations_are_settled_by_source_order_whatever_the_link_order() {
        let one = TimeoutConfig::DEFAULT.duration(Duration::from_secs(1));
        let two = TimeoutConfig::DEFAULT.duration(Duration::from_secs(2));
        let early = site(Some("t"), one.clone(), 10);
        let late = site(Some("t"), two.clone(), 20);
        for mut order in [
            [Declaration::new(early), Declaration::new(late)],
            [Declaration::new(late), Declaration::new(early)],
        ] {
            let registry = Registry::new();
            declare_all(&registry, &mut order);
            assert_eq!(
                registry.timeout("t").unwrap().duration(),
                Duration::from_secs(1)
            );
            let conflicts = registry.conflicts();
            assert_eq!(conflicts.len(), 1, "reported at start-up, before any call");
            assert_eq!(conflicts[0].ignored, format!("{two:?}"));
        }
    }

    #[test]
    fn private_instances_of_one_path_are_numbered_in_source_order() {
        let first = site(None, RetryConfig::DEFAULT, 10);
        let second = site(None, RetryConfig::DEFAULT, 20);
        for mut order in [
            [Declaration::new(second), Declaration::new(first)],
            [Declaration::new(first), Declaration::new(second)],
        ] {
            let registry = Registry::new();
            declare_all(&registry, &mut order);
            let a = registry.instance_of(first.owner(), "m::f", true, &RetryConfig::DEFAULT);
            let b = registry.instance_of(second.owner(), "m::f", true, &RetryConfig::DEFAULT);
            assert_eq!((a.name(), b.name()), ("m::f", "m::f#2"));
            assert!(
                registry.conflicts().is_empty(),
                "private instances are apart"
            );
        }
    }

    #[test]
    fn a_method_s_default_name_can_be_configured_before_its_type_is_known() {
        let registry = Registry::new();
        registry.declare_method::<RetryConfig>("shop::api", "fetch");
        registry
            .configure(
                "shop::model::Client::fetch",
                RetryConfig::DEFAULT.max_attempts(7),
            )
            .unwrap();
        for wrong in [
            "shop::model::Client::fetsh",
            "fetch",
            "shop::fetch",
            "other::Client::fetch",
        ] {
            assert!(
                registry.configure(wrong, RetryConfig::DEFAULT).is_err(),
                "{wrong}"
            );
        }
        assert!(
            registry.retry("shop::model::Client::fetch").is_none()
                && registry.snapshot().instances.is_empty(),
            "a configuration alone creates and lists nothing"
        );
        let retry =
            registry.instance_of(1, "shop::model::Client::fetch", true, &RetryConfig::DEFAULT);
        assert_eq!(retry.config().max_attempts, 7);
    }

    #[test]
    fn type_names_read_as_paths() {
        // Method instances are named from `type_name`, whose format std does not promise:
        // this pins the one we rely on.
        struct Client<T>(T);
        let _ = Client(0u8).0;
        assert_eq!(
            site::type_path(std::any::type_name::<Client<Vec<u8>>>()),
            "resilience_runtime::registry::tests::type_names_read_as_paths::Client"
        );
        assert_eq!(
            site::type_path(std::any::type_name::<Registry>()),
            "resilience_runtime::registry::Registry"
        );
    }

    #[test]
    fn every_config_s_defaults_are_valid() {
        assert_eq!(CircuitBreakerConfig::default().validate(), Ok(()));
        assert_eq!(RetryConfig::default().validate(), Ok(()));
        assert_eq!(TimeoutConfig::default().validate(), Ok(()));
        assert_eq!(BulkheadConfig::default().validate(), Ok(()));
        assert_eq!(crate::RateLimiterConfig::default().validate(), Ok(()));
        assert_eq!(crate::FallbackConfig::default().validate(), Ok(()));
        assert_eq!(crate::HedgeConfig::default().validate(), Ok(()));
    }

    #[test]
    fn the_snapshot_reads_as_a_table() {
        let registry = Registry::new();
        registry
            .get_or_create("payments", CircuitBreakerConfig::DEFAULT)
            .unwrap();
        registry
            .get_or_create("pool", BulkheadConfig::DEFAULT.max_concurrent(4))
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
