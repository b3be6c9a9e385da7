//! `#[rate_limit]`'s keys.

use super::value::{ValueKind, U32, USIZE};
use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "rate_limit",
    config: "RateLimiterConfig",
    layer: Layer::Once,
    positional: None,
    required: &["max_requests", "window"],
    example: "#[rate_limit(max_requests = 100, window = \"1m\")]",
    keys: &[
        Key::setter("max_requests", U32),
        Key::setter("window", ValueKind::Duration),
        Key::setter(
            "algorithm",
            ValueKind::Choice {
                ty: "Algorithm",
                words: &[
                    ("token_bucket", "TokenBucket"),
                    ("sliding_window", "SlidingWindow"),
                    ("fixed_window", "FixedWindow"),
                ],
            },
        ),
        Key::setter("burst", U32),
        Key::setter("max_wait", ValueKind::Duration),
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
