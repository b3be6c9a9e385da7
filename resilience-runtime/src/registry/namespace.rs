//! Storage: the instances of one kind, by name, and what is known of each before it exists.

use std::collections::BTreeMap;
#[cfg(feature = "tower")]
use std::sync::OnceLock;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::Policy;

/// The instances of one kind, by name.
#[doc(hidden)]
pub struct Namespace<P: Policy> {
    slots: RwLock<BTreeMap<Arc<str>, Slot<P>>>,
}

/// One name of a [`Namespace`].
pub(super) struct Slot<P: Policy> {
    /// The first declaration's config, which later declarations are compared with; `None`
    /// for a slot that only holds a configuration (a method's default name, see
    /// `Registry::configure`).
    pub(super) declared: Option<P::Config>,
    /// Set by `Registry::configure`; wins over `declared` when the instance is created.
    pub(super) configured: Option<P::Config>,
    /// The call site of a default-named instance, which no other call site shares.
    pub(super) owner: Option<usize>,
    /// The instance, once something used or looked it up. Never replaced or taken once
    /// set, so a registry that lives for good keeps its instances for good.
    pub(super) policy: Option<Arc<P>>,
    /// `policy` borrowed for the rest of the process, for the tower layers of a registry
    /// that lives as long (see [`Namespace::forever`]); set at most once.
    #[cfg(feature = "tower")]
    pub(super) forever: OnceLock<&'static Arc<P>>,
    /// A config document's fields for a method's default name, applied before the method's
    /// first call declared it: laid over the declaration when it arrives (see
    /// `Registry::apply`).
    #[cfg(feature = "config")]
    pub(super) documented: Option<Documented<P::Config>>,
}

/// A document's fields for a slot not yet declared, and how they are laid over its
/// declaration when it comes: `Pending::over` for the config's type, taken by the apply,
/// which knows the type's fields (the registry's code for every kind does not).
#[cfg(feature = "config")]
pub(super) struct Documented<C> {
    pub(super) fields: crate::config::Pending,
    pub(super) over: fn(&crate::config::Pending, &C) -> Result<C, crate::error::InvalidConfig>,
}

impl<P: Policy> Slot<P> {
    pub(super) fn declared(config: P::Config, owner: Option<usize>) -> Self {
        Self {
            declared: Some(config),
            configured: None,
            owner,
            policy: None,
            #[cfg(feature = "tower")]
            forever: OnceLock::new(),
            #[cfg(feature = "config")]
            documented: None,
        }
    }

    /// The instance, created from the configuration that wins on first need; `None` for a
    /// slot nothing has declared yet (a method's name configured before its first call).
    pub(super) fn materialize(&mut self, name: &Arc<str>) -> Option<Arc<P>> {
        if self.policy.is_none() {
            self.policy = self.build(name).map(Arc::new);
        }
        self.policy.clone()
    }

    /// A new instance of this slot's winning configuration.
    pub(super) fn build(&self, name: &Arc<str>) -> Option<P> {
        let declared = self.declared.as_ref()?;
        let config = self.configured.as_ref().unwrap_or(declared);
        // Both configs were validated when they were recorded.
        P::build(Arc::clone(name), config.clone()).ok()
    }
}

impl<P: Policy> Namespace<P> {
    pub(super) const fn new() -> Self {
        Self {
            slots: RwLock::new(BTreeMap::new()),
        }
    }

    pub(super) fn read(&self) -> RwLockReadGuard<'_, BTreeMap<Arc<str>, Slot<P>>> {
        // No user code runs under these locks; a poisoned one still holds a sound map.
        self.slots.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<Arc<str>, Slot<P>>> {
        self.slots.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The instance named `name`, created now if it is declared but not yet in use.
    pub(super) fn get(&self, name: &str) -> Option<Arc<P>> {
        if let Some(policy) = self.read().get(name)?.policy.clone() {
            return Some(policy);
        }
        let mut slots = self.write();
        let name = Arc::clone(slots.get_key_value(name)?.0);
        slots.get_mut(&name)?.materialize(&name)
    }

    /// The instance named `name`, created now if need be, borrowed for the rest of the
    /// process: a registry that lives for good never lets an instance go, so a holder of
    /// this borrow counts no references. One `Arc` per name is leaked for it, once.
    #[cfg(feature = "tower")]
    pub(super) fn forever(&'static self, name: &str) -> Option<&'static Arc<P>> {
        let policy = self.get(name)?;
        let slots = self.read();
        let slot = slots.get(name)?;
        Some(*slot.forever.get_or_init(|| Box::leak(Box::new(policy))))
    }

    /// The names declared in this namespace, for "did you mean".
    pub(super) fn declared_names(&self) -> Vec<Arc<str>> {
        self.read()
            .iter()
            .filter(|(_, slot)| slot.declared.is_some())
            .map(|(name, _)| Arc::clone(name))
            .collect()
    }
}

/// The name of `owner`'s default-named instance: `name` unless another call site has it
/// already, then `name#2`, `name#3`, ... (two fns with one path: nested fns, or associated
/// fns of two types that name neither `self` nor `Self`).
pub(super) fn private_name<P: Policy>(
    slots: &BTreeMap<Arc<str>, Slot<P>>,
    name: &str,
    owner: usize,
) -> Arc<str> {
    let mut n = 1;
    loop {
        let candidate: Arc<str> = match n {
            1 => Arc::from(name),
            _ => Arc::from(format!("{name}#{n}")),
        };
        match slots.get(&candidate) {
            None => return candidate,
            Some(slot) if slot.owner == Some(owner) => return candidate,
            // Configured by name before its method's first call: this site claims it.
            Some(slot) if slot.owner.is_none() && slot.declared.is_none() => return candidate,
            Some(_) => n += 1,
        }
    }
}
