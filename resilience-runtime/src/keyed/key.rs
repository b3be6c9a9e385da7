//! What may key an instance, how a key is stored, and how the attributes take a key
//! expression by reference.

use std::any::Any;
use std::borrow::Borrow;
use std::fmt;
use std::hash::Hash;

/// A value that can key a [`Keyed`](crate::Keyed) instance: `Hash + Eq`, with an owned
/// form (its [`ToOwned::Owned`]) that is `Debug + Send + Sync + 'static`.
///
/// A key is looked up by reference; the owned form is made (cloned) only when the key is
/// first seen, and stored until the key is dropped. So `str` keys are looked up as `&str`
/// and stored as `String`, `u64` keys are copied.
///
/// `Debug` lets the [`snapshot`](crate::Registry::snapshot) name the keys whose breaker is
/// open.
///
/// ```
/// use resilience::InstanceKey;
/// fn keys<K: InstanceKey + ?Sized>(_: &K) {}
/// keys("example.com");
/// keys(&42_u64);
/// keys(&("tenant", 7));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot key a keyed instance",
    label = "not a key",
    note = "a key must be `Hash + Eq`, with an owned form (`ToOwned`) that is `Debug + Send + Sync + 'static`"
)]
pub trait InstanceKey: Hash + Eq + ToOwned<Owned = Self::Stored> {
    /// The owned form stored for the key.
    type Stored: Borrow<Self> + Hash + Eq + fmt::Debug + Send + Sync + 'static;
}

impl<Q> InstanceKey for Q
where
    Q: ?Sized + Hash + Eq + ToOwned,
    Q::Owned: Hash + Eq + fmt::Debug + Send + Sync + 'static,
{
    type Stored = Q::Owned;
}

/// A key as stored: its value behind a pointer, seen as `Any` to compare it with a key of a
/// known type, and as `Debug` to name it.
pub(super) trait StoredKey: Send + Sync + 'static {
    fn as_any(&self) -> &dyn Any;
    fn describe(&self) -> String;
}

impl<T: Any + fmt::Debug + Send + Sync> StoredKey for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Whether the stored key `stored` is `key`. Keys of another type are never equal: one
/// instance keyed by `u64` at one site and by `u32` at another keeps them apart.
pub(super) fn is<Q: InstanceKey + ?Sized>(stored: &dyn StoredKey, key: &Q) -> bool {
    stored
        .as_any()
        .downcast_ref::<Q::Stored>()
        .is_some_and(|stored| stored.borrow() == key)
}

/// Not public API. Used by resilience-macros.
///
/// The value of a `key = expr` argument, taken by reference: `(&&KeyOf(&(expr))).key()`
/// is the `&T` a reference `&T` points to, and the value itself otherwise. So
/// `key = user.id`, `key = &user.name` and `key = host.as_str()` are all looked up as
/// the value they name, never a reference to a reference, and nothing is cloned to look
/// them up (autoref specialization: method lookup tries `&&KeyOf` before `&KeyOf`).
pub struct KeyOf<'a, T: ?Sized>(pub &'a T);

/// Not public API: see [`KeyOf`]. The key lives as long as what the reference points to,
/// not the reference: `host.as_str()` is a temporary, `host` is not.
pub trait KeyOfRef<'b, Q: ?Sized> {
    /// The key.
    fn key(self) -> &'b Q;
}

impl<'b, Q: ?Sized> KeyOfRef<'b, Q> for &&KeyOf<'_, &'b Q> {
    fn key(self) -> &'b Q {
        self.0
    }
}

/// Not public API: see [`KeyOf`].
pub trait KeyOfOwned<'a, T: ?Sized> {
    /// The key.
    fn key(self) -> &'a T;
}

impl<'a, T: ?Sized> KeyOfOwned<'a, T> for &KeyOf<'a, T> {
    fn key(self) -> &'a T {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::needless_borrow)]
    #[test]
    fn a_key_expression_is_looked_up_as_the_value_it_names() {
        use super::{KeyOfOwned as _, KeyOfRef as _};
        let name = String::from("ada");
        let by_value: &u64 = (&&KeyOf(&7_u64)).key();
        let through_a_reference: &str = (&&KeyOf(&name.as_str())).key();
        let borrowed: &String = (&&KeyOf(&&name)).key();
        assert_eq!(
            (*by_value, through_a_reference, borrowed),
            (7, "ada", &name)
        );
    }

    #[test]
    fn a_stored_key_equals_only_a_key_of_its_own_type_and_value() {
        let stored: Box<dyn StoredKey> = Box::new(String::from("a"));
        assert!(is(&*stored, "a"));
        assert!(!is(&*stored, "b"));
        let number: Box<dyn StoredKey> = Box::new(1_u64);
        assert!(is(&*number, &1_u64));
        assert!(!is(&*number, &1_u32));
        assert_eq!(number.describe(), "1");
    }
}
