//! The one table of metric families: names, types, help, labels, and which counter of
//! which policy each one reads. Every exporter walks it; none names a family itself.

use super::sample::Value;
use crate::shared::SharedStats;
use crate::{CircuitState, Stats};

/// What a family measures, as Prometheus types it.
///
/// ```
/// use resilience::metrics::{MetricType, FAMILIES};
/// let state = FAMILIES.iter().find(|f| f.name == "circuit_breaker_state").unwrap();
/// assert_eq!(state.metric_type, MetricType::Gauge);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricType {
    /// A count that only goes up (back to zero when the instance is reset).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets, with their sum and count.
    Histogram,
}

/// One metric family: every series of it carries a `name` label (the instance's name) and,
/// where [`label`](Self::label) says so, one more.
///
/// ```
/// use resilience::metrics::FAMILIES;
/// let changes = FAMILIES.iter().find(|f| f.name == "circuit_breaker_state_changes_total").unwrap();
/// assert_eq!(changes.label, Some("state"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Family {
    /// The name queries use; counters end in `_total`.
    pub name: &'static str,
    /// Its type.
    pub metric_type: MetricType,
    /// One sentence for `# HELP`.
    pub help: &'static str,
    /// The label besides `name`, if any: `state`, `outcome` or `mode`.
    pub label: Option<&'static str>,
    /// Its series for one instance; none for an instance of another kind.
    pub(crate) read: fn(&Stats) -> Vec<Series>,
}

/// One series of a family for one instance: the extra label's value, if the family has
/// one, and the value.
pub(crate) type Series = (Option<&'static str>, Value);

/// Families are told apart by name, which is unique in [`FAMILIES`].
impl PartialEq for Family {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Family {}

/// Every family, in the order exporters write them.
///
/// ```
/// use resilience::metrics::FAMILIES;
/// let names: Vec<_> = FAMILIES.iter().map(|f| f.name).collect();
/// assert!(names.contains(&"rate_limit_rejected_total"));
/// assert!(names.contains(&"retry_attempts"));
/// ```
pub const FAMILIES: &[Family] = &[
    Family {
        name: "circuit_breaker_state",
        metric_type: MetricType::Gauge,
        help: "1 for the state the circuit breaker was last put in, 0 for every other state.",
        label: Some("state"),
        // The recorded state, not the one derived from the clock: an open breaker whose
        // recovery is over reads open until a probe makes it half-open, so the gauge agrees
        // with the state changes counted below, and an alert on an open breaker holds while
        // no call comes to probe it.
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => CircuitState::ALL
                .iter()
                .map(|&state| (Some(state_label(state)), number(s.recorded_state == state)))
                .collect(),
            _ => Vec::new(),
        },
    },
    Family {
        name: "circuit_breaker_state_changes_total",
        metric_type: MetricType::Counter,
        help: "Changes of state of the circuit breaker, by the state entered.",
        label: Some("state"),
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => CircuitState::ALL
                .iter()
                .map(|&state| (Some(state_label(state)), number(s.transitions_to(state))))
                .collect(),
            _ => Vec::new(),
        },
    },
    Family {
        name: "circuit_breaker_successes_total",
        metric_type: MetricType::Counter,
        help: "Calls through the circuit breaker that counted as successes.",
        label: None,
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => vec![(None, number(s.successes))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "circuit_breaker_failures_total",
        metric_type: MetricType::Counter,
        help: "Calls through the circuit breaker that counted as failures.",
        label: None,
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => vec![(None, number(s.failures))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "circuit_breaker_rejected_total",
        metric_type: MetricType::Counter,
        help: "Calls the circuit breaker rejected without running them.",
        label: None,
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => vec![(None, number(s.rejections))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "circuit_breaker_shared_mode",
        metric_type: MetricType::Gauge,
        help: "For a shared circuit breaker: 1 for how it decides now, on the fleet's shared state or in its fallback mode while that is unreachable; 0 for the other.",
        label: Some("mode"),
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => mode(s.shared),
            _ => Vec::new(),
        },
    },
    Family {
        name: "circuit_breaker_shared_fallbacks_total",
        metric_type: MetricType::Counter,
        help: "For a shared circuit breaker: times its shared state was lost and it fell back.",
        label: None,
        read: |stats| match stats {
            Stats::CircuitBreaker(s) => fallbacks(s.shared),
            _ => Vec::new(),
        },
    },
    Family {
        name: "retry_attempts",
        metric_type: MetricType::Histogram,
        help: "Attempts per finished call of the retry, the first one included.",
        label: None,
        read: |stats| match stats {
            Stats::Retry(s) => vec![(
                None,
                Value::Histogram {
                    buckets: s.attempt_buckets().collect(),
                    sum: s.attempts,
                    count: s.by_attempts.iter().sum(),
                },
            )],
            _ => Vec::new(),
        },
    },
    Family {
        name: "retry_attempts_total",
        metric_type: MetricType::Counter,
        help: "Attempts after the first (retries) the retry started.",
        label: None,
        read: |stats| match stats {
            Stats::Retry(s) => vec![(None, number(s.retries))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "retry_calls_total",
        metric_type: MetricType::Counter,
        help: "Finished calls of the retry, by outcome.",
        label: Some("outcome"),
        read: |stats| match stats {
            Stats::Retry(s) => vec![
                (Some("success_first_try"), number(s.succeeded_first_try)),
                (Some("success_after_retry"), number(s.succeeded_after_retry)),
                (
                    Some("failed"),
                    number(s.failed_without_retry + s.failed_after_retry),
                ),
            ],
            _ => Vec::new(),
        },
    },
    Family {
        name: "timeout_calls_total",
        metric_type: MetricType::Counter,
        help: "Calls that finished within the timeout or were cut short by it.",
        label: Some("outcome"),
        read: |stats| match stats {
            Stats::Timeout(s) => vec![
                (Some("completed"), number(s.completed)),
                (Some("timed_out"), number(s.timeouts)),
            ],
            _ => Vec::new(),
        },
    },
    Family {
        name: "bulkhead_active",
        metric_type: MetricType::Gauge,
        help: "Calls running inside the bulkhead now.",
        label: None,
        read: |stats| match stats {
            Stats::Bulkhead(s) => vec![(None, number(s.active))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "bulkhead_queued",
        metric_type: MetricType::Gauge,
        help: "Calls waiting for a slot of the bulkhead now.",
        label: None,
        read: |stats| match stats {
            Stats::Bulkhead(s) => vec![(None, number(s.queued))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "bulkhead_max_concurrent",
        metric_type: MetricType::Gauge,
        help: "The most calls the bulkhead runs at once.",
        label: None,
        read: |stats| match stats {
            Stats::Bulkhead(s) => vec![(None, number(s.max_concurrent))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "bulkhead_rejected_total",
        metric_type: MetricType::Counter,
        help: "Calls the bulkhead rejected because it was full.",
        label: None,
        read: |stats| match stats {
            Stats::Bulkhead(s) => vec![(None, number(s.rejections))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "rate_limit_admitted_total",
        metric_type: MetricType::Counter,
        help: "Calls the rate limiter let through, at once or after waiting.",
        label: None,
        read: |stats| match stats {
            Stats::RateLimiter(s) => vec![(None, number(s.admitted))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "rate_limit_waited_total",
        metric_type: MetricType::Counter,
        help: "Calls that waited for a permit of the rate limiter.",
        label: None,
        read: |stats| match stats {
            Stats::RateLimiter(s) => vec![(None, number(s.waited))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "rate_limit_rejected_total",
        metric_type: MetricType::Counter,
        help: "Calls the rate limiter rejected.",
        label: None,
        read: |stats| match stats {
            Stats::RateLimiter(s) => vec![(None, number(s.rejections))],
            _ => Vec::new(),
        },
    },
    Family {
        name: "rate_limit_shared_mode",
        metric_type: MetricType::Gauge,
        help: "For a shared rate limiter: 1 for how it decides now, on the fleet's shared quota or in its fallback mode while that is unreachable; 0 for the other.",
        label: Some("mode"),
        read: |stats| match stats {
            Stats::RateLimiter(s) => mode(s.shared),
            _ => Vec::new(),
        },
    },
    Family {
        name: "rate_limit_shared_fallbacks_total",
        metric_type: MetricType::Counter,
        help: "For a shared rate limiter: times its shared quota was lost and it fell back.",
        label: None,
        read: |stats| match stats {
            Stats::RateLimiter(s) => fallbacks(s.shared),
            _ => Vec::new(),
        },
    },
];

/// The `mode` gauge of a shared instance, one-hot as the breaker's `state` is, so an
/// alert reads `{mode="fallback"} == 1`; no series for an instance that is not shared,
/// which has no mode to report.
fn mode(shared: Option<SharedStats>) -> Vec<Series> {
    shared.map_or_else(Vec::new, |shared| {
        vec![
            (Some("shared"), number(shared.available)),
            (Some("fallback"), number(!shared.available)),
        ]
    })
}

fn fallbacks(shared: Option<SharedStats>) -> Vec<Series> {
    shared.map_or_else(Vec::new, |shared| vec![(None, number(shared.fallbacks))])
}

/// The `state` label's value: Prometheus label values conventionally use underscores, so
/// `half_open` rather than the `half-open` of `Display`.
const fn state_label(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "closed",
        CircuitState::Open => "open",
        CircuitState::HalfOpen => "half_open",
        CircuitState::ForcedOpen => "forced_open",
        CircuitState::Disabled => "disabled",
    }
}

fn number(value: impl TryInto<u64>) -> Value {
    // usize and bool fit in u64 on every supported target; saturate rather than panic.
    Value::Number(value.try_into().unwrap_or(u64::MAX))
}
