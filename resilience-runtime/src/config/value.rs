//! A value of the document as written, before it is read as a field: what TOML (or any
//! serde format) holds, or the text of an environment variable.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::{Algorithm, Backoff, Jitter, SlidingWindow};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    Int(i128),
    Float(f64),
    /// A string of the document: quoted, so a duration needs its unit, as in an attribute.
    Str(String),
    /// The text of an environment variable, read as an attribute reads an unquoted value:
    /// `30` is thirty seconds, `100` a count.
    Env(String),
    Table(BTreeMap<String, Value>),
    Array(Vec<Value>),
}

impl Value {
    /// What the value is, for "expected ..., found ...".
    fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) | Value::Env(_) => "a string",
            Value::Table(_) => "a table",
            Value::Array(_) => "an array",
        }
    }

    fn expected<T>(&self, what: &str) -> Result<T, String> {
        match self {
            Value::Str(text) | Value::Env(text) => {
                Err(format!("expected {what}, found \"{text}\""))
            }
            _ => Err(format!("expected {what}, found {}", self.kind())),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string, a boolean, a table or an array")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut table = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            if table.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
        }
        Ok(Value::Table(table))
    }
}

/// A config field's type read from a [`Value`]; the error says what is accepted.
pub(crate) trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, String>;
}

fn integer(value: &Value) -> Result<i128, String> {
    match value {
        Value::Int(n) => Ok(*n),
        Value::Env(text) => text
            .trim()
            .parse()
            .or_else(|_| value.expected("a whole number")),
        _ => value.expected("a whole number"),
    }
}

macro_rules! whole_numbers {
    ($($ty:ty),*) => {$(
        impl FromValue for $ty {
            fn from_value(value: &Value) -> Result<Self, String> {
                let n = integer(value)?;
                <$ty>::try_from(n).map_err(|_| {
                    format!("{n} is out of range: from {} to {}", <$ty>::MIN, <$ty>::MAX)
                })
            }
        }
    )*};
}
whole_numbers!(u32, usize);

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            // Integers of a document are exact up to 2^53; beyond, a factor is no factor.
            Value::Int(n) => Ok(*n as f64),
            Value::Float(x) => Ok(*x),
            Value::Env(text) => text.trim().parse().or_else(|_| value.expected("a number")),
            _ => value.expected("a number"),
        }
    }
}

impl FromValue for Duration {
    fn from_value(value: &Value) -> Result<Self, String> {
        let nanos = match value {
            Value::Int(n) if *n < 0 => return Err("a duration cannot be negative".to_owned()),
            Value::Float(x) if *x < 0.0 => return Err("a duration cannot be negative".to_owned()),
            Value::Int(n) => {
                resilience_duration::decimal(&n.to_string(), resilience_duration::SECOND)
            }
            Value::Float(x) if x.is_finite() => {
                resilience_duration::decimal(&x.to_string(), resilience_duration::SECOND)
            }
            // TOML reads `inf` and `nan` as numbers; "found a number" would puzzle.
            Value::Float(_) => {
                return Err(
                    "a duration must be finite: `inf` and `nan` are not durations \
                     (a field that can have no limit takes \"none\")"
                        .to_owned(),
                )
            }
            Value::Str(text) => resilience_duration::parse(text),
            // Unquoted, as in an attribute: a bare number is seconds.
            Value::Env(text) => {
                match resilience_duration::decimal(text.trim(), resilience_duration::SECOND) {
                    Ok(nanos) => Ok(nanos),
                    Err(_) => resilience_duration::parse(text),
                }
            }
            _ => return value.expected("a duration such as \"250ms\", \"30s\" or \"1h30m\""),
        };
        let nanos = nanos.map_err(|error| error.to_string())?;
        let secs = u64::try_from(nanos / resilience_duration::SECOND)
            .map_err(|_| "duration too large: it must fit a `std::time::Duration`".to_owned())?;
        // Below a second, so it fits.
        let subsec = (nanos % resilience_duration::SECOND) as u32;
        Ok(Duration::new(secs, subsec))
    }
}

/// `"none"` for `None`, so a document can undo a value an attribute set.
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Str(text) | Value::Env(text) if text.trim() == "none" => Ok(None),
            _ => T::from_value(value).map(Some),
        }
    }
}

/// One of `words`, as the attributes spell them.
fn word<T: Copy>(value: &Value, words: &[(&str, T)]) -> Result<T, String> {
    let list = || {
        let names: Vec<String> = words
            .iter()
            .map(|(word, _)| format!("\"{word}\""))
            .collect();
        names.join(", ")
    };
    match value {
        Value::Str(text) | Value::Env(text) => words
            .iter()
            .find(|(word, _)| *word == text.trim())
            .map(|&(_, value)| value)
            .ok_or_else(|| format!("unknown value \"{text}\"; expected one of {}", list())),
        _ => value.expected(&format!("one of {}", list())),
    }
}

impl FromValue for Algorithm {
    fn from_value(value: &Value) -> Result<Self, String> {
        word(
            value,
            &[
                ("token_bucket", Algorithm::TokenBucket),
                ("sliding_window", Algorithm::SlidingWindow),
                ("fixed_window", Algorithm::FixedWindow),
            ],
        )
    }
}

impl FromValue for Backoff {
    fn from_value(value: &Value) -> Result<Self, String> {
        word(
            value,
            &[
                ("exponential", Backoff::Exponential),
                ("linear", Backoff::Linear),
                ("constant", Backoff::Constant),
            ],
        )
    }
}

impl FromValue for Jitter {
    fn from_value(value: &Value) -> Result<Self, String> {
        // `jitter = true` / `false`, as the attribute takes it: full jitter, or none.
        let switch = match value {
            Value::Bool(on) => Some(*on),
            Value::Env(text) => text.trim().parse().ok(),
            _ => None,
        };
        if let Some(on) = switch {
            return Ok(if on { Jitter::Full } else { Jitter::None });
        }
        word(
            value,
            &[
                ("full", Jitter::Full),
                ("equal", Jitter::Equal),
                ("none", Jitter::None),
            ],
        )
    }
}

/// A count of calls (`100`) or a duration (`"60s"`), as the attribute takes it.
impl FromValue for SlidingWindow {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(_) => u32::from_value(value).map(SlidingWindow::Calls),
            Value::Env(text) if text.trim().parse::<u32>().is_ok() => {
                u32::from_value(value).map(SlidingWindow::Calls)
            }
            Value::Str(_) | Value::Env(_) => Duration::from_value(value).map(SlidingWindow::Time),
            _ => value.expected("a count of calls such as 100 or a duration such as \"60s\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_attributes_read_them() {
        let read = |value: Value| Duration::from_value(&value);
        assert_eq!(
            read(Value::Str("1h30m".into())),
            Ok(Duration::from_secs(5400))
        );
        assert_eq!(read(Value::Int(30)), Ok(Duration::from_secs(30)));
        assert_eq!(read(Value::Float(0.25)), Ok(Duration::from_millis(250)));
        assert_eq!(read(Value::Env("30".into())), Ok(Duration::from_secs(30)));
        assert_eq!(
            read(Value::Env("250ms".into())),
            Ok(Duration::from_millis(250))
        );
        let no_unit = read(Value::Str("30".into())).unwrap_err();
        assert!(no_unit.starts_with("`30` needs a unit"), "{no_unit}");
        assert_eq!(
            read(Value::Int(-1)),
            Err("a duration cannot be negative".into())
        );
        for infinite in [f64::INFINITY, f64::NAN] {
            assert!(read(Value::Float(infinite))
                .unwrap_err()
                .starts_with("a duration must be finite"));
        }
        assert_eq!(
            read(Value::Bool(true)),
            Err(
                "expected a duration such as \"250ms\", \"30s\" or \"1h30m\", found a boolean"
                    .into()
            )
        );
    }

    #[test]
    fn words_numbers_and_none_read_as_written() {
        assert_eq!(
            Backoff::from_value(&Value::Str("linear".into())),
            Ok(Backoff::Linear)
        );
        assert_eq!(
            Jitter::from_value(&Value::Str("ful".into())),
            Err("unknown value \"ful\"; expected one of \"full\", \"equal\", \"none\"".into())
        );
        assert_eq!(Jitter::from_value(&Value::Bool(true)), Ok(Jitter::Full));
        assert_eq!(Jitter::from_value(&Value::Bool(false)), Ok(Jitter::None));
        assert_eq!(
            Jitter::from_value(&Value::Env("false".into())),
            Ok(Jitter::None)
        );
        assert_eq!(u32::from_value(&Value::Env(" 7 ".into())), Ok(7));
        assert!(u32::from_value(&Value::Int(-1))
            .unwrap_err()
            .contains("out of range"));
        assert!(
            u32::from_value(&Value::Str("7".into())).is_err(),
            "a quoted number is text"
        );
        assert_eq!(
            Option::<u32>::from_value(&Value::Str("none".into())),
            Ok(None)
        );
        assert_eq!(
            SlidingWindow::from_value(&Value::Env("100".into())),
            Ok(SlidingWindow::Calls(100))
        );
        assert_eq!(
            SlidingWindow::from_value(&Value::Str("60s".into())),
            Ok(SlidingWindow::Time(Duration::from_secs(60)))
        );
    }
}
