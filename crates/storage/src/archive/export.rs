//! Writing images as an OCI layout directory, an oci-archive or a docker-archive.
//!
//! Output is deterministic: entries in a fixed order, every tar header with
//! mtime 0, uid/gid 0 and fixed modes, JSON serialized in a fixed field order.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use super::decompress;
use crate::digest::Digest;
use crate::error::{Result, StorageError};
use crate::reference::{repo_of, tag_of};
use crate::spec::{self, Descriptor, DockerArchiveEntry, Index, Manifest, OciLayout};

/// Where an exporter reads blobs from (the store, or memory).
pub trait BlobSource {
    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>>;
}

/// One image to export, with the names to record for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportImage {
    pub names: Vec<String>,
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub layers: Vec<ExportLayer>,
}

/// One layer of an [`ExportImage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLayer {
    /// The blob as stored (possibly compressed).
    pub blob: Digest,
    pub media_type: String,
    pub size: u64,
    /// Digest and length of the uncompressed tar.
    pub diff_id: Digest,
    pub uncompressed_size: u64,
}

fn tar_err(what: &str) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |e| StorageError::io("writing archive entry", what, e)
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_dir<W: Write>(b: &mut tar::Builder<W>, path: &str) -> Result<()> {
    let mut h = header(tar::EntryType::Directory, 0o755, 0);
    b.append_data(&mut h, path, io::empty()).map_err(tar_err(path))
}

fn append_bytes<W: Write>(b: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> Result<()> {
    let mut h = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
    b.append_data(&mut h, path, bytes).map_err(tar_err(path))
}

/// Appends exactly `size` bytes from `reader`, failing if it has fewer or more.
fn append_exact<W: Write>(b: &mut tar::Builder<W>, path: &str, size: u64, reader: impl Read) -> Result<()> {
    let mut h = header(tar::EntryType::Regular, 0o644, size);
    let mut exact = ExactReader {
        inner: reader,
        remaining: size,
    };
    b.append_data(&mut h, path, &mut exact).map_err(tar_err(path))
}

/// Yields exactly `remaining` bytes of `inner`, or an error: a tar entry whose data is shorter
/// or longer than its header would corrupt the archive.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(io::ErrorKind::InvalidData, "blob longer than recorded")),
            };
        }
        let want = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "blob shorter than recorded",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The OCI form of a docker manifest (same blobs, OCI media types), or the manifest itself.
fn oci_manifest(image: &ExportImage) -> Result<(Vec<u8>, Digest)> {
    if image.manifest_media_type != spec::MEDIA_TYPE_DOCKER_MANIFEST {
        return Ok((image.manifest.clone(), image.manifest_digest.clone()));
    }
    let mut m: Manifest = spec::parse_json(&image.manifest, "manifest")?;
    m.media_type = Some(spec::MEDIA_TYPE_OCI_MANIFEST.to_string());
    m.config.media_type = spec::MEDIA_TYPE_OCI_CONFIG.to_string();
    for l in &mut m.layers {
        l.media_type = match l.media_type.as_str() {
            spec::MEDIA_TYPE_DOCKER_LAYER => spec::MEDIA_TYPE_OCI_LAYER.to_string(),
            spec::MEDIA_TYPE_DOCKER_LAYER_GZIP => spec::MEDIA_TYPE_OCI_LAYER_GZIP.to_string(),
            other => other.to_string(),
        };
    }
    let bytes = spec::to_json(&m, "manifest")?;
    let digest = Digest::of_bytes(&bytes);
    Ok((bytes, digest))
}

/// The index.json, and every blob to write (manifests and configs in memory, layers by digest).
struct OciLayoutPlan {
    index: Vec<u8>,
    small: BTreeMap<Digest, Vec<u8>>,
    layers: BTreeSet<Digest>,
}

fn plan_oci(images: &[ExportImage]) -> Result<OciLayoutPlan> {
    let mut manifests = Vec::new();
    let mut small = BTreeMap::new();
    let mut layers = BTreeSet::new();
    for image in images {
        let (manifest, digest) = oci_manifest(image)?;
        let descriptor = |name: Option<&String>| Descriptor {
            media_type: spec::MEDIA_TYPE_OCI_MANIFEST.to_string(),
            digest: digest.clone(),
            size: manifest.len() as u64,
            platform: None,
            annotations: name
                .map(|n| BTreeMap::from([(spec::ANNOTATION_REF_NAME.to_string(), n.clone())]))
                .unwrap_or_default(),
        };
        if image.names.is_empty() {
            manifests.push(descriptor(None));
        }
        for n in &image.names {
            manifests.push(descriptor(Some(n)));
        }
        small.insert(digest.clone(), manifest.clone());
        small.insert(image.config_digest.clone(), image.config.clone());
        layers.extend(image.layers.iter().map(|l| l.blob.clone()));
    }
    let index = Index {
        schema_version: 2,
        media_type: Some(spec::MEDIA_TYPE_OCI_INDEX.to_string()),
        manifests,
        annotations: BTreeMap::new(),
    };
    Ok(OciLayoutPlan {
        index: spec::to_json(&index, "index.json")?,
        small,
        layers,
    })
}

fn oci_layout_file() -> Result<Vec<u8>> {
    spec::to_json(
        &OciLayout {
            image_layout_version: "1.0.0".into(),
        },
        "oci-layout",
    )
}

/// Writes `images` as an oci-archive (a tar of an OCI image layout) to `out`.
pub fn write_oci_archive<W: Write>(out: W, images: &[ExportImage], blobs: &dyn BlobSource) -> Result<W> {
    let plan = plan_oci(images)?;
    let mut b = tar::Builder::new(out);
    append_dir(&mut b, "blobs/")?;
    append_dir(&mut b, "blobs/sha256/")?;
    let mut all: BTreeSet<&Digest> = plan.small.keys().collect();
    all.extend(plan.layers.iter());
    let sizes: BTreeMap<&Digest, u64> = images
        .iter()
        .flat_map(|i| i.layers.iter().map(|l| (&l.blob, l.size)))
        .collect();
    for d in all {
        let path = format!("blobs/sha256/{}", d.hex());
        match plan.small.get(d) {
            Some(bytes) => append_bytes(&mut b, &path, bytes)?,
            None => {
                let size = sizes.get(d).copied().unwrap_or(0);
                append_exact(&mut b, &path, size, blobs.open_blob(d)?)?;
            }
        }
    }
    append_bytes(&mut b, "index.json", &plan.index)?;
    append_bytes(&mut b, "oci-layout", &oci_layout_file()?)?;
    b.into_inner().map_err(tar_err("end of archive"))
}

/// Writes `images` as an OCI image layout in `dir` (created if missing; an existing
/// `index.json` is replaced).
pub fn write_oci_dir(dir: &Path, images: &[ExportImage], blobs: &dyn BlobSource) -> Result<()> {
    let plan = plan_oci(images)?;
    let blob_dir = dir.join("blobs").join("sha256");
    crate::fsutil::create_dir_all(&blob_dir)?;
    for (d, bytes) in &plan.small {
        crate::fsutil::write_atomic(&blob_dir.join(d.hex()), bytes)?;
    }
    for d in &plan.layers {
        let path = blob_dir.join(d.hex());
        let tmp = blob_dir.join(crate::fsutil::unique_name(".tmp"));
        let result = (|| {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(|e| StorageError::io("creating", &tmp, e))?;
            let mut w = BufWriter::new(file);
            io::copy(&mut blobs.open_blob(d)?, &mut w).map_err(|e| StorageError::io("writing", &tmp, e))?;
            w.into_inner()
                .map_err(|e| StorageError::io("writing", &tmp, e.into_error()))?;
            fs::rename(&tmp, &path).map_err(|e| StorageError::io("renaming into place", &path, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result?;
    }
    crate::fsutil::write_atomic(&dir.join("oci-layout"), &oci_layout_file()?)?;
    crate::fsutil::write_atomic(&dir.join("index.json"), &plan.index)
}

/// Writes `images` as a docker-archive (`manifest.json`, `<config>.json`, `<diff id>.tar`,
/// `repositories`), as `podman save` does; layers are written uncompressed.
pub fn write_docker_archive<W: Write>(out: W, images: &[ExportImage], blobs: &dyn BlobSource) -> Result<W> {
    let mut b = tar::Builder::new(out);
    let mut written_layers = BTreeSet::new();
    let mut written_configs = BTreeSet::new();
    let mut entries = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for image in images {
        for l in &image.layers {
            if written_layers.insert(l.diff_id.clone()) {
                let (_, reader) = decompress(blobs.open_blob(&l.blob)?)?;
                let path = format!("{}.tar", l.diff_id.hex());
                append_exact(&mut b, &path, l.uncompressed_size, reader)?;
            }
        }
        let config_path = format!("{}.json", image.config_digest.hex());
        if written_configs.insert(image.config_digest.clone()) {
            append_bytes(&mut b, &config_path, &image.config)?;
        }
        if let Some(top) = image.layers.last() {
            for n in &image.names {
                if let Some(tag) = tag_of(n) {
                    repositories
                        .entry(repo_of(n).to_string())
                        .or_default()
                        .insert(tag.to_string(), top.diff_id.hex().to_string());
                }
            }
        }
        entries.push(DockerArchiveEntry {
            config: config_path,
            repo_tags: if image.names.is_empty() {
                None
            } else {
                Some(image.names.clone())
            },
            layers: image
                .layers
                .iter()
                .map(|l| format!("{}.tar", l.diff_id.hex()))
                .collect(),
        });
    }
    append_bytes(&mut b, "manifest.json", &spec::to_json(&entries, "manifest.json")?)?;
    append_bytes(&mut b, "repositories", &spec::to_json(&repositories, "repositories")?)?;
    b.into_inner().map_err(tar_err("end of archive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_reader_refuses_wrong_lengths() {
        let mut out = Vec::new();
        let mut r = ExactReader {
            inner: &b"abc"[..],
            remaining: 3,
        };
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
        let mut r = ExactReader {
            inner: &b"abcd"[..],
            remaining: 3,
        };
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        let mut r = ExactReader {
            inner: &b"ab"[..],
            remaining: 3,
        };
        assert!(r.read_to_end(&mut Vec::new()).is_err());
    }
}
