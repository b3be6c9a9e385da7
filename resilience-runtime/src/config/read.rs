//! Reading a config document into checked layers: each kind's defaults, bases and
//! instances, and the environment's variables, with a problem (and its path) for every
//! name, field and value that does not fit. What the layers make of each instance is
//! `registry::apply`'s.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Document, DocumentError, Fields, Value, ENV_PREFIX};
use crate::registry::nearest;
use crate::{
    BulkheadConfig, CircuitBreakerConfig, HedgeConfig, Kind, RateLimiterConfig, RetryConfig,
    TimeoutConfig,
};

/// The kinds a document configures, in the order they are checked.
const KINDS: [Kind; 6] = [
    Kind::CircuitBreaker,
    Kind::Retry,
    Kind::Timeout,
    Kind::Bulkhead,
    Kind::RateLimiter,
    Kind::Hedge,
];

const PARTS: [&str; 3] = ["defaults", "bases", "instances"];

fn fields_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::CircuitBreaker => CircuitBreakerConfig::FIELDS,
        Kind::Retry => RetryConfig::FIELDS,
        Kind::Timeout => TimeoutConfig::FIELDS,
        Kind::Bulkhead => BulkheadConfig::FIELDS,
        Kind::RateLimiter => RateLimiterConfig::FIELDS,
        Kind::Hedge => HedgeConfig::FIELDS,
        _ => &[],
    }
}

/// The fields one part of a section sets, checked: only valid ones are kept.
pub(crate) type Layer<'a> = Vec<(&'a str, &'a Value)>;

/// A kind's section, read and checked.
#[derive(Default)]
pub(crate) struct Section<'a> {
    pub(crate) defaults: Layer<'a>,
    pub(crate) bases: BTreeMap<&'a str, Layer<'a>>,
    /// Each instance's base, if it names one that exists, and its fields.
    pub(crate) instances: BTreeMap<&'a str, (Option<&'a str>, Layer<'a>)>,
}

impl<'a> Section<'a> {
    /// The fields the section sets for the instance `name`, in the order they apply: the
    /// defaults, the base it extends, its own.
    pub(crate) fn layers(&self, name: &str) -> impl Iterator<Item = &(&'a str, &'a Value)> + Clone {
        let instance = self.instances.get(name);
        let base = instance
            .and_then(|(extends, _)| *extends)
            .and_then(|base| self.bases.get(base));
        [
            Some(&self.defaults),
            base,
            instance.map(|(_, fields)| fields),
        ]
        .into_iter()
        .flatten()
        .flatten()
    }
}

/// An environment variable's layer: the variable, the instance's name as written in it,
/// and the field and value.
pub(crate) struct EnvField {
    pub(crate) var: String,
    pub(crate) name: String,
    pub(crate) field: String,
    pub(crate) value: Value,
}

/// Collects problems, with their paths.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<DocumentError>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(DocumentError::new(path, message));
    }
}

/// `name` as a TOML key in a path: bare when it can be, else quoted.
pub(crate) fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

/// `name` as an environment variable writes it.
pub(crate) fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// "; did you mean `x`?" for the nearest of `candidates`, else "; expected one of ...".
fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let candidates: Vec<Arc<str>> = candidates.into_iter().map(Arc::from).collect();
    let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
    match nearest(wrong, candidates) {
        Some(near) => format!("; did you mean `{near}`?"),
        None if list.is_empty() => String::new(),
        None => format!("; expected one of {}", list.join(", ")),
    }
}

/// A table's entries, or a problem at `path`.
fn table<'a>(
    value: &'a Value,
    path: &str,
    what: &str,
    problems: &mut Problems,
) -> Option<&'a BTreeMap<String, Value>> {
    match value {
        Value::Table(table) => Some(table),
        _ => {
            problems.push(path, format!("expected a table of {what}"));
            None
        }
    }
}

/// Checks `fields` (the entries of a part at `path`) against the config of `kind`: the
/// valid ones, and a problem for each of the others.
pub(crate) fn layer<'a, C: Fields + Default>(
    kind: Kind,
    path: &str,
    fields: &'a BTreeMap<String, Value>,
    problems: &mut Problems,
) -> Layer<'a> {
    let mut scratch = C::default();
    let mut valid = Vec::new();
    for (field, value) in fields {
        if field == "extends" {
            // Read apart by the caller: a base's name, not a field.
            continue;
        }
        let at = format!("{path}.{}", key(field));
        match scratch.set(field, value) {
            Some(Ok(())) => valid.push((field.as_str(), value)),
            Some(Err(message)) => problems.push(at, message),
            None => problems.push(at, unknown_field(kind, field)),
        }
    }
    valid
}

pub(crate) fn unknown_field(kind: Kind, field: &str) -> String {
    let owner = KINDS
        .iter()
        .find(|&&other| other != kind && fields_of(other).contains(&field));
    match owner {
        Some(owner) => format!("`{field}` is a field of a {owner}, not of a {kind}"),
        None => format!(
            "unknown field `{field}` of a {kind}{}",
            suggest(field, fields_of(kind).iter().copied())
        ),
    }
}

/// Reads the section of `kind`, reporting every problem in it.
pub(crate) fn section<'a, C: Fields + Default>(
    kind: Kind,
    value: &'a Value,
    problems: &mut Problems,
) -> Section<'a> {
    let mut section = Section::default();
    let root = kind.as_str();
    let Some(parts) = table(value, root, "`defaults`, `bases` and `instances`", problems) else {
        return section;
    };
    for (part, value) in parts {
        let path = format!("{root}.{}", key(part));
        match part.as_str() {
            "defaults" => {
                if let Some(fields) = table(value, &path, "fields", problems) {
                    if fields.contains_key("extends") {
                        problems.push(format!("{path}.extends"), "only an instance extends a base");
                    }
                    section.defaults = layer::<C>(kind, &path, fields, problems);
                }
            }
            "bases" => {
                let Some(bases) = table(value, &path, "bases by name", problems) else {
                    continue;
                };
                for (base, fields) in bases {
                    let path = format!("{path}.{}", key(base));
                    let Some(fields) = table(fields, &path, "fields", problems) else {
                        continue;
                    };
                    if fields.contains_key("extends") {
                        problems.push(format!("{path}.extends"), "only an instance extends a base");
                    }
                    let valid = layer::<C>(kind, &path, fields, problems);
                    section.bases.insert(base, valid);
                }
            }
            "instances" => {
                let Some(instances) = table(value, &path, "instances by name", problems) else {
                    continue;
                };
                for (name, fields) in instances {
                    let path = format!("{path}.{}", key(name));
                    let Some(fields) = table(fields, &path, "fields", problems) else {
                        continue;
                    };
                    let extends = match fields.get("extends") {
                        None => None,
                        Some(Value::Str(base)) => Some(base.as_str()),
                        Some(_) => {
                            problems.push(format!("{path}.extends"), "expected the name of a base");
                            None
                        }
                    };
                    let valid = layer::<C>(kind, &path, fields, problems);
                    section.instances.insert(name, (extends, valid));
                }
            }
            _ => problems.push(
                path,
                format!("unknown part `{part}`{}", suggest(part, PARTS)),
            ),
        }
    }
    // Bases are all read before an instance's `extends` is checked against them.
    for (name, (extends, _)) in &mut section.instances {
        if let Some(base) = *extends {
            if !section.bases.contains_key(base) {
                problems.push(
                    format!("{root}.instances.{}.extends", key(name)),
                    format!(
                        "unknown base `{base}`{}",
                        suggest(base, section.bases.keys().copied())
                    ),
                );
                *extends = None;
            }
        }
    }
    section
}

/// A problem for each section that names no kind.
pub(crate) fn unknown_kinds(document: &Document, problems: &mut Problems) {
    for section in document.sections.keys() {
        if !KINDS.iter().any(|kind| kind.as_str() == section) {
            problems.push(
                key(section),
                format!(
                    "unknown kind `{section}`{}",
                    suggest(section, KINDS.iter().map(|kind| kind.as_str()))
                ),
            );
        }
    }
}

/// The `RESILIENCE_...` variables, by kind; a problem for each that names no kind or
/// does not read `RESILIENCE_<KIND>__<NAME>__<FIELD>`.
pub(crate) fn env_layers(
    document: &Document,
    problems: &mut Problems,
) -> BTreeMap<Kind, Vec<EnvField>> {
    let mut by_kind: BTreeMap<Kind, Vec<EnvField>> = BTreeMap::new();
    for (var, value) in &document.env {
        let rest = &var[ENV_PREFIX.len()..];
        let kind = KINDS.iter().copied().find(|kind| {
            rest.strip_prefix(&kind.as_str().to_ascii_uppercase())
                .is_some_and(|tail| tail.starts_with("__"))
        });
        let Some(kind) = kind else {
            let written = rest.split("__").next().unwrap_or(rest);
            let kinds: Vec<String> = KINDS
                .iter()
                .map(|k| k.as_str().to_ascii_uppercase())
                .collect();
            problems.push(
                var.as_str(),
                format!(
                    "unknown kind `{written}`{}",
                    suggest(written, kinds.iter().map(String::as_str))
                ),
            );
            continue;
        };
        let tail = &rest[kind.as_str().len() + 2..];
        match tail.rsplit_once("__") {
            Some((name, field)) if !name.is_empty() && !field.is_empty() => {
                by_kind.entry(kind).or_default().push(EnvField {
                    var: var.clone(),
                    // Matched against names written as `env_name` writes them: upper case.
                    name: name.to_ascii_uppercase(),
                    field: field.to_ascii_lowercase(),
                    value: Value::Env(value.clone()),
                })
            }
            _ => problems.push(
                var.as_str(),
                format!(
                    "expected `{ENV_PREFIX}{}__<NAME>__<FIELD>`",
                    kind.as_str().to_ascii_uppercase()
                ),
            ),
        }
    }
    by_kind
}
