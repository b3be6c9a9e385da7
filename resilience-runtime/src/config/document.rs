//! The document itself: read from TOML or any serde format, with environment variables
//! over it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::{DocumentError, DocumentErrors, Value};

/// The prefix of the environment variables a document reads.
pub(crate) const ENV_PREFIX: &str = "RESILIENCE_";

/// A configuration document: per kind, defaults, named bases and instances by name, with
/// environment variables over it. [`Registry::apply`](crate::Registry::apply) checks it
/// whole against the declared instances and applies it, or nothing.
///
/// Read one from TOML with [`from_toml`](Self::from_toml), or from any serde format (it
/// implements [`Deserialize`]); the layout is in [`config`](crate::config).
///
/// ```
/// use resilience::config::Document;
///
/// let document = Document::from_toml(r#"
///     [retry.defaults]
///     max_attempts = 4
///
///     [retry.instances.fetch]
///     base_delay = "250ms"
/// "#).unwrap();
/// # let _ = document;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The sections by kind, as written.
    pub(crate) sections: BTreeMap<String, Value>,
    /// `RESILIENCE_...` variables, name and value, read over the sections.
    pub(crate) env: Vec<(String, String)>,
}

impl Document {
    /// Reads a document from TOML text.
    ///
    /// # Errors
    ///
    /// The TOML syntax error, at the path `TOML`. Problems of the content (unknown names,
    /// values out of range) are found by [`Registry::apply`](crate::Registry::apply), all
    /// together.
    ///
    /// ```
    /// use resilience::config::Document;
    /// assert!(Document::from_toml("[timeout.instances.report]\nduration = \"5s\"").is_ok());
    /// assert!(Document::from_toml("[timeout.instances.report\n").is_err());
    /// ```
    pub fn from_toml(text: &str) -> Result<Self, DocumentErrors> {
        toml::from_str(text).map_err(|error| {
            let message = error.message().to_owned();
            let at = error
                .span()
                .map(|span| {
                    // Lines ended before the error, plus its own (`lines()` would not
                    // count an empty last one: an error at the start of a line).
                    let before = &text.as_bytes()[..span.start.min(text.len())];
                    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            DocumentErrors::new(vec![DocumentError::new("TOML", format!("{message}{at}"))])
        })
    }

    /// Layers the process's `RESILIENCE_...` environment variables over the document: see
    /// [`with_vars`](Self::with_vars). Reads the environment now, once.
    ///
    /// ```
    /// use resilience::config::Document;
    /// let document = Document::default().with_env();
    /// # let _ = document;
    /// ```
    #[must_use]
    pub fn with_env(self) -> Self {
        // Not `vars()`: it panics on any variable that is not Unicode, ours or not. A value
        // of ours that is not is read with U+FFFD in it, and refused under its name.
        self.with_vars(std::env::vars_os().filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            Some((name, value.to_string_lossy().into_owned()))
        }))
    }

    /// Layers variables over the document, as [`with_env`](Self::with_env) layers the
    /// environment's: those named `RESILIENCE_<KIND>__<NAME>__<FIELD>` set `FIELD` of the
    /// instance `NAME` of `KIND`, over the document's defaults, bases and instance. A
    /// variable is read only if its name has `__` after `RESILIENCE_`: others, such as a
    /// `RESILIENCE_CONFIG` of the service's own or the `RESILIENCE_SERVICE_HOST` Kubernetes
    /// gives a service named `resilience`, are ignored. `KIND` is the kind as a config section names it, upper case
    /// (`CIRCUIT_BREAKER`, `RETRY`, `TIMEOUT`, `BULKHEAD`, `RATE_LIMIT`, `HEDGE`); `NAME` is
    /// the instance's name with every character other than an ASCII letter or digit
    /// written `_`, in any case (`shop::payments` is `SHOP__PAYMENTS`); `FIELD` the field's name,
    /// in any case. A value is read as an attribute reads an unquoted one: `30` is a
    /// number, or thirty seconds for a duration; `250ms` a duration; `none` unsets an
    /// optional field. Later variables of one name win.
    ///
    /// ```
    /// use resilience::config::Document;
    /// use resilience::{Registry, RetryConfig};
    ///
    /// let registry = Registry::new();
    /// registry.get_or_create("shop::fetch", RetryConfig::DEFAULT).unwrap();
    /// let document = Document::default()
    ///     .with_vars([("RESILIENCE_RETRY__SHOP__FETCH__MAX_ATTEMPTS", "7")]);
    /// registry.apply(&document).unwrap();
    /// assert_eq!(registry.retry("shop::fetch").unwrap().config().max_attempts, 7);
    /// ```
    #[must_use]
    pub fn with_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        for (name, value) in vars {
            let name = name.into();
            if is_ours(&name) {
                self.env.push((name, value.into()));
            }
        }
        self
    }
}

/// Whether a variable is one [`Document::with_vars`] reads: `RESILIENCE_` and then a name
/// of the `<KIND>__<NAME>__<FIELD>` shape, right or wrong (a misspelt kind is reported).
fn is_ours(var: &str) -> bool {
    var.strip_prefix(ENV_PREFIX)
        .is_some_and(|rest| rest.contains("__"))
}

/// A document from any serde format: a map of kinds, as [`Document::from_toml`] reads.
///
/// ```
/// use resilience::config::Document;
/// use serde::Deserialize;
/// let document = Document::deserialize(toml::Value::Table(Default::default())).unwrap();
/// assert_eq!(document, Document::default());
/// ```
impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            sections: BTreeMap::deserialize(deserializer)?,
            env: Vec::new(),
        })
    }
}
