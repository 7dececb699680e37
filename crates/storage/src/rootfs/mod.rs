//! Container root filesystems: a writable layer per container on top of its image's layers.
//!
//! ```text
//! <root>/containers/containers.json      the index (records below), replaced atomically
//! <root>/containers/<id>/upper, work     overlay: the container's own changes
//! <root>/containers/<id>/merged          overlay: the mount point; vfs: the flattened copy
//! <run root>/containers/mounts.lock      flock held while a mount count changes
//! <run root>/containers/<id>.mounts      how many users have the filesystem mounted
//! ```
//!
//! Two drivers, chosen per store like storage.conf's `driver`: `overlay` stacks the image's
//! layer directories read-only under the container's upper dir; `vfs` copies the image into
//! the container's own directory, applying the layers' whiteouts, for hosts without overlayfs.
//!
//! Mounting is counted, so two users of one container's filesystem do not unmount each
//! other; counts live in the run root and a count that disagrees with the kernel's mount
//! table (a process killed between mounting and counting) is repaired on the next use.

mod changes;
mod copy;
mod diff;
mod mount;
mod store;
mod tarball;
mod view;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

pub use changes::apply_changes;
pub(crate) use copy::copy_tree_contents;
pub use diff::{Change, ChangeKind};
pub(crate) use mount::{is_mount_point, unmount};

/// How container root filesystems are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    /// overlayfs: the image's layers as lower dirs, the container's changes in its upper dir.
    Overlay,
    /// A full copy of the image per container; needs no kernel support.
    Vfs,
}

impl Driver {
    /// overlay when this process can mount overlayfs (root, and the kernel knows it), else vfs.
    pub fn detect() -> Driver {
        let known = std::fs::read_to_string("/proc/filesystems")
            .map(|s| s.lines().any(|l| l.split_whitespace().last() == Some("overlay")))
            .unwrap_or(false);
        if known && crate::fsutil::is_root() {
            Driver::Overlay
        } else {
            Driver::Vfs
        }
    }

    /// The name storage.conf and `podman info` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Overlay => "overlay",
            Driver::Vfs => "vfs",
        }
    }
}

impl std::str::FromStr for Driver {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Driver> {
        match s {
            "overlay" | "overlay2" => Ok(Driver::Overlay),
            "vfs" => Ok(Driver::Vfs),
            other => Err(StorageError::Unsupported {
                what: "storage driver".into(),
                value: other.to_string(),
            }),
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container's root filesystem as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerFsRecord {
    pub id: String,
    pub names: Vec<String>,
    /// The image it was made from (ID).
    pub image_id: String,
    /// The image's layers (chain IDs, bottom first), kept here so mounting reads no image.
    #[serde(default)]
    pub layers: Vec<crate::digest::Digest>,
    /// RFC 3339.
    pub created: String,
    pub driver: Driver,
    /// Free text for the caller (podman keeps a JSON blob here).
    pub metadata: String,
}

/// What [`ContainerFsStore::commit`] records in the new image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitOptions {
    /// A name for the new image (normalized like `tag`); none leaves it unnamed.
    pub name: Option<String>,
    pub author: Option<String>,
    /// The history entry's comment (`--message`).
    pub message: Option<String>,
    /// The history entry's `created_by`.
    pub created_by: Option<String>,
    /// Dockerfile instructions applied to the config (`--change`).
    pub changes: Vec<String>,
}

/// What [`crate::ImageStore::import`] records in the new image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    pub name: Option<String>,
    /// The history entry's comment (`--message`).
    pub message: Option<String>,
    /// Dockerfile instructions applied to the config (`--change`).
    pub changes: Vec<String>,
}

/// The store of container root filesystems (podman's storage containers).
///
/// Mounting happens in the caller's mount namespace.
pub trait ContainerFsStore {
    /// Makes a root filesystem for a new container from `image` (any reference `lookup`
    /// takes). An empty `id` gets a new random one. Names must be unique among containers.
    fn create_container(&self, id: &str, image: &str, names: &[String], metadata: &str) -> Result<ContainerFsRecord>;
    /// One container by full ID, unique ID prefix or name.
    fn container(&self, reference: &str) -> Result<ContainerFsRecord>;
    /// Every container of the store (`ps --external` shows those the state DB lacks).
    fn containers(&self) -> Result<Vec<ContainerFsRecord>>;
    /// Removes the container and its directories; refused while mounted unless `force`
    /// (which unmounts first).
    fn remove_container(&self, reference: &str, force: bool) -> Result<()>;
    /// Gives the container these names (a rename); refused when another container
    /// has one of them.
    fn set_names(&self, reference: &str, names: &[String]) -> Result<()>;
    /// Mounts the root filesystem (or counts one more user) and returns its path.
    fn mount(&self, reference: &str) -> Result<PathBuf>;
    /// One user fewer; the last one unmounts. `force` unmounts whatever the count.
    /// Returns how many users remain.
    fn unmount(&self, reference: &str, force: bool) -> Result<u32>;
    /// How many users have the filesystem mounted (repairing a stale count first).
    fn mount_count(&self, reference: &str) -> Result<u32>;
    /// Where the root filesystem is (or will be) mounted.
    fn mount_path(&self, reference: &str) -> Result<PathBuf>;
    /// `podman diff`: what the container changed against its image, sorted by path.
    fn diff(&self, reference: &str) -> Result<Vec<Change>>;
    /// `podman export`: the whole filesystem as a tar, in a deterministic order.
    fn export(&self, reference: &str, out: &mut dyn Write) -> Result<()>;
    /// `podman commit`: the container's changes as a new layer on its image; returns the
    /// new image's ID.
    fn commit(&self, reference: &str, options: &CommitOptions) -> Result<String>;
}

/// `<root>/containers/<id>`.
pub(crate) fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}
