//! The events themselves.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Human;
use crate::{CircuitState, Error, Kind};

/// Something a policy instance did besides letting a call through: see
/// [`events`](crate::events).
///
/// ```
/// use resilience::events::{Detail, Event};
/// use resilience::{Bulkhead, BulkheadConfig, Error, Kind};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bulkhead = Bulkhead::new("db", BulkheadConfig::DEFAULT.max_concurrent(1).max_wait(std::time::Duration::ZERO)).unwrap();
/// let mut events = bulkhead.subscribe();
/// bulkhead.call(|| async {
///     let _ = bulkhead.call(|| async { Ok::<_, Error>(()) }).await; // no slot left
///     Ok::<_, Error>(())
/// }).await.unwrap();
/// let Event { name, kind, detail, .. } = events.try_recv().unwrap();
/// assert_eq!((&*name, kind), ("db", Kind::Bulkhead));
/// assert!(matches!(detail, Detail::Rejected { error: Error::BulkheadFull { max_concurrent: 1, .. } }));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// The instance's name.
    pub name: Arc<str>,
    /// The instance's kind.
    pub kind: Kind,
    /// What happened.
    pub detail: Detail,
}

impl Event {
    /// An event of the instance `name` of `kind`; for tests of code that reads events.
    ///
    /// ```
    /// use resilience::events::{Detail, Event};
    /// let event = Event::new("db".into(), resilience::Kind::Bulkhead, Detail::Waited { waited: std::time::Duration::from_millis(5) });
    /// assert_eq!(&*event.name, "db");
    /// ```
    pub fn new(name: Arc<str>, kind: Kind, detail: Detail) -> Self {
        Self { name, kind, detail }
    }
}

/// What happened, by event. More kinds of event will be added (fallbacks, hedges), so a
/// `match` needs a `_` arm.
///
/// ```
/// use resilience::events::Detail;
/// fn describe(detail: &Detail) -> String {
///     match detail {
///         Detail::StateChanged { from, to } => format!("{from} -> {to}"),
///         Detail::Rejected { error } => format!("rejected: {error}"),
///         Detail::Retrying { attempt, delay, .. } => format!("attempt {attempt} failed, next in {delay:?}"),
///         Detail::TimedOut { after } => format!("timed out after {after:?}"),
///         Detail::Waited { waited } => format!("waited {waited:?}"),
///         _ => "something new".to_owned(),
///     }
/// }
/// assert_eq!(describe(&Detail::TimedOut { after: std::time::Duration::from_secs(1) }), "timed out after 1s");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// A circuit breaker went from one state to another: opened by failures or by hand,
    /// half-open when the first call after the recovery timeout arrives, closed by probes
    /// or by `reset`, disabled by hand.
    StateChanged {
        /// The state it left.
        from: CircuitState,
        /// The state it is in now.
        to: CircuitState,
    },
    /// A circuit breaker, bulkhead or rate limiter turned a call away; `error` is what the
    /// call received: why (its variant, a breaker's state) and when to try again
    /// ([`Error::retry_after`]).
    Rejected {
        /// The rejection.
        error: Error,
    },
    /// A retry's attempt failed and the next one starts after `delay`.
    Retrying {
        /// The attempt that failed, counting from 1.
        attempt: u32,
        /// The wait before the next attempt.
        delay: Duration,
        /// The failed attempt's error as its `Display` writes it (for an error type
        /// without `Display`, as `Debug` writes it, else its type's name).
        error: Arc<str>,
    },
    /// A timeout cut a call short.
    TimedOut {
        /// The limit the call exceeded.
        after: Duration,
    },
    /// A bulkhead or rate limiter let a call through after it waited for a slot or a
    /// permit (a call that waited in vain is [`Rejected`](Detail::Rejected)).
    Waited {
        /// How long it waited.
        waited: Duration,
    },
    /// A fallback's call failed with an error it falls back on, and fallback `step` of its
    /// chain runs (counting from 1: the first fallback after the call itself).
    FellBack {
        /// The fallback that runs now, counting from 1.
        step: u32,
    },
    /// A hedge started another attempt beside those running (or after they failed):
    /// attempt `attempt`, counting the call itself as 1.
    Hedged {
        /// The attempt started, counting from 1.
        attempt: u32,
    },
    /// The instance runs with a new configuration from now on (a reload through
    /// `Registry::apply`, feature `config`, or the policy's own `reconfigure`); calls
    /// already running finish with the one they started with. An instance not yet in use
    /// announces the config a document gives it too, to the registry's subscribers.
    Reconfigured {
        /// The fields that changed, as `field: old -> new`, comma separated.
        changes: Arc<str>,
    },
    /// A breaker or limiter shared by many processes lost its shared state
    /// (`available == false`: the store is unreachable and the instance follows its
    /// fallback mode) or found it again.
    SharedState {
        /// Whether the shared state is reachable now.
        available: bool,
    },
}

/// One line, naming the instance.
///
/// ```
/// use resilience::events::{Detail, Event};
/// use resilience::Kind;
/// let event = Event::new("db".into(), Kind::Timeout, Detail::TimedOut { after: std::time::Duration::from_secs(2) });
/// assert_eq!(event.to_string(), "timeout `db` cut a call short after 2s");
/// ```
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Event { name, kind, detail } = self;
        match detail {
            Detail::StateChanged { from, to } => {
                write!(f, "{kind} `{name}` went from {from} to {to}")
            }
            Detail::Rejected { error } => write!(f, "{error}"),
            Detail::Retrying {
                attempt,
                delay,
                error,
            } => write!(
                f,
                "{kind} `{name}`: attempt {attempt} failed ({error}), next in {}",
                Human(*delay)
            ),
            Detail::TimedOut { after } => {
                write!(
                    f,
                    "{kind} `{name}` cut a call short after {}",
                    Human(*after)
                )
            }
            Detail::Waited { waited } => {
                write!(
                    f,
                    "{kind} `{name}` let a call through after {}",
                    Human(*waited)
                )
            }
            Detail::FellBack { step } => write!(f, "{kind} `{name}`: falling back to step {step}"),
            Detail::Hedged { attempt } => write!(f, "{kind} `{name}` started attempt {attempt}"),
            Detail::Reconfigured { changes } => {
                write!(f, "{kind} `{name}` reconfigured: {changes}")
            }
            Detail::SharedState { available: false } => {
                write!(f, "{kind} `{name}` lost its shared state and falls back")
            }
            Detail::SharedState { available: true } => {
                write!(f, "{kind} `{name}` is back on its shared state")
            }
        }
    }
}
