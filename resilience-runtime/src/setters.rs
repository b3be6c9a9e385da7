//! The builder methods of the configs.
//!
//! Every config field has a `const fn` of its name that returns the config with that field
//! set, so a config is built the same way in code and in a `const` item, which is how the
//! attributes build theirs (and how a field added later breaks nobody's code). The same
//! list of fields says what a reload changed, for its event.

/// `setters!(Config { /// doc  field: Type = example, .. })` writes
/// `pub const fn field(self, value: Type) -> Self` for each field; `field: Some(Type)` for
/// an `Option` field takes the value itself. It also writes `changes`, the fields that
/// differ between two configs, as `field: old -> new`, and (feature `config`) implements
/// `config::Fields`, which reads a field by name from a config document.
macro_rules! setters {
    ($config:ident { $($(#[doc = $doc:literal])* $field:ident: $ty:tt = $example:literal,)* }) => {
        impl $config {
            $(
                $(#[doc = $doc])*
                ///
                /// ```
                #[doc = concat!("# use resilience::*; use std::time::Duration;")]
                #[doc = concat!("let config = ", stringify!($config), "::DEFAULT.", stringify!($field), "(", $example, ");")]
                #[doc = concat!("assert_eq!(config.", stringify!($field), ", ", setters!(@read $ty, $example), ");")]
                /// ```
                #[must_use]
                pub const fn $field(mut self, value: setters!(@arg $ty)) -> Self {
                    self.$field = setters!(@wrap $ty, value);
                    self
                }
            )*

            /// The fields that differ from `self` in `to`, as `field: old -> new`, comma
            /// separated: what a reload's event and log line say.
            pub(crate) fn changes(&self, to: &Self) -> String {
                let mut changes = ::std::vec::Vec::<::std::string::String>::new();
                $(
                    if self.$field != to.$field {
                        changes.push(format!(
                            "{}: {:?} -> {:?}",
                            stringify!($field),
                            self.$field,
                            to.$field,
                        ));
                    }
                )*
                changes.join(", ")
            }
        }

        #[cfg(feature = "config")]
        impl crate::config::Fields for $config {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn set(
                &mut self,
                field: &str,
                value: &crate::config::Value,
            ) -> Option<Result<(), String>> {
                use crate::config::FromValue;
                match field {
                    $(stringify!($field) => Some(
                        <setters!(@field $ty)>::from_value(value).map(|read| self.$field = read),
                    ),)*
                    _ => None,
                }
            }

            fn copy_field(&mut self, field: &str, from: &Self) {
                match field {
                    $(stringify!($field) => self.$field = from.$field.clone(),)*
                    _ => {}
                }
            }

            fn changes(&self, to: &Self) -> String {
                $config::changes(self, to)
            }
        }
    };
    (@field (Some($ty:ty))) => { Option<$ty> };
    (@field $ty:ty) => { $ty };
    (@arg (Some($ty:ty))) => { $ty };
    (@arg $ty:ty) => { $ty };
    (@wrap (Some($ty:ty)), $value:ident) => { ::core::option::Option::Some($value) };
    (@wrap $ty:ty, $value:ident) => { $value };
    (@read (Some($ty:ty)), $example:literal) => { concat!("Some(", $example, ")") };
    (@read $ty:ty, $example:literal) => { $example };
}
pub(crate) use setters;
