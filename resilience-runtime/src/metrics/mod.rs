//! Metrics with the names operators query: read from each instance's own counters when
//! scraped, so a call pays nothing for them.
//!
//! [`FAMILIES`] is the one table of names, types, help and labels; every exporter walks
//! it over a [`Snapshot`](crate::Snapshot) of the registry:
//!
//! - [`encode_text`]: the Prometheus text format, the body of a `/metrics` endpoint, with
//!   no dependency;
//! - `PrometheusCollector` (feature `prometheus`): a `prometheus-client` collector to
//!   register in your own `prometheus_client::registry::Registry`;
//! - `publish` (feature `metrics`): sets the same families in the `metrics` facade, for
//!   any of its exporters; call it before each scrape or on an interval.
//!
//! ```
//! use resilience::{circuit_breaker, metrics};
//!
//! #[circuit_breaker(name = "docs::metrics")]
//! async fn charge() -> Result<(), resilience::Error> { Ok(()) }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! charge().await.unwrap();
//! let text = metrics::encode_text();
//! assert!(text.contains("circuit_breaker_successes_total{name=\"docs::metrics\"} 1\n"));
//! # }
//! ```

mod families;
#[cfg(feature = "prometheus")]
mod prometheus;
#[cfg(feature = "metrics")]
mod publish;
mod sample;
mod text;

pub use families::{Family, MetricType, FAMILIES};
#[cfg(feature = "prometheus")]
pub use prometheus::PrometheusCollector;
#[cfg(feature = "metrics")]
pub use publish::{publish, publish_snapshot};
pub use sample::{samples, Sample, Value};
pub use text::{encode_text, write_text, TEXT_CONTENT_TYPE};
