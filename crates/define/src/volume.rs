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
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// Where the volume's data lives on the host (`.../volumes/NAME/_data`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mount_point: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`type`, `device`, `o`, `size`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    pub created_time: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    pub lock_id: u32,
    /// Made for one container from an image VOLUME; removed with it (`rm -v`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
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
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_copy_up: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_chown: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub copied_up: bool,
}
