//! Building images in memory, reproducibly: layer tars from a list of entries, compressed
//! with fixed settings, a config and a manifest; then any writer of this module exports them.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use super::Compression;
use super::export::{BlobSource, ExportImage, ExportLayer};
use crate::digest::Digest;
use crate::error::{Result, StorageError};
use crate::reference::normalize_name;
use crate::spec::{self, Descriptor, ImageConfig, Manifest};

/// Blobs kept in memory, by digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryBlobs {
    blobs: BTreeMap<Digest, Vec<u8>>,
}

impl MemoryBlobs {
    pub fn insert(&mut self, bytes: Vec<u8>) -> Digest {
        let d = Digest::of_bytes(&bytes);
        self.blobs.insert(d.clone(), bytes);
        d
    }

    pub fn get(&self, digest: &Digest) -> Option<&[u8]> {
        self.blobs.get(digest).map(Vec::as_slice)
    }
}

impl BlobSource for MemoryBlobs {
    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>> {
        self.get(digest)
            .map(|b| Box::new(b) as Box<dyn Read + '_>)
            .ok_or_else(|| StorageError::malformed("image", format!("blob {digest} missing")))
    }
}

/// One entry of a layer being built.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Symlink(String),
    HardLink(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    node: Node,
    mode: u32,
    uid: u64,
    gid: u64,
}

/// A layer tar built from entries, written in sorted order with mtime 0 (hard links last, so
/// their targets precede them). Paths are relative (`bin/sh`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerBuilder {
    entries: BTreeMap<String, Entry>,
}

impl LayerBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    fn put(&mut self, path: &str, node: Node, mode: u32) -> &mut Self {
        let path = path.trim_start_matches('/').trim_end_matches('/').to_string();
        self.entries.insert(
            path,
            Entry {
                node,
                mode,
                uid: 0,
                gid: 0,
            },
        );
        self
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.put(path, Node::Dir, mode)
    }

    pub fn file(&mut self, path: &str, mode: u32, data: impl Into<Vec<u8>>) -> &mut Self {
        self.put(path, Node::File(data.into()), mode)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.put(path, Node::Symlink(target.to_string()), 0o777)
    }

    pub fn hard_link(&mut self, path: &str, target: &str) -> &mut Self {
        self.put(path, Node::HardLink(target.trim_start_matches('/').to_string()), 0o644)
    }

    /// Sets the owner of an entry added before.
    pub fn owner(&mut self, path: &str, uid: u64, gid: u64) -> &mut Self {
        if let Some(e) = self.entries.get_mut(path.trim_start_matches('/').trim_end_matches('/')) {
            e.uid = uid;
            e.gid = gid;
        }
        self
    }

    /// The uncompressed tar.
    pub fn to_tar(&self) -> Result<Vec<u8>> {
        let mut b = tar::Builder::new(Vec::new());
        let err = |path: &str| {
            let path = path.to_string();
            move |e: io::Error| StorageError::io("building layer entry", path, e)
        };
        let ordered = self
            .entries
            .iter()
            .filter(|(_, e)| !matches!(e.node, Node::HardLink(_)))
            .chain(self.entries.iter().filter(|(_, e)| matches!(e.node, Node::HardLink(_))));
        for (path, e) in ordered {
            let mut h = tar::Header::new_gnu();
            h.set_mode(e.mode);
            h.set_uid(e.uid);
            h.set_gid(e.gid);
            h.set_mtime(0);
            match &e.node {
                Node::Dir => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{path}/"), io::empty())
                        .map_err(err(path))?;
                }
                Node::File(data) => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(data.len() as u64);
                    b.append_data(&mut h, path, data.as_slice()).map_err(err(path))?;
                }
                Node::Symlink(target) | Node::HardLink(target) => {
                    h.set_entry_type(if matches!(e.node, Node::Symlink(_)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    h.set_size(0);
                    b.append_link(&mut h, path, target).map_err(err(path))?;
                }
            }
        }
        b.into_inner().map_err(err("end of layer"))
    }
}

/// Compresses a layer with fixed settings, so the same input always gives the same blob
/// (gzip: level 6, mtime 0, OS "unknown"; zstd: level 3).
pub fn compress_layer(tar: &[u8], compression: Compression) -> Result<Vec<u8>> {
    let err = |e: io::Error| StorageError::io("compressing layer", "<memory>", e);
    match compression {
        Compression::None => Ok(tar.to_vec()),
        Compression::Gzip => {
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .operating_system(255)
                .write(Vec::new(), flate2::Compression::new(6));
            gz.write_all(tar).map_err(err)?;
            gz.finish().map_err(err)
        }
        Compression::Zstd => zstd::encode_all(tar, 3).map_err(err),
    }
}

/// Builds one image in memory: add layers bottom first, then [`ImageBuilder::build`].
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    config: ImageConfig,
    names: Vec<String>,
    layers: Vec<ExportLayer>,
    blobs: MemoryBlobs,
}

impl ImageBuilder {
    /// Starts from `config`; its `rootfs` is filled in from the layers added.
    pub fn new(mut config: ImageConfig) -> Self {
        config.rootfs = spec::RootFs {
            fs_type: "layers".into(),
            diff_ids: Vec::new(),
        };
        Self {
            config,
            names: Vec::new(),
            layers: Vec::new(),
            blobs: MemoryBlobs::default(),
        }
    }

    /// Adds a name (normalized: `busybox` becomes `localhost/busybox:latest`).
    pub fn name(mut self, name: &str) -> Result<Self> {
        self.names.push(normalize_name(name)?);
        Ok(self)
    }

    /// Adds an uncompressed layer tar, stored compressed as `compression`.
    pub fn layer(mut self, tar: &[u8], compression: Compression) -> Result<Self> {
        let diff_id = Digest::of_bytes(tar);
        let blob = compress_layer(tar, compression)?;
        let size = blob.len() as u64;
        let digest = self.blobs.insert(blob);
        self.config.rootfs.diff_ids.push(diff_id.clone());
        self.layers.push(ExportLayer {
            blob: digest,
            media_type: spec::oci_layer_media_type(compression).to_string(),
            size,
            diff_id,
            uncompressed_size: tar.len() as u64,
        });
        Ok(self)
    }

    /// Serializes config and manifest; returns the image and all its blobs.
    pub fn build(mut self) -> Result<(ExportImage, MemoryBlobs)> {
        let config = spec::to_json(&self.config, "image config")?;
        let config_digest = self.blobs.insert(config.clone());
        let layers = self
            .layers
            .iter()
            .map(|l| Descriptor::new(l.media_type.clone(), l.blob.clone(), l.size))
            .collect();
        let manifest = Manifest::oci(config_digest.clone(), config.len() as u64, layers);
        let manifest = spec::to_json(&manifest, "manifest")?;
        let manifest_digest = self.blobs.insert(manifest.clone());
        Ok((
            ExportImage {
                names: self.names,
                manifest,
                manifest_digest,
                manifest_media_type: spec::MEDIA_TYPE_OCI_MANIFEST.to_string(),
                config,
                config_digest,
                layers: self.layers,
            },
            self.blobs,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_reproducible_and_ordered() {
        let mut l = LayerBuilder::new();
        l.hard_link("a/link", "z/target")
            .file("z/target", 0o644, "x")
            .dir("a", 0o755)
            .dir("z", 0o755)
            .symlink("a/sym", "/z/target");
        let t1 = l.to_tar().unwrap();
        assert_eq!(t1, l.clone().to_tar().unwrap());
        let mut ar = tar::Archive::new(&t1[..]);
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a/", "a/sym", "z/", "z/target", "a/link"]);
        let g1 = compress_layer(&t1, Compression::Gzip).unwrap();
        assert_eq!(g1, compress_layer(&t1, Compression::Gzip).unwrap());
        assert_eq!(&g1[4..8], &[0, 0, 0, 0], "gzip mtime must be zero");
    }
}
