//! What an operator reads: each instance's counters and state, as values and as a table.

use std::fmt;
use std::sync::Arc;

use crate::{
    BulkheadStats, CircuitBreakerStats, FallbackStats, HedgeStats, Kind, RateLimiterStats,
    RetryStats, TimeoutStats,
};

/// The counters of one instance, by kind.
///
/// ```
/// use resilience::{Kind, Registry, Stats, TimeoutConfig};
/// let registry = Registry::new();
/// registry.get_or_create("db", TimeoutConfig::default()).unwrap();
/// let snapshot = registry.snapshot();
/// assert!(matches!(snapshot.get(Kind::Timeout, "db").unwrap().stats, Stats::Timeout(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stats {
    /// A circuit breaker's.
    CircuitBreaker(CircuitBreakerStats),
    /// A retry's.
    Retry(RetryStats),
    /// A timeout's.
    Timeout(TimeoutStats),
    /// A bulkhead's.
    Bulkhead(BulkheadStats),
    /// A rate limiter's.
    RateLimiter(RateLimiterStats),
    /// A fallback's.
    Fallback(FallbackStats),
    /// A hedge's.
    Hedge(HedgeStats),
}

impl Stats {
    /// The state in a word or two: a breaker's state, a bulkhead's load; `-` for the rest.
    ///
    /// ```
    /// use resilience::{BulkheadConfig, Kind, Registry};
    /// let registry = Registry::new();
    /// registry.get_or_create("pool", BulkheadConfig::default()).unwrap();
    /// assert_eq!(registry.snapshot().get(Kind::Bulkhead, "pool").unwrap().stats.state(), "0 busy, 0 queued");
    /// ```
    pub fn state(&self) -> String {
        match self {
            Stats::CircuitBreaker(s) => s.state.to_string(),
            Stats::Bulkhead(s) => format!("{} busy, {} queued", s.active, s.queued),
            Stats::Retry(_)
            | Stats::Timeout(_)
            | Stats::RateLimiter(_)
            | Stats::Fallback(_)
            | Stats::Hedge(_) => "-".to_owned(),
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stats::CircuitBreaker(s) => write!(
                f,
                "calls {}, successes {}, failures {}, rejected {}, transitions {}",
                s.calls, s.successes, s.failures, s.rejections, s.transitions
            ),
            Stats::Retry(s) => write!(
                f,
                "calls {}, ok first try {}, ok after retry {}, failed {}, retries {}",
                s.calls,
                s.succeeded_first_try,
                s.succeeded_after_retry,
                s.failed_without_retry + s.failed_after_retry,
                s.retries
            ),
            Stats::Timeout(s) => write!(f, "calls {}, timed out {}", s.calls, s.timeouts),
            Stats::Bulkhead(s) => write!(f, "admitted {}, rejected {}", s.admitted, s.rejections),
            Stats::RateLimiter(s) => {
                write!(
                    f,
                    "admitted {}, waited {}, rejected {}",
                    s.admitted, s.waited, s.rejections
                )
            }
            Stats::Fallback(s) => write!(
                f,
                "calls {}, primary ok {}, recovered {}, declined {}, all failed {}",
                s.calls, s.primary_succeeded, s.recovered, s.declined, s.all_failed
            ),
            Stats::Hedge(s) => write!(
                f,
                "calls {}, hedges {}, won by hedge {}, failed {}",
                s.calls, s.hedges, s.won_by_hedge, s.failed
            ),
        }
    }
}

/// One instance in a [`Snapshot`].
///
/// ```
/// use resilience::{Kind, Registry, RetryConfig};
/// let registry = Registry::new();
/// registry.get_or_create("fetch", RetryConfig::default()).unwrap();
/// let instance = &registry.snapshot().instances[0];
/// assert_eq!((instance.kind, &*instance.name), (Kind::Retry, "fetch"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Instance {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: Arc<str>,
    /// Its counters.
    pub stats: Stats,
}

/// Every instance of a registry at one moment.
///
/// ```
/// use resilience::{CircuitBreakerConfig, Registry};
/// let registry = Registry::new();
/// registry.get_or_create("payments", CircuitBreakerConfig::default()).unwrap();
/// let table = registry.snapshot().to_string();
/// assert!(table.lines().nth(1).unwrap().starts_with("circuit breaker  payments  closed"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The instances, sorted by kind and name.
    pub instances: Vec<Instance>,
}

impl Snapshot {
    /// The instance of `kind` named `name`.
    ///
    /// ```
    /// use resilience::{Kind, Registry, RetryConfig};
    /// let registry = Registry::new();
    /// registry.get_or_create("fetch", RetryConfig::default()).unwrap();
    /// assert!(registry.snapshot().get(Kind::Retry, "fetch").is_some());
    /// assert!(registry.snapshot().get(Kind::Timeout, "fetch").is_none());
    /// ```
    pub fn get(&self, kind: Kind, name: &str) -> Option<&Instance> {
        self.instances
            .iter()
            .find(|i| i.kind == kind && &*i.name == name)
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 4]> = self
            .instances
            .iter()
            .map(|i| {
                [
                    i.kind.to_string(),
                    i.name.to_string(),
                    i.stats.state(),
                    i.stats.to_string(),
                ]
            })
            .collect();
        let header = ["KIND", "NAME", "STATE", "COUNTERS"].map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let [kind, name, state, counters] = row;
            writeln!(
                f,
                "{kind:<w0$}  {name:<w1$}  {state:<w2$}  {counters}",
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )?;
        }
        Ok(())
    }
}
