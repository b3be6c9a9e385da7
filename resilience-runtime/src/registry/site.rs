//! Call sites: what each attribute declares, collected at link time, and its handle on the
//! instance.

use std::sync::{Arc, OnceLock};

use super::{registry, PolicyConfig, Registry};

/// Not public API. Used by resilience-macros.
///
/// Where an attribute was written; declarations are taken in this order at start-up, so
/// which of two disagreeing declarations wins is the same every run and every build.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    file: &'static str,
    line: u32,
    column: u32,
}

impl Location {
    /// `Location::new(file!(), line!(), column!())`.
    pub const fn new(file: &'static str, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }
}

/// Not public API. Used by resilience-macros.
///
/// The handle of one call site on one instance.
///
/// The attributes put one in a `static` beside each guarded fn and submit it to the
/// registry at link time ([`Declaration`]), so the registry knows every declared instance
/// before `main` runs, and a call looks up nothing: after the first call, reaching the
/// instance is one atomic load.
#[doc(hidden)]
pub struct CallSite<C: PolicyConfig> {
    name: SiteName,
    config: C,
    at: Location,
    /// The instance, and for a method the `Self` type it is for (`""` for a fn).
    first: OnceLock<(&'static str, Arc<C::Policy>)>,
    /// A method's instances for `Self` types after the first one (a trait's default method
    /// has one per implementing type), each found with atomic loads.
    more_types: OnceLock<Box<TypeEntry<C::Policy>>>,
}

/// One `Self` type's instance in a chain that only grows, so reading it takes no lock.
struct TypeEntry<P> {
    type_name: &'static str,
    policy: Arc<P>,
    next: OnceLock<Box<TypeEntry<P>>>,
}

/// `type_name` of one type is one string, though not always at one address.
#[inline]
fn same_type(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b) || a == b
}

#[derive(Debug, Clone, Copy)]
pub(super) enum SiteName {
    /// `name = "..."`: every site naming it shares the instance.
    Shared(&'static str),
    /// No name, on a free fn: `module::function`, private to this site.
    Function {
        module: &'static str,
        function: &'static str,
    },
    /// No name, on a method or an associated fn: `module::Type::function`, private to
    /// this site, one per `Self` type. The type is known at the first call only, since a
    /// `static` cannot name `Self` (E0401) and `type_name` is not `const`.
    Method {
        module: &'static str,
        function: &'static str,
    },
}

impl<C: PolicyConfig> CallSite<C> {
    /// A call site sharing the instance `name`, declared with `config`.
    pub const fn shared(name: &'static str, config: C, at: Location) -> Self {
        Self::new(SiteName::Shared(name), config, at)
    }

    /// A free fn's call site with an instance of its own, named `module::function`.
    pub const fn function(
        module: &'static str,
        function: &'static str,
        config: C,
        at: Location,
    ) -> Self {
        Self::new(SiteName::Function { module, function }, config, at)
    }

    /// A method's call site with an instance of its own per `Self` type, named
    /// `module::Type::function`.
    pub const fn method(
        module: &'static str,
        function: &'static str,
        config: C,
        at: Location,
    ) -> Self {
        Self::new(SiteName::Method { module, function }, config, at)
    }

    const fn new(name: SiteName, config: C, at: Location) -> Self {
        Self {
            name,
            config,
            at,
            first: OnceLock::new(),
            more_types: OnceLock::new(),
        }
    }

    /// The instance of a free fn's call site, or of a named instance.
    #[inline]
    pub fn get(&'static self) -> &'static C::Policy {
        &self
            .first
            .get_or_init(|| ("", self.resolve(registry(), None)))
            .1
    }

    /// The instance of a method's call site for `Self = S`.
    #[inline]
    pub fn get_for<S: ?Sized>(&'static self) -> &'static C::Policy {
        if let SiteName::Shared(_) = self.name {
            return self.get();
        }
        let ty = std::any::type_name::<S>();
        let (first_type, first) = self
            .first
            .get_or_init(|| (ty, self.resolve(registry(), Some(ty))));
        if same_type(first_type, ty) {
            return first;
        }
        self.for_another_type(ty)
    }

    #[cold]
    fn for_another_type(&'static self, ty: &'static str) -> &'static C::Policy {
        let mut slot = &self.more_types;
        loop {
            match slot.get() {
                Some(entry) if same_type(entry.type_name, ty) => return &entry.policy,
                Some(entry) => slot = &entry.next,
                None => {
                    let entry = TypeEntry {
                        type_name: ty,
                        policy: self.resolve(registry(), Some(ty)),
                        next: OnceLock::new(),
                    };
                    // Another thread may have appended first (this type or another one):
                    // then the loop reads what it appended and goes on from there.
                    let _ = slot.set(Box::new(entry));
                }
            }
        }
    }

    /// The instance of this site in `registry`, declared now if start-up did not.
    fn resolve(
        &'static self,
        registry: &Registry,
        self_type: Option<&'static str>,
    ) -> Arc<C::Policy> {
        registry.instance_of(
            self.owner(),
            &self.name(self_type),
            self.is_private(),
            &self.config,
        )
    }

    /// The instance's name; a method's needs its `Self` type.
    pub(super) fn name(&self, self_type: Option<&'static str>) -> String {
        match (self.name, self_type) {
            (SiteName::Shared(name), _) => name.to_owned(),
            (SiteName::Function { module, function }, _)
            | (SiteName::Method { module, function }, None) => format!("{module}::{function}"),
            (SiteName::Method { function, .. }, Some(ty)) => {
                format!("{}::{function}", type_path(ty))
            }
        }
    }

    fn is_private(&self) -> bool {
        !matches!(self.name, SiteName::Shared(_))
    }

    pub(super) fn owner(&'static self) -> usize {
        std::ptr::from_ref(self) as usize
    }
}

/// `a::b::Client<T>` is named `a::b::Client`: one instance is shared by every `T`.
pub(super) fn type_path(type_name: &str) -> &str {
    type_name.split('<').next().unwrap_or(type_name)
}

/// Not public API. Used by resilience-macros.
///
/// One attribute's declaration, submitted at link time in its fn's [`Declarations`].
#[doc(hidden)]
pub struct Declaration(&'static dyn Declare);

impl Declaration {
    /// The declaration of `site`.
    pub const fn new<C: PolicyConfig>(site: &'static CallSite<C>) -> Self {
        Self(site)
    }

    pub(super) fn at(&self) -> Location {
        self.0.at()
    }

    pub(super) fn is_private(&self) -> bool {
        self.0.is_private()
    }

    pub(super) fn declare(&self, registry: &Registry) {
        self.0.declare(registry);
    }
}

/// Not public API. Used by resilience-macros.
///
/// The declarations of one fn's attributes, submitted at link time with
/// `inventory::submit!`: one submission per fn rather than per attribute, since each
/// submission is a `static` and a constructor fn of its own for the user's compiler.
#[doc(hidden)]
pub struct Declarations(&'static [Declaration]);

impl Declarations {
    /// The declarations of one fn.
    pub const fn new(all: &'static [Declaration]) -> Self {
        Self(all)
    }

    pub(super) fn all() -> impl Iterator<Item = &'static Declaration> {
        inventory::iter::<Declarations>().flat_map(|declarations| declarations.0)
    }
}

inventory::collect!(Declarations);

/// What start-up needs of a call site, whatever its config type.
trait Declare: Sync {
    fn at(&self) -> Location;
    fn is_private(&self) -> bool;
    fn declare(&'static self, registry: &Registry);
}

impl<C: PolicyConfig> Declare for CallSite<C> {
    fn at(&self) -> Location {
        self.at
    }

    fn is_private(&self) -> bool {
        CallSite::is_private(self)
    }

    fn declare(&'static self, registry: &Registry) {
        match self.name {
            SiteName::Method { module, function } => registry.declare_method::<C>(module, function),
            _ => registry.declare_site(
                self.owner(),
                &self.name(None),
                self.is_private(),
                &self.config,
            ),
        }
    }
}
