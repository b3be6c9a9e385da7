//! Configuration by name from a document (feature `config`): a TOML file (or anything serde
//! reads) and environment variables over it, checked whole and applied at run time by
//! [`Registry::apply`](crate::Registry::apply), keeping each instance's state.
//!
//! # The document
//!
//! One section per kind (`circuit_breaker`, `retry`, `timeout`, `bulkhead`, `rate_limit`,
//! `hedge`), each with up to three parts:
//!
//! ```toml
//! [circuit_breaker.defaults]          # every circuit breaker inherits these
//! failure_threshold = 5
//! recovery_timeout = "30s"
//!
//! [circuit_breaker.bases.flaky]       # a named base an instance can extend
//! failure_threshold = 3
//! recovery_timeout = "1m"
//!
//! [circuit_breaker.instances.payments]
//! extends = "flaky"
//! recovery_timeout = "2m"             # over the base, over the defaults
//!
//! [rate_limit.instances."shop::geocode"]
//! max_requests = 50
//! window = "1s"
//! ```
//!
//! Fields are the config's fields with the attributes' values: durations as `"250ms"`,
//! `"1h30m"` or a number of seconds (one grammar, shared with the attributes), words as
//! the attributes spell them (`backoff = "linear"`, `algorithm = "sliding_window"`),
//! `sliding_window` a count (`100`) or a duration (`"60s"`), and `"none"` to unset an
//! optional field.
//!
//! # Precedence
//!
//! Lowest first, each layer over the one before: the instance's declaration (its
//! attribute's arguments, or the config it was created with by hand), the kind's
//! `defaults`, the base it `extends`, its own section, and last the environment
//! (`RESILIENCE_<KIND>__<NAME>__<FIELD>`, see [`Document::with_vars`]). The document
//! describes the whole configuration: an instance it no longer mentions goes back to its
//! declaration at the next apply, except for what a running instance cannot change (a
//! breaker's `sliding_window`, `failure_rate_threshold` and `slow_call_duration`, a
//! limiter's `algorithm`), which stays as it runs unless the document sets it. A config
//! set in code with [`Registry::configure`](crate::Registry::configure) is replaced:
//! `apply` starts over from the declaration.
//!
//! # Checked whole
//!
//! Every problem is reported together, each with its path: a kind, a part, a base or a
//! field that does not exist ("did you mean"), a field of another kind, a value of the
//! wrong type, a config its policy refuses, an instance no attribute or code declares, a
//! change a running instance cannot take. With any problem nothing is applied.
//!
//! ```
//! use resilience::config::Document;
//! use resilience::{Registry, TimeoutConfig};
//!
//! let registry = Registry::new();
//! registry.get_or_create("report", TimeoutConfig::DEFAULT).unwrap();
//! let document = Document::from_toml(r#"
//!     [timeout.instances.report]
//!     duration = "0s"
//!     max_concurrent = 3
//!
//!     [timeout.instances.reprot]
//!     duration = "5s"
//! "#).unwrap();
//! let errors = registry.apply(&document).unwrap_err();
//! assert_eq!(errors.to_string(), "\
//! timeout.instances.report.duration: must be longer than zero
//! timeout.instances.report.max_concurrent: `max_concurrent` is a field of a bulkhead, not of a timeout
//! timeout.instances.reprot: no timeout named `reprot` is declared; did you mean `report`?");
//! assert_eq!(registry.timeout("report").unwrap().duration(), TimeoutConfig::DEFAULT.duration);
//! ```
//!
//! # Live reload
//!
//! Applied to an instance in use, a config is swapped in whole (one atomic pointer swap;
//! calls read it with one load) and the instance keeps its state by its kind's rule (each
//! policy's `reconfigure` says it): an open breaker stays open until its new recovery
//! deadline, a limiter keeps its used quota under the new one, a shrunk bulkhead
//! admits no call until under its new limit and loses no slot. Each change is an
//! [event](crate::events::Detail::Reconfigured) and an `INFO` line saying what changed.

mod document;
mod errors;
pub(crate) mod read;
mod value;

pub use document::Document;
pub(crate) use document::ENV_PREFIX;
pub use errors::{DocumentError, DocumentErrors};
pub(crate) use value::{FromValue, Value};

/// A document's fields for a method's default-named instance, applied before the method's
/// first call declared it: kept, in the order they apply, to be laid over the declaration
/// when it arrives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pending(pub(crate) Vec<(String, Value)>);

impl Pending {
    /// `declared` with the fields set, or the rule they break beside its values. (Each
    /// field was read into a default config once already, so setting it cannot fail.)
    pub(crate) fn over<C: Fields + crate::registry::PolicyConfig>(
        &self,
        declared: &C,
    ) -> Result<C, crate::error::InvalidConfig> {
        let mut config = declared.clone();
        for (field, value) in &self.0 {
            let _ = config.set(field, value);
        }
        config.check().map(|()| config)
    }
}

/// A config whose fields a document sets by name; written by `setters!`.
pub(crate) trait Fields: Sized {
    /// The fields, by name.
    const FIELDS: &'static [&'static str];
    /// Sets `field` from `value`; `None` when there is no such field.
    fn set(&mut self, field: &str, value: &Value) -> Option<Result<(), String>>;
    /// Sets `field` to `from`'s.
    fn copy_field(&mut self, field: &str, from: &Self);
    /// The fields that differ in `to`, as `field: old -> new`.
    fn changes(&self, to: &Self) -> String;
}
