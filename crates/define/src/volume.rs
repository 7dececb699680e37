//! A named volume's record: [`VolumeConfig`] and [`VolumeState`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The driver podman calls `local`: a directory (or a mounted device) on this host.
pub const LOCAL_DRIVER: &str = "local";

/// Everything fixed when a volume is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct VolumeConfig {
    pub name: String,
    pub driver: String,
    /// Where the volume's data lives on the host (`.../volumes/NAME/_data`).
    pub mount_point: String,
    pub labels: BTreeMap<String, String>,
    /// Driver options (`type`, `device`, `o`, `size`, ...).
    pub options: BTreeMap<String, String>,
    pub created_time: DateTime<Utc>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub lock_id: u32,
    /// Made for one container from an image VOLUME; removed with it (`rm -v`).
    pub is_anon: bool,
    pub size: u64,
    pub inodes: u64,
}

/// Everything about a volume that changes while it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct VolumeState {
    /// How many containers have the volume mounted now.
    pub mount_count: u32,
    /// The image content at the mount point has not yet been copied in.
    pub needs_copy_up: bool,
    pub needs_chown: bool,
    pub copied_up: bool,
}
