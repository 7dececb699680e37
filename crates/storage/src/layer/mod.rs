//! Layers: each unpacked once into its own directory, keyed by chain ID, and shared by
//! every image whose stack contains it.
//!
//! A layer directory (`<root>/layers/<chain hex>/diff`) holds that layer's own
//! files with deletions in overlayfs form (see [`crate::archive::unpack_layer`]),
//! so an image's root filesystem is `lowerdir=<top diff>:...:<bottom diff>`.
//! A layer is used by the images that list it; when the last one goes, so does the layer.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::Result;

/// One unpacked layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// The chain ID: the layer together with everything below it.
    pub id: Digest,
    /// sha256 of this layer's uncompressed tar.
    pub diff_id: Digest,
    /// Chain ID of the layer below, if any.
    pub parent: Option<Digest>,
    /// Length of the uncompressed tar.
    pub size: u64,
    /// When it was unpacked (RFC 3339).
    pub created: String,
}

/// Read access to the unpacked layers.
pub trait LayerStore {
    /// Every layer, in no particular order.
    fn layers(&self) -> Result<Vec<LayerRecord>>;
    /// One layer by chain ID (`sha256:<hex>` or the bare hex).
    fn layer(&self, id: &str) -> Result<LayerRecord>;
    /// The directory holding the layer's files: an overlayfs lower directory.
    fn layer_dir(&self, id: &Digest) -> PathBuf;
    /// IDs of the images that use the layer (it lives as long as this is not empty).
    fn layer_users(&self, id: &Digest) -> Result<Vec<String>>;
}
