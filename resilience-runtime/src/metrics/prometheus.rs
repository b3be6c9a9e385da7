//! A `prometheus-client` collector: the families in the user's own registry, read from the
//! instances' counters on each scrape.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType as Type;

use super::families::{Family, MetricType, FAMILIES};
use super::sample::{samples, Sample, Value};
use crate::{registry, Registry};

/// Every family of every instance of a [`Registry`], collected on each scrape of the
/// `prometheus_client` registry it is registered in. Needs the feature `prometheus`.
///
/// `prometheus-client` writes OpenMetrics, which names a counter's family without its
/// `_total`; the samples keep the names of [`FAMILIES`], so queries are the same. Serve
/// its output as OpenMetrics (`application/openmetrics-text; version=1.0.0`): the
/// `retry_attempts_total` counter goes out typed `unknown` there (its family name would
/// be the histogram's), which the older Prometheus text format, and `promtool check
/// metrics`, do not accept. Without a registry of your own,
/// [`encode_text`](super::encode_text) writes that text format instead.
///
/// ```
/// use prometheus_client::encoding::text::encode;
/// use resilience::metrics::PrometheusCollector;
///
/// #[resilience::bulkhead(name = "docs::collector", max_concurrent = 8)]
/// async fn query() -> Result<(), resilience::Error> { Ok(()) }
///
/// let mut registry = prometheus_client::registry::Registry::default();
/// registry.register_collector(Box::new(PrometheusCollector::new()));
/// let mut text = String::new();
/// encode(&mut text, &registry).unwrap();
/// assert!(text.contains("bulkhead_max_concurrent{name=\"docs::collector\"} 8\n"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PrometheusCollector {
    registry: &'static Registry,
}

impl PrometheusCollector {
    /// A collector of the process-wide [`registry`](crate::registry).
    ///
    /// ```
    /// # use resilience::metrics::PrometheusCollector;
    /// let mut registry = prometheus_client::registry::Registry::default();
    /// registry.register_collector(Box::new(PrometheusCollector::new()));
    /// ```
    pub fn new() -> Self {
        Self::of(registry())
    }

    /// A collector of `registry`.
    ///
    /// ```
    /// # use resilience::metrics::PrometheusCollector;
    /// let ours: &'static resilience::Registry = Box::leak(Box::default());
    /// let mut registry = prometheus_client::registry::Registry::default();
    /// registry.register_collector(Box::new(PrometheusCollector::of(ours)));
    /// ```
    pub fn of(registry: &'static Registry) -> Self {
        Self { registry }
    }
}

impl Default for PrometheusCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl Collector for PrometheusCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let samples = samples(&self.registry.snapshot());
        for family in FAMILIES {
            let mut series = samples.iter().filter(|s| s.family == family).peekable();
            if series.peek().is_none() {
                continue;
            }
            let (name, metric_type) = descriptor(family);
            let mut metric = encoder.encode_descriptor(name, family.help, None, metric_type)?;
            for sample in series {
                encode_sample(sample, &mut metric)?;
            }
        }
        Ok(())
    }
}

/// The family's name and type in OpenMetrics, which names a counter without its `_total`
/// (the encoder appends it to the samples). The seed guide's `retry_attempts_total`
/// counter would then share its family name with the `retry_attempts` histogram, which
/// OpenMetrics forbids: it goes out as `unknown` under its full name instead.
fn descriptor(family: &Family) -> (&'static str, Type) {
    match family.metric_type {
        MetricType::Counter => match family.name.strip_suffix("_total") {
            Some(base) if !FAMILIES.iter().any(|f| f.name == base) => (base, Type::Counter),
            _ => (family.name, Type::Unknown),
        },
        MetricType::Gauge => (family.name, Type::Gauge),
        MetricType::Histogram => (family.name, Type::Histogram),
    }
}

fn encode_sample(sample: &Sample, metric: &mut MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
    let mut name = String::with_capacity(sample.name.len());
    super::text::escape(&sample.name, &mut name);
    let mut labels = vec![("name", name.as_str())];
    labels.extend(sample.label);
    let mut series = metric.encode_family(&labels)?;
    match &sample.value {
        Value::Number(value) => match descriptor(sample.family).1 {
            Type::Counter => series.encode_counter::<NoLabelSet, _, u64>(value, None),
            _ => series.encode_gauge(value),
        },
        Value::Histogram {
            buckets,
            sum,
            count,
        } => {
            // prometheus-client takes each bucket's own count and accumulates them itself;
            // `f64::MAX` is its `+Inf`.
            let mut below = 0;
            let mut own: Vec<(f64, u64)> = buckets
                .iter()
                .map(|&(bound, cumulative)| {
                    let own = cumulative.saturating_sub(below);
                    below = cumulative;
                    (f64::from(bound), own)
                })
                .collect();
            own.push((f64::MAX, count.saturating_sub(below)));
            series.encode_histogram::<NoLabelSet>(*sum as f64, *count, &own, None)
        }
    }
}
