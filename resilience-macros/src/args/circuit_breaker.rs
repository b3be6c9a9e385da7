//! `#[circuit_breaker]`'s keys.

use super::value::{ValueKind, U32, USIZE};
use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "circuit_breaker",
    config: "CircuitBreakerConfig",
    layer: Layer::Once,
    positional: None,
    required: &[],
    example: "#[circuit_breaker(failure_threshold = 5, recovery_timeout = \"30s\")]",
    keys: &[
        Key::setter("failure_threshold", U32).excludes(
            &["failure_rate_threshold"],
            ": a failure rate replaces the count of consecutive failures",
        ),
        Key::setter("success_threshold", U32),
        Key::setter("recovery_timeout", ValueKind::Duration),
        Key::setter("half_open_max_calls", U32),
        Key::setter("failure_rate_threshold", ValueKind::Percent),
        Key::setter("slow_call_duration", ValueKind::Duration),
        Key::setter("slow_call_rate_threshold", ValueKind::Percent).needs(
            &["slow_call_duration"],
            ", the duration beyond which a call is slow",
        ),
        Key::setter("sliding_window", ValueKind::Window).needs(RATE_RULES, WHY_RULE),
        Key::setter("minimum_calls", U32).needs(RATE_RULES, WHY_RULE),
        Key::setter("recovery_backoff", ValueKind::Number),
        Key::setter("max_recovery_timeout", ValueKind::Duration).needs(
            &["recovery_backoff"],
            ": it caps the growth of the open duration that `recovery_backoff` sets",
        ),
        Key::hook("failure_if", "fn(&E) -> bool", "predicate", "|_: &_| true"),
        Key::keying(),
        Key::keyed("max_keys", USIZE),
        Key::keyed(
            "when_full",
            ValueKind::Choice {
                ty: "WhenFull",
                words: &[
                    ("evict_least_recently_used", "EvictLeastRecentlyUsed"),
                    ("reject_new_key", "RejectNewKey"),
                ],
            },
        ),
    ],
};

/// The rules that compute rates over the window.
const RATE_RULES: &[&str] = &["failure_rate_threshold", "slow_call_duration"];
const WHY_RULE: &str = ": the window is kept only for a rule that computes a rate over it";
