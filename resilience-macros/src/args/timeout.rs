//! `#[timeout]`'s keys: one duration, usually written first without its key.

use super::value::ValueKind;
use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "timeout",
    config: "TimeoutConfig",
    layer: Layer::Once,
    positional: Some("duration"),
    required: &["duration"],
    example: "#[timeout(\"5s\")]` or `#[timeout(duration = \"5s\")]",
    keys: &[Key::setter("duration", ValueKind::Duration)],
};
