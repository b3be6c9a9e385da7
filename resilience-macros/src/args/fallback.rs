//! `#[fallback]`'s keys: the fallbacks themselves, written first without a key, in the
//! order they are tried.

use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "fallback",
    config: "FallbackConfig",
    layer: Layer::Fallback,
    positional: Some("fallback"),
    required: &["fallback"],
    example: "#[fallback(from_cache)]` or `#[fallback(from_cache, from_replica)]",
    keys: &[
        Key::chain("fallback", "async fn(arguments.., E) -> Result<T, E>"),
        Key::hook("fallback_if", "fn(&E) -> bool", "predicate", "|_: &_| true"),
    ],
};
