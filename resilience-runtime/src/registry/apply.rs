//! Applying a config document (feature `config`): every declared instance's config is
//! computed from its declaration and the document's layers, all of them checked, then
//! swapped into the instances in use and recorded for the others, or nothing at all.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};

use super::namespace::{Documented, Slot};
use super::suggest::nearest;
use super::{Policy, PolicyConfig, Registry};
use crate::config::read::{
    env_layers, env_name, key, section, unknown_field, unknown_kinds, EnvField, Problems, Section,
};
use crate::config::{Document, DocumentErrors, Fields, Pending};
use crate::error::InvalidConfig;
use crate::events::Emitter;
use crate::{Bulkhead, CircuitBreaker, ConfigError, Hedge, Kind, RateLimiter, Retry, Timeout};

/// A policy a document configures: what it runs with, what a reload of it may change,
/// and the reload.
pub(crate) trait Reloadable: Policy<Config: Fields> {
    fn running(&self) -> &Self::Config;
    /// Refuses what this instance cannot take while it runs (see each `reconfigure`).
    fn reloadable(&self, _next: &Self::Config) -> Result<(), InvalidConfig> {
        Ok(())
    }
    /// The fields this instance cannot change while it runs: a document that does not set
    /// them leaves them as they run, rather than back to the declaration.
    fn fixed() -> &'static [&'static str] {
        &[]
    }
    fn reload(&self, next: Self::Config) -> Result<(), ConfigError>;
}

macro_rules! reloadable {
    ($($policy:ident),*) => {$(
        impl Reloadable for $policy {
            fn running(&self) -> &Self::Config {
                self.config()
            }
            fn reload(&self, next: Self::Config) -> Result<(), ConfigError> {
                self.reconfigure(next)
            }
        }
    )*};
}
reloadable!(Retry, Timeout, Bulkhead, Hedge);

impl Reloadable for CircuitBreaker {
    fn running(&self) -> &Self::Config {
        self.config()
    }
    fn reloadable(&self, next: &Self::Config) -> Result<(), InvalidConfig> {
        self.config().reloadable_into(next)
    }
    fn fixed() -> &'static [&'static str] {
        &[
            "sliding_window",
            "failure_rate_threshold",
            "slow_call_duration",
        ]
    }
    fn reload(&self, next: Self::Config) -> Result<(), ConfigError> {
        self.reconfigure(next)
    }
}

impl Reloadable for RateLimiter {
    fn running(&self) -> &Self::Config {
        self.config()
    }
    fn reloadable(&self, next: &Self::Config) -> Result<(), InvalidConfig> {
        self.check_reload(next)
    }
    fn fixed() -> &'static [&'static str] {
        &["algorithm"]
    }
    fn reload(&self, next: Self::Config) -> Result<(), ConfigError> {
        self.reconfigure(next)
    }
}

/// What applying the document does to one instance.
enum Step<P: Policy> {
    /// Swapped into the instance in use.
    Reload(Arc<str>, Arc<P>, P::Config),
    /// Recorded for the instance's creation: `None` goes back to its declaration.
    Record(Arc<str>, Option<P::Config>),
    /// A method's instance, not yet declared: the fields to lay over its declaration when
    /// it comes, or `None` to forget those of an earlier document.
    Pending(Arc<str>, Option<Pending>),
}

impl Registry {
    /// Applies a configuration [`Document`](crate::config::Document) to every declared
    /// instance of the kinds it configures, at start-up or at run time, keeping each
    /// instance's state: see [`config`](crate::config) for the document, its precedence and
    /// the reload rules.
    ///
    /// The document is checked whole first; with any problem nothing is applied, and every
    /// instance keeps the config it runs with. Otherwise each instance in use swaps its
    /// config in (emitting [`Reconfigured`](crate::events::Detail::Reconfigured) and an
    /// `INFO` line where it changed), and each one not yet in use is created with its new
    /// config. Applies run one at a time.
    ///
    /// Returns the instances whose config changed, by kind and name.
    ///
    /// # Errors
    ///
    /// Every problem of the document, each with its path.
    ///
    /// ```
    /// use resilience::config::Document;
    /// use resilience::{bulkhead, registry, Kind};
    ///
    /// #[bulkhead(name = "docs::apply", max_concurrent = 10)]
    /// async fn export() -> Result<(), resilience::Error> { Ok(()) }
    ///
    /// let document = Document::from_toml(r#"
    ///     [bulkhead.instances."docs::apply"]
    ///     max_concurrent = 4
    ///     max_wait = "250ms"
    /// "#).unwrap();
    /// let changed = registry().apply(&document).unwrap();
    /// assert_eq!(changed, [(Kind::Bulkhead, "docs::apply".into())]);
    /// assert_eq!(registry().bulkhead("docs::apply").unwrap().config().max_concurrent, 4);
    /// ```
    pub fn apply(&self, document: &Document) -> Result<Vec<(Kind, Arc<str>)>, DocumentErrors> {
        let _one_at_a_time = self.applying.lock().unwrap_or_else(PoisonError::into_inner);
        let mut problems = Problems::default();
        unknown_kinds(document, &mut problems);
        let mut env_by_kind = env_layers(document, &mut problems);
        let mut env = |kind| env_by_kind.remove(&kind).unwrap_or_default();
        // Every namespace stays locked from the check to the commit, so no instance is
        // created in between from a config the check did not see. The lock order is fixed.
        let mut circuit_breakers = self.circuit_breakers.write();
        let mut retries = self.retries.write();
        let mut timeouts = self.timeouts.write();
        let mut bulkheads = self.bulkheads.write();
        let mut rate_limiters = self.rate_limiters.write();
        let mut hedges = self.hedges.write();
        let steps = (
            plan(
                document,
                &circuit_breakers,
                env(Kind::CircuitBreaker),
                self,
                &mut problems,
            ),
            plan(document, &retries, env(Kind::Retry), self, &mut problems),
            plan(document, &timeouts, env(Kind::Timeout), self, &mut problems),
            plan(
                document,
                &bulkheads,
                env(Kind::Bulkhead),
                self,
                &mut problems,
            ),
            plan(
                document,
                &rate_limiters,
                env(Kind::RateLimiter),
                self,
                &mut problems,
            ),
            plan(document, &hedges, env(Kind::Hedge), self, &mut problems),
        );
        if !problems.0.is_empty() {
            let mut errors = problems.0;
            errors.sort_by(|a, b| a.path.cmp(&b.path));
            return Err(DocumentErrors::new(errors));
        }
        let mut changed = Vec::new();
        let mut recorded = Vec::new();
        let reloads = (
            record(steps.0, &mut circuit_breakers, &mut changed, &mut recorded),
            record(steps.1, &mut retries, &mut changed, &mut recorded),
            record(steps.2, &mut timeouts, &mut changed, &mut recorded),
            record(steps.3, &mut bulkheads, &mut changed, &mut recorded),
            record(steps.4, &mut rate_limiters, &mut changed, &mut recorded),
            record(steps.5, &mut hedges, &mut changed, &mut recorded),
        );
        // The instances in use are reloaded with no namespace locked: a reload emits
        // events and `tracing` lines, whose subscribers may look instances up.
        drop((
            circuit_breakers,
            retries,
            timeouts,
            bulkheads,
            rate_limiters,
            hedges,
        ));
        // An instance not yet in use announces the config it will start with as one in
        // use announces its reload: to `registry().subscribe()` (it has no subscribers of
        // its own yet) and in an `INFO` line.
        for (kind, name, changes) in recorded {
            Emitter::new(&name, kind).reconfigured(changes);
        }
        reload(reloads.0, &mut changed);
        reload(reloads.1, &mut changed);
        reload(reloads.2, &mut changed);
        reload(reloads.3, &mut changed);
        reload(reloads.4, &mut changed);
        reload(reloads.5, &mut changed);
        Ok(changed)
    }
}

/// What the document makes of each declared instance of `P`'s kind.
fn plan<P: Reloadable>(
    document: &Document,
    slots: &BTreeMap<Arc<str>, Slot<P>>,
    env: Vec<EnvField>,
    registry: &Registry,
    problems: &mut Problems,
) -> Vec<Step<P>> {
    let kind = P::KIND;
    let root = kind.as_str();
    let section = match document.sections.get(root) {
        Some(value) => section::<P::Config>(kind, value, problems),
        None => Section::default(),
    };
    let declared = || {
        slots
            .iter()
            .filter(|(_, slot)| slot.declared.is_some())
            .map(|(name, _)| name)
    };
    // A base no instance extends is checked by no instance: its fields that break a rule
    // on their own are reported here. (Not every rule: a base may be meant to pair with
    // an instance's fields, `base_delay` with a `max_delay`.)
    for (base, fields) in &section.bases {
        if section
            .instances
            .values()
            .any(|(extends, _)| *extends == Some(base))
        {
            continue;
        }
        for &(field, value) in fields {
            let mut alone = P::Config::default();
            let _ = alone.set(field, value);
            if let Err(refused) = alone.check() {
                if refused.field() == field {
                    push_refused(problems, &format!("{root}.bases.{}", key(base)), &refused);
                }
            }
        }
    }
    let mut steps = Vec::new();
    for name in section.instances.keys() {
        if slots.get(*name).is_some_and(|slot| slot.declared.is_some()) {
            continue;
        }
        let path = format!("{root}.instances.{}", key(name));
        if registry.is_method_name(kind, name) {
            // A method's default name, declared at its first call: its fields wait for
            // it, checked now over the kind's defaults so that a mistake is this apply's.
            let pending = Pending(
                section
                    .layers(name)
                    .map(|&(field, value)| (field.to_owned(), value.clone()))
                    .collect(),
            );
            match pending.over(&P::Config::default()) {
                Ok(_) => steps.push(Step::Pending(Arc::from(*name), Some(pending))),
                Err(refused) => push_refused(problems, &path, &refused),
            }
            continue;
        }
        let message = if registry.declares(kind, name, true) {
            format!("`{name}` is a keyed {kind}: documents do not configure keyed instances; `registry().configure` does, before their first use")
        } else {
            ConfigError::Undeclared {
                kind,
                name: Arc::from(*name),
                did_you_mean: nearest(name, declared().cloned().collect()),
            }
            .to_string()
        };
        problems.push(path, message);
    }
    let env = env_by_name(kind, env, declared(), problems);
    for (name, slot) in slots {
        let Some(declaration) = &slot.declared else {
            if slot.documented.is_some() && !section.instances.contains_key(&**name) {
                steps.push(Step::Pending(Arc::clone(name), None));
            }
            continue;
        };
        let path = format!("{root}.instances.{}", key(name));
        let mut config = declaration.clone();
        let layers = section.layers(name);
        let set = |field: &str| {
            layers.clone().any(|&(set, _)| set == field)
                || env
                    .get(&**name)
                    .into_iter()
                    .flatten()
                    .any(|var| var.field == field)
        };
        if let Some(policy) = &slot.policy {
            for &field in P::fixed() {
                if !set(field) {
                    config.copy_field(field, policy.running());
                }
            }
        }
        for &(field, value) in layers.clone() {
            // Each was read once already, into a default config.
            let _ = config.set(field, value);
        }
        for var in env.get(&**name).into_iter().flatten() {
            match config.set(&var.field, &var.value) {
                Some(Ok(())) => {}
                Some(Err(message)) => problems.push(var.var.as_str(), message),
                None => problems.push(var.var.as_str(), unknown_field(kind, &var.field)),
            }
        }
        let refused = config.check().err().or_else(|| {
            let policy = slot.policy.as_ref()?;
            policy.reloadable(&config).err()
        });
        if let Some(refused) = refused {
            push_refused(problems, &path, &refused);
            continue;
        }
        steps.push(match &slot.policy {
            Some(policy) => Step::Reload(Arc::clone(name), Arc::clone(policy), config),
            None => Step::Record(Arc::clone(name), (config != *declaration).then_some(config)),
        });
    }
    steps
}

/// The rule a config under `path` breaks, at the field it names.
fn push_refused(problems: &mut Problems, path: &str, refused: &InvalidConfig) {
    let field = refused.field();
    let message = refused.message();
    let message = message
        .strip_prefix(&format!("`{field}` "))
        .unwrap_or(message);
    problems.push(format!("{path}.{}", key(field)), message);
}

/// The environment's fields by instance name; a problem for each variable that names no
/// declared instance, or more than one.
fn env_by_name<'a>(
    kind: Kind,
    env: Vec<EnvField>,
    declared: impl Iterator<Item = &'a Arc<str>>,
    problems: &mut Problems,
) -> BTreeMap<&'a str, Vec<EnvField>> {
    let mut names: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for name in declared {
        names.entry(env_name(name)).or_default().push(name);
    }
    let mut by_name: BTreeMap<&str, Vec<EnvField>> = BTreeMap::new();
    for var in env {
        match names.get(&var.name).map(Vec::as_slice) {
            Some([name]) => by_name.entry(*name).or_default().push(var),
            Some(several) => {
                let list: Vec<String> = several.iter().map(|name| format!("`{name}`")).collect();
                problems.push(
                    var.var.as_str(),
                    format!(
                        "names more than one {kind}: {}; give them names apart",
                        list.join(", ")
                    ),
                );
            }
            None => {
                let undeclared = ConfigError::Undeclared {
                    kind,
                    name: Arc::from(var.name.as_str()),
                    did_you_mean: nearest(
                        &var.name,
                        names.keys().map(|n| Arc::from(n.as_str())).collect(),
                    ),
                };
                problems.push(var.var.as_str(), undeclared.to_string());
            }
        }
    }
    by_name
}

/// Records the configs of the instances not in use; returns the reloads of those in use.
/// Records the configs of the instances not in use, with what changed in each (when its
/// declaration is known); returns the reloads of those in use.
fn record<P: Reloadable>(
    steps: Vec<Step<P>>,
    slots: &mut BTreeMap<Arc<str>, Slot<P>>,
    changed: &mut Vec<(Kind, Arc<str>)>,
    recorded: &mut Vec<(Kind, Arc<str>, String)>,
) -> Vec<(Arc<str>, Arc<P>, P::Config)> {
    let mut reloads = Vec::new();
    for step in steps {
        match step {
            Step::Reload(name, policy, config) => reloads.push((name, policy, config)),
            Step::Record(name, config) => {
                if let Some(slot) = slots.get_mut(&name) {
                    if slot.configured != config {
                        if let Some(declared) = &slot.declared {
                            let was = slot.configured.as_ref().unwrap_or(declared);
                            let is = config.as_ref().unwrap_or(declared);
                            recorded.push((P::KIND, Arc::clone(&name), was.changes(is)));
                        }
                        slot.configured = config;
                        changed.push((P::KIND, name));
                    }
                }
            }
            Step::Pending(name, pending) => {
                let slot = slots.entry(Arc::clone(&name)).or_insert_with(|| Slot {
                    declared: None,
                    configured: None,
                    owner: None,
                    policy: None,
                    #[cfg(feature = "tower")]
                    forever: std::sync::OnceLock::new(),
                    documented: None,
                });
                let was = slot
                    .documented
                    .as_ref()
                    .map(|documented| &documented.fields);
                // The document replaces a configuration by hand, as it does for the
                // declared instances.
                if was != pending.as_ref() || slot.configured.is_some() {
                    slot.documented = pending.map(|fields| Documented {
                        fields,
                        over: Pending::over::<P::Config>,
                    });
                    slot.configured = None;
                    changed.push((P::KIND, name));
                }
            }
        }
    }
    reloads
}

fn reload<P: Reloadable>(
    reloads: Vec<(Arc<str>, Arc<P>, P::Config)>,
    changed: &mut Vec<(Kind, Arc<str>)>,
) {
    for (name, policy, config) in reloads {
        if *policy.running() == config {
            continue;
        }
        // Checked above against this instance, and no reload can change what
        // `reloadable` compares: it cannot fail.
        if policy.reload(config).is_ok() {
            changed.push((P::KIND, name));
        }
    }
}
