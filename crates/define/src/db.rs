//! The paths a state store records on first open and checks on every later one.

use serde::{Deserialize, Serialize};

/// libpod's DBConfig: where everything the store refers to lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DbConfig {
    /// `--root`/libpod: bundles and persistent per-container files.
    pub static_dir: String,
    /// `--runroot`/libpod/tmp: volatile per-boot files.
    pub tmp_dir: String,
    /// Storage root (`--root`).
    pub graph_root: String,
    /// Storage run root (`--runroot`).
    pub run_root: String,
    /// `overlay` or `vfs`.
    pub graph_driver: String,
    pub volume_path: String,
}
