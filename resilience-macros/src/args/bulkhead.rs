//! `#[bulkhead]`'s keys.

use super::value::{ValueKind, USIZE};
use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "bulkhead",
    config: "BulkheadConfig",
    layer: Layer::Once,
    positional: None,
    required: &[],
    example: "#[bulkhead(max_concurrent = 10, max_wait = \"5s\")]",
    keys: &[
        Key::setter("max_concurrent", USIZE),
        Key::setter("max_wait", ValueKind::Duration),
        Key::setter("max_queued", USIZE),
    ],
};
