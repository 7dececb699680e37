//! Images: records, lookup, and the operations podman offers on them.

mod inspect;
mod lookup;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use inspect::{
    GraphDriver, HistoryEntry, ImageInspect, ImageSummary, ImageTree, InspectHistory, RootFsInfo, TreeLayer,
    history_entries, inspect_image, summarize_image, tree_of,
};
pub use lookup::{Match, MatchedBy, lookup};

use crate::archive::ArchiveFormat;
use crate::digest::Digest;
use crate::error::Result;
use crate::spec::ImageConfig;

/// A stored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// The config digest's hex: the image ID.
    pub id: String,
    /// Fully qualified names (`localhost/busybox:latest`), newest first.
    pub names: Vec<String>,
    /// Every name the image ever had, newest first (podman's NamesHistory).
    pub names_history: Vec<String>,
    /// The manifest digest.
    pub digest: Digest,
    pub manifest_media_type: String,
    pub config_digest: Digest,
    /// From the config (RFC 3339), if it says.
    pub created: Option<String>,
    /// When it was stored here (RFC 3339).
    pub loaded: String,
    /// Sum of the uncompressed layer sizes.
    pub size: u64,
    pub labels: BTreeMap<String, String>,
    /// Bottom layer first.
    pub layers: Vec<ImageLayer>,
}

impl ImageRecord {
    /// Chain ID of the top layer (none for an image without layers).
    pub fn top_layer(&self) -> Option<&Digest> {
        self.layers.last().map(|l| &l.chain_id)
    }
}

/// One layer of an image as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLayer {
    pub chain_id: Digest,
    pub diff_id: Digest,
    /// The (possibly compressed) blob.
    pub blob: Digest,
    pub media_type: String,
    pub blob_size: u64,
}

/// What `remove` should do with an image that containers use or that has several names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoveOptions {
    /// Remove even when in use or referenced by ID with several names.
    pub force: bool,
}

/// What `remove` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoveReport {
    pub untagged: Vec<String>,
    /// The image ID, when the image itself was deleted (not just untagged).
    pub deleted: Option<String>,
    /// Chain IDs of layers deleted with it.
    pub removed_layers: Vec<Digest>,
}

/// The image half of the store.
///
/// `in_use` arguments are the image IDs of existing containers (one entry per container),
/// since this crate does not know the state DB's containers. The store's own container
/// filesystems ([`crate::rootfs`]) count as users too: `remove` refuses an image they use
/// unless forced, and then removes them first, as `podman rmi -f` does.
pub trait ImageStore {
    /// Loads every image of an archive or layout (format detected when `None`); returns
    /// their IDs. All or nothing: on error no image, blob or layer of it is left behind.
    fn load(&self, source: &Path, format: Option<ArchiveFormat>) -> Result<Vec<String>>;
    /// Writes the images `references` name to `dest` (a file, or a directory for `OciDir`).
    fn save(&self, references: &[&str], format: ArchiveFormat, dest: &Path) -> Result<()>;
    fn list(&self) -> Result<Vec<ImageRecord>>;
    /// Finds an image by name, short name, `name@digest`, full ID or unique ID prefix.
    fn lookup(&self, reference: &str) -> Result<ImageRecord>;
    fn exists(&self, reference: &str) -> Result<bool>;
    fn config(&self, reference: &str) -> Result<ImageConfig>;
    /// podman's `image inspect` document.
    fn inspect(&self, reference: &str) -> Result<ImageInspect>;
    /// podman's `images --format json` rows.
    fn summaries(&self, in_use: &[String]) -> Result<Vec<ImageSummary>>;
    /// Adds `name` (normalized) to the image; another image holding it loses it.
    fn tag(&self, reference: &str, name: &str) -> Result<()>;
    /// Removes `name`, or every name when `None`; returns the names removed.
    fn untag(&self, reference: &str, name: Option<&str>) -> Result<Vec<String>>;
    fn remove(&self, reference: &str, opts: RemoveOptions, in_use: &[String]) -> Result<RemoveReport>;
    /// Removes images without names that no container uses; returns their IDs.
    fn prune_dangling(&self, in_use: &[String]) -> Result<Vec<String>>;
    /// podman's `image history`, newest first.
    fn history(&self, reference: &str) -> Result<Vec<HistoryEntry>>;
    /// podman's `image tree`.
    fn tree(&self, reference: &str) -> Result<ImageTree>;
    /// The image's layer directories, top first: overlayfs `lowerdir` order.
    fn layer_dirs(&self, reference: &str) -> Result<Vec<PathBuf>>;
    /// `podman import`: a tarball of a filesystem (plain, gzip or zstd) as a new one-layer
    /// image; returns its ID.
    fn import(&self, source: &Path, options: &crate::rootfs::ImportOptions) -> Result<String>;
}
