//! The series of every family for one snapshot: what each exporter writes out.

use std::sync::Arc;

use super::families::{Family, FAMILIES};
use crate::Snapshot;

/// One series' value.
///
/// ```
/// use resilience::metrics::{samples, Value};
/// use resilience::{Registry, RetryConfig};
/// let registry = Registry::new();
/// registry.get_or_create("fetch", RetryConfig::DEFAULT.max_attempts(2)).unwrap();
/// let histogram = samples(&registry.snapshot()).into_iter().find(|s| s.family.name == "retry_attempts").unwrap();
/// assert_eq!(histogram.value, Value::Histogram { buckets: vec![(1, 0), (2, 0)], sum: 0, count: 0 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// A counter's or a gauge's value.
    Number(u64),
    /// A histogram: `(upper bound, observations at most that)` for each bucket, the sum of
    /// the observations and their count (the `+Inf` bucket).
    Histogram {
        /// Cumulative buckets, by upper bound.
        buckets: Vec<(u32, u64)>,
        /// The observations' sum.
        sum: u64,
        /// The observations' count.
        count: u64,
    },
}

/// One series: a family, the instance it describes, the family's extra label if it has
/// one, and the value.
///
/// ```
/// use resilience::metrics::{samples, Value};
/// use resilience::{CircuitBreakerConfig, Registry};
/// let registry = Registry::new();
/// registry.get_or_create("payments", CircuitBreakerConfig::default()).unwrap();
/// let closed = samples(&registry.snapshot())
///     .into_iter()
///     .find(|s| s.family.name == "circuit_breaker_state" && s.label == Some(("state", "closed")))
///     .unwrap();
/// assert_eq!((&*closed.name, closed.value), ("payments", Value::Number(1)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sample {
    /// Its family.
    pub family: &'static Family,
    /// The instance's name: the series' `name` label.
    pub name: Arc<str>,
    /// The family's extra label and its value here, as `(key, value)`.
    pub label: Option<(&'static str, &'static str)>,
    /// The value.
    pub value: Value,
}

/// Every series of every family for the instances in `snapshot`, family by family in the
/// order of [`FAMILIES`], instances in the snapshot's order within each.
///
/// ```
/// use resilience::metrics::samples;
/// use resilience::{Registry, TimeoutConfig};
/// let registry = Registry::new();
/// registry.get_or_create("db", TimeoutConfig::default()).unwrap();
/// let names: Vec<_> = samples(&registry.snapshot()).iter().map(|s| s.family.name).collect();
/// assert_eq!(names, ["timeout_calls_total", "timeout_calls_total"]);
/// ```
pub fn samples(snapshot: &Snapshot) -> Vec<Sample> {
    let mut samples = Vec::new();
    for family in FAMILIES {
        for instance in &snapshot.instances {
            for (value_of_label, value) in (family.read)(&instance.stats) {
                samples.push(Sample {
                    family,
                    name: Arc::clone(&instance.name),
                    label: family.label.zip(value_of_label),
                    value,
                });
            }
        }
    }
    samples
}
