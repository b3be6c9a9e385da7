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
        Key::setter("failure_threshold", U32),
        Key::setter("success_threshold", U32),
        Key::setter("recovery_timeout", ValueKind::Duration),
        Key::setter("half_open_max_calls", U32),
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
