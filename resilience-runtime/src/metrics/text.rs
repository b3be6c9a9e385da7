//! The Prometheus text format (version 0.0.4), the one `promtool check metrics` reads and
//! every Prometheus scrapes: written by hand from the samples, so it needs no dependency.

use std::fmt::Write;

use super::families::MetricType;
use super::sample::{samples, Sample, Value};
use crate::{registry, Snapshot};

/// The `Content-Type` of [`encode_text`]'s output, for a `/metrics` response.
///
/// ```
/// assert!(resilience::metrics::TEXT_CONTENT_TYPE.starts_with("text/plain"));
/// ```
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every family of every instance of the process-wide [`registry`](crate::registry), in
/// the Prometheus text format: the body of a `/metrics` endpoint, in one call.
///
/// ```
/// use resilience::circuit_breaker;
///
/// #[circuit_breaker(name = "docs::encode_text")]
/// async fn charge() -> Result<(), resilience::Error> { Ok(()) }
///
/// let text = resilience::metrics::encode_text();
/// assert!(text.contains("circuit_breaker_state{name=\"docs::encode_text\",state=\"closed\"} 1\n"));
/// ```
pub fn encode_text() -> String {
    let mut text = String::new();
    write_text(&registry().snapshot(), &mut text);
    text
}

/// Appends every family of the instances in `snapshot` to `out`, in the Prometheus text
/// format. A family no instance has is left out.
///
/// ```
/// use resilience::metrics::write_text;
/// use resilience::{BulkheadConfig, Registry};
/// let registry = Registry::new();
/// registry.get_or_create("db", BulkheadConfig::DEFAULT.max_concurrent(4)).unwrap();
/// let mut text = String::new();
/// write_text(&registry.snapshot(), &mut text);
/// assert!(text.contains("# TYPE bulkhead_max_concurrent gauge\nbulkhead_max_concurrent{name=\"db\"} 4\n"));
/// ```
pub fn write_text(snapshot: &Snapshot, out: &mut String) {
    let mut family = None;
    for sample in samples(snapshot) {
        if family != Some(sample.family) {
            family = Some(sample.family);
            let kind = match sample.family.metric_type {
                MetricType::Counter => "counter",
                MetricType::Gauge => "gauge",
                MetricType::Histogram => "histogram",
            };
            let name = sample.family.name;
            // Help texts are ours: no backslash or newline to escape.
            _ = writeln!(out, "# HELP {name} {}", sample.family.help);
            _ = writeln!(out, "# TYPE {name} {kind}");
        }
        write_sample(&sample, out);
    }
}

fn write_sample(sample: &Sample, out: &mut String) {
    let name = sample.family.name;
    match &sample.value {
        Value::Number(value) => {
            out.push_str(name);
            write_labels(sample, None, out);
            _ = writeln!(out, " {value}");
        }
        Value::Histogram {
            buckets,
            sum,
            count,
        } => {
            for (bound, below) in buckets {
                _ = write!(out, "{name}_bucket");
                write_labels(sample, Some(&bound.to_string()), out);
                _ = writeln!(out, " {below}");
            }
            _ = write!(out, "{name}_bucket");
            write_labels(sample, Some("+Inf"), out);
            _ = writeln!(out, " {count}");
            _ = write!(out, "{name}_sum");
            write_labels(sample, None, out);
            _ = writeln!(out, " {sum}");
            _ = write!(out, "{name}_count");
            write_labels(sample, None, out);
            _ = writeln!(out, " {count}");
        }
    }
}

/// `{name="…",<label>="…",le="…"}`.
fn write_labels(sample: &Sample, le: Option<&str>, out: &mut String) {
    out.push_str("{name=\"");
    escape(&sample.name, out);
    out.push('"');
    if let Some((key, value)) = sample.label {
        _ = write!(out, ",{key}=\"{value}\"");
    }
    if let Some(le) = le {
        _ = write!(out, ",le=\"{le}\"");
    }
    out.push('}');
}

/// A label value as the text format quotes it: instance names are the users' and may hold
/// any character. (prometheus-client writes label values as they are: its collector
/// escapes them here first.)
pub(super) fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Registry, TimeoutConfig};

    #[test]
    fn label_values_are_escaped() {
        let registry = Registry::new();
        registry
            .get_or_create("a\\b\"c\nd", TimeoutConfig::default())
            .unwrap();
        let mut text = String::new();
        write_text(&registry.snapshot(), &mut text);
        assert!(text
            .contains("timeout_calls_total{name=\"a\\\\b\\\"c\\nd\",outcome=\"completed\"} 0\n"));
    }

    #[test]
    fn a_family_no_instance_has_is_left_out() {
        let registry = Registry::new();
        let mut text = String::new();
        write_text(&registry.snapshot(), &mut text);
        assert_eq!(text, "");
        registry
            .get_or_create("db", TimeoutConfig::default())
            .unwrap();
        write_text(&registry.snapshot(), &mut text);
        assert!(text.starts_with("# HELP timeout_calls_total "));
        assert!(!text.contains("circuit_breaker"));
    }
}
