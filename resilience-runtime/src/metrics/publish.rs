//! The families in the `metrics` facade, set from the instances' counters whenever the
//! application asks: a pull model, like the other exporters, so calls pay nothing.

use metrics::Label;

use super::families::MetricType;
use super::sample::{samples, Sample, Value};
use crate::{registry, Snapshot};

/// Sets every family of every instance of the process-wide [`registry`](crate::registry)
/// in the installed `metrics` recorder: counters with `Counter::absolute`, gauges with
/// `Gauge::set`. Call it before each scrape (or on an interval); between calls the
/// recorder keeps the values of the last one. Needs the feature `metrics`.
///
/// A counter set anew after an instance's `reset()` is lower than before. The text
/// exporters write it so, and Prometheus reads the drop as a counter reset, as it reads a
/// restart. The common `metrics` recorders do not: their `absolute` keeps the larger value
/// (`metrics-util`'s atomics take the maximum), so such a counter stays flat until it
/// passes its old value. Where that matters, reset instances only in tests, or scrape
/// with [`write_text`](crate::metrics::write_text).
///
/// `metrics` histograms record single observations, and the counts are kept per bucket
/// here, so the `retry_attempts` histogram is published as the series Prometheus stores
/// for one: the counters `retry_attempts_bucket` (with an `le` label),
/// `retry_attempts_sum` and `retry_attempts_count`. `histogram_quantile` reads them as
/// it reads any histogram.
///
/// ```
/// #[resilience::timeout(name = "docs::publish", duration = "5s")]
/// async fn query() -> Result<(), resilience::Error> { Ok(()) }
///
/// // With a recorder installed (metrics-exporter-prometheus, ...), before each scrape:
/// resilience::metrics::publish();
/// ```
pub fn publish() {
    publish_snapshot(&registry().snapshot());
}

/// Sets every family of the instances in `snapshot` in the installed `metrics` recorder,
/// as [`publish`] does.
///
/// ```
/// let registry = resilience::Registry::new();
/// registry.get_or_create("db", resilience::TimeoutConfig::default()).unwrap();
/// resilience::metrics::publish_snapshot(&registry.snapshot());
/// ```
pub fn publish_snapshot(snapshot: &Snapshot) {
    for sample in samples(snapshot) {
        let family = sample.family;
        match (&sample.value, family.metric_type) {
            (&Value::Number(value), MetricType::Gauge) => {
                metrics::describe_gauge!(family.name, family.help);
                // The values are counts, far below 2^53: exact as `f64`.
                metrics::gauge!(family.name, labels(&sample, None)).set(value as f64);
            }
            (&Value::Number(value), _) => {
                metrics::describe_counter!(family.name, family.help);
                metrics::counter!(family.name, labels(&sample, None)).absolute(value);
            }
            (
                Value::Histogram {
                    buckets,
                    sum,
                    count,
                },
                _,
            ) => {
                let series = |suffix: &str| format!("{}_{suffix}", family.name);
                let bucket = series("bucket");
                for (bound, below) in buckets {
                    let le = Some(bound.to_string());
                    metrics::counter!(bucket.clone(), labels(&sample, le)).absolute(*below);
                }
                let le = Some("+Inf".to_owned());
                metrics::counter!(bucket, labels(&sample, le)).absolute(*count);
                metrics::counter!(series("sum"), labels(&sample, None)).absolute(*sum);
                metrics::counter!(series("count"), labels(&sample, None)).absolute(*count);
            }
        }
    }
}

fn labels(sample: &Sample, le: Option<String>) -> Vec<Label> {
    let mut labels = vec![Label::new("name", sample.name.to_string())];
    labels.extend(sample.label.map(|(key, value)| Label::new(key, value)));
    labels.extend(le.map(|le| Label::new("le", le)));
    labels
}
