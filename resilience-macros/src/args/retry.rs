//! `#[retry]`'s keys.

use super::value::{ValueKind, U32};
use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "retry",
    config: "RetryConfig",
    layer: Layer::Retry,
    positional: None,
    required: &[],
    example: "#[retry(max_attempts = 3, base_delay = \"100ms\")]",
    keys: &[
        Key::setter("max_attempts", U32),
        Key::setter("base_delay", ValueKind::Duration),
        Key::setter("max_delay", ValueKind::Duration),
        Key::setter("exponential_base", ValueKind::Number),
        Key::setter(
            "backoff",
            ValueKind::Choice {
                ty: "Backoff",
                words: &[
                    ("exponential", "Exponential"),
                    ("linear", "Linear"),
                    ("constant", "Constant"),
                ],
            },
        ),
        Key::setter(
            "jitter",
            ValueKind::Switch {
                ty: "Jitter",
                words: &[("full", "Full"), ("equal", "Equal"), ("none", "None")],
                on: "Full",
                off: "None",
            },
        ),
        Key::setter("max_elapsed", ValueKind::Duration),
        Key::hook("retry_if", "fn(&E) -> bool", "predicate", "|_: &_| true"),
        Key::hook(
            "retry_after",
            "fn(&E) -> Option<Duration>",
            "hint",
            "|_: &_| ::core::option::Option::None",
        ),
    ],
};
