//! `#[hedge]`'s keys.

use super::value::{ValueKind, U32};
use super::{Key, Layer, Table};

pub(crate) const TABLE: Table = Table {
    attribute: "hedge",
    config: "HedgeConfig",
    layer: Layer::Hedge,
    positional: None,
    required: &[],
    example: "#[hedge(delay = \"100ms\", max_attempts = 2)]",
    keys: &[
        Key::setter("delay", ValueKind::Duration),
        Key::setter("max_attempts", U32),
    ],
};
