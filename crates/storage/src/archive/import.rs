//! Reading an OCI layout, an oci-archive or a docker-archive into an import plan: every blob
//! the images need, verified against its digest and staged in a temp directory of the store
//! (or found already present), plus the parsed manifests and configs. Nothing is added to the
//! store here; the store commits a plan under its lock.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read};

use crate::fsutil::ProgressReader;
use std::path::{Path, PathBuf};

use super::{ArchiveFormat, Compression, decompress};
use crate::blob::BlobStore;
use crate::digest::{Digest, HashingReader, HashingWriter, is_sha256_hex};
use crate::error::{Result, StorageError};
use crate::fsutil::{TempDirGuard, read_all_limited};
use crate::reference::{normalize_docker_name, normalize_name};
use crate::spec::{self, DockerArchiveEntry, ImageConfig, Index, MAX_JSON_SIZE, Manifest};

/// A verified blob: staged in the plan's temp directory, or already in the store (`None`).
#[derive(Debug, Clone)]
pub(crate) struct Staged {
    pub path: Option<PathBuf>,
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct PlannedLayer {
    pub blob: Digest,
    pub media_type: String,
    pub size: u64,
    pub diff_id: Digest,
}

#[derive(Debug, Clone)]
pub(crate) struct PlannedImage {
    pub names: Vec<String>,
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub config_parsed: ImageConfig,
    pub layers: Vec<PlannedLayer>,
}

/// Everything an import will add, staged and verified.
#[derive(Debug)]
pub(crate) struct ImportPlan {
    pub images: Vec<PlannedImage>,
    /// Staged layer blobs by digest (`None`: already in the store when planned).
    pub blobs: BTreeMap<Digest, Option<PathBuf>>,
    /// Removed when the plan is dropped: whatever was not moved into the store.
    pub _staging: TempDirGuard,
}

/// Where the files of an image layout or docker archive are read from.
trait Source {
    /// Verifies the file at `path` (against `expected` when known) and stages it.
    fn stage(&mut self, path: &str, expected: Option<&Digest>) -> Result<Staged>;
    /// Reads a small file whole.
    fn read_small(&mut self, path: &str) -> Result<Vec<u8>>;
    fn has(&self, path: &str) -> bool;
}

fn check_expected(path: &str, expected: Option<&Digest>, actual: &Digest) -> Result<()> {
    match expected {
        Some(e) if e != actual => Err(StorageError::DigestMismatch {
            what: path.to_string(),
            expected: e.to_string(),
            actual: actual.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Copies `reader` to a new file in `dir` while hashing it.
fn stage_copy(reader: impl Read, dir: &Path, n: usize, what: &str) -> Result<Staged> {
    let path = dir.join(format!("f{n}"));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| StorageError::io("creating", &path, e))?;
    let mut w = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file));
    let mut reader = reader;
    io::copy(&mut reader, &mut w).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => {
            StorageError::corrupt(what, e)
        }
        _ => StorageError::io("staging", &path, e),
    })?;
    let (digest, size, buf) = w.finish();
    buf.into_inner()
        .map_err(|e| StorageError::io("staging", &path, e.into_error()))?;
    Ok(Staged {
        path: Some(path),
        digest,
        size,
    })
}

/// Hashes `reader` without keeping it (the blob is already stored).
fn hash_only(reader: impl Read, what: &str) -> Result<(Digest, u64)> {
    HashingReader::new(reader)
        .finish()
        .map_err(|e| StorageError::corrupt(what, e))
}

/// The digest a path names, for `blobs/sha256/<hex>`.
fn digest_in_blob_path(path: &str) -> Option<Digest> {
    let hex = path.strip_prefix("blobs/sha256/")?;
    if is_sha256_hex(hex) {
        Digest::from_hex(hex).ok()
    } else {
        None
    }
}

/// Joins plain components only: `.`/empty dropped; `..` refused.
fn normalize_archive_path(raw: &str) -> Result<String> {
    let mut out: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(StorageError::unsafe_entry(raw, "'..' in archive path")),
            c => out.push(c),
        }
    }
    Ok(out.join("/"))
}

/// An image layout directory on disk.
struct DirSource<'a> {
    root: PathBuf,
    staging: &'a Path,
    store: &'a BlobStore,
    count: usize,
}

impl Source for DirSource<'_> {
    fn stage(&mut self, path: &str, expected: Option<&Digest>) -> Result<Staged> {
        let full = self.root.join(normalize_archive_path(path)?);
        let file = File::open(&full).map_err(|e| StorageError::io("opening", &full, e))?;
        let reader = BufReader::with_capacity(256 * 1024, file);
        if let Some(e) = expected
            && self.store.contains(e)
        {
            let (digest, size) = hash_only(reader, path)?;
            check_expected(path, expected, &digest)?;
            return Ok(Staged {
                path: None,
                digest,
                size,
            });
        }
        self.count += 1;
        let staged = stage_copy(reader, self.staging, self.count, path)?;
        check_expected(path, expected, &staged.digest)?;
        Ok(staged)
    }

    fn read_small(&mut self, path: &str) -> Result<Vec<u8>> {
        let full = self.root.join(normalize_archive_path(path)?);
        crate::fsutil::read_limited(&full, MAX_JSON_SIZE, path)
    }

    fn has(&self, path: &str) -> bool {
        normalize_archive_path(path).is_ok_and(|p| self.root.join(p).is_file())
    }
}

/// The files of a tar archive, read in one pass and staged.
struct TarSource {
    files: HashMap<String, Staged>,
    /// Symlinks and hard links between entries: path -> target path.
    links: HashMap<String, String>,
    store_paths: BlobStore,
}

impl TarSource {
    fn read(path: &Path, staging: &Path, store: &BlobStore, progress: &dyn Fn(u64)) -> Result<Self> {
        let file = File::open(path).map_err(|e| StorageError::io("opening archive", path, e))?;
        let file = ProgressReader::new(file, progress);
        let (_, reader) = decompress(BufReader::with_capacity(256 * 1024, file))?;
        let mut archive = tar::Archive::new(reader);
        let mut files = HashMap::new();
        let mut links = HashMap::new();
        let what = path.display().to_string();
        let entries = archive.entries().map_err(|e| StorageError::corrupt(&what, e))?;
        for (n, entry) in entries.enumerate() {
            let entry = entry.map_err(|e| StorageError::corrupt(&what, e))?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = normalize_archive_path(&raw)?;
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let claimed = digest_in_blob_path(&name);
                    let staged = match claimed {
                        Some(ref d) if store.contains(d) => {
                            let (digest, size) = hash_only(entry, &what)?;
                            Staged {
                                path: None,
                                digest,
                                size,
                            }
                        }
                        _ => stage_copy(entry, staging, n, &what)?,
                    };
                    check_expected(&name, claimed.as_ref(), &staged.digest)?;
                    files.insert(name, staged);
                }
                kind @ (tar::EntryType::Symlink | tar::EntryType::Link) => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let target = if kind == tar::EntryType::Symlink && !target.starts_with('/') {
                        match name.rsplit_once('/') {
                            Some((dir, _)) => format!("{dir}/{target}"),
                            None => target,
                        }
                    } else {
                        target
                    };
                    links.insert(name, normalize_archive_path(&target)?);
                }
                _ => {}
            }
        }
        Ok(Self {
            files,
            links,
            store_paths: store.clone(),
        })
    }

    fn resolve(&self, path: &str) -> Result<&Staged> {
        let mut p = normalize_archive_path(path)?;
        for _ in 0..16 {
            if let Some(s) = self.files.get(&p) {
                return Ok(s);
            }
            match self.links.get(&p) {
                Some(t) => p = t.clone(),
                None => break,
            }
        }
        Err(StorageError::malformed(
            "archive",
            format!("{path} is missing from the archive"),
        ))
    }
}

impl Source for TarSource {
    fn stage(&mut self, path: &str, expected: Option<&Digest>) -> Result<Staged> {
        let s = self.resolve(path)?.clone();
        check_expected(path, expected, &s.digest)?;
        Ok(s)
    }

    fn read_small(&mut self, path: &str) -> Result<Vec<u8>> {
        let s = self.resolve(path)?.clone();
        let file_path = s.path.unwrap_or_else(|| self.store_paths.path(&s.digest));
        crate::fsutil::read_limited(&file_path, MAX_JSON_SIZE, path)
    }

    fn has(&self, path: &str) -> bool {
        self.resolve(path).is_ok()
    }
}

/// Reads `source` (auto-detecting the format when `format` is `None`) and stages its images
/// in a new directory under `tmp`.
pub(crate) fn plan_import(
    source: &Path,
    format: Option<ArchiveFormat>,
    tmp: &Path,
    store: &BlobStore,
    progress: &dyn Fn(u64),
) -> Result<ImportPlan> {
    let staging = TempDirGuard::create_in(tmp, "import")?;
    let (images, staged) = if source.is_dir() || format == Some(ArchiveFormat::OciDir) {
        let mut src = DirSource {
            root: source.to_path_buf(),
            staging: staging.path(),
            store,
            count: 0,
        };
        plan_oci(&mut src)?
    } else {
        let mut src = TarSource::read(source, staging.path(), store, progress)?;
        let docker = match format {
            Some(ArchiveFormat::DockerArchive) => true,
            Some(_) => false,
            None if src.has("manifest.json") => true,
            None if src.has("index.json") => false,
            None => {
                return Err(StorageError::malformed(
                    "archive",
                    "neither manifest.json (docker-archive) nor index.json (oci-archive) found",
                ));
            }
        };
        if docker {
            plan_docker(&mut src, store)?
        } else {
            plan_oci(&mut src)?
        }
    };
    Ok(ImportPlan {
        images: merge_same_images(images),
        blobs: staged.into_iter().collect(),
        _staging: staging,
    })
}

type Planned = (Vec<PlannedImage>, HashMap<Digest, Option<PathBuf>>);

/// Images listed twice (one manifest under several names) become one with all the names.
fn merge_same_images(images: Vec<PlannedImage>) -> Vec<PlannedImage> {
    let mut out: Vec<PlannedImage> = Vec::new();
    for img in images {
        match out.iter_mut().find(|o| o.config_digest == img.config_digest) {
            Some(o) => {
                for n in img.names {
                    if !o.names.contains(&n) {
                        o.names.push(n);
                    }
                }
            }
            None => out.push(img),
        }
    }
    out
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/sha256/{}", d.hex())
}

fn plan_oci(src: &mut dyn Source) -> Result<Planned> {
    if src.has("oci-layout") {
        let layout: spec::OciLayout = spec::parse_json(&src.read_small("oci-layout")?, "oci-layout")?;
        if !layout.image_layout_version.starts_with("1.") {
            return Err(StorageError::Unsupported {
                what: "OCI layout version".into(),
                value: layout.image_layout_version,
            });
        }
    }
    let index: Index = spec::parse_json(&src.read_small("index.json")?, "index.json")?;
    let mut images = Vec::new();
    let mut staged = HashMap::new();
    for desc in &index.manifests {
        let names: Vec<String> = match desc
            .annotations
            .get(spec::ANNOTATION_CONTAINERD_NAME)
            .or_else(|| desc.annotations.get(spec::ANNOTATION_REF_NAME))
        {
            Some(n) => vec![normalize_name(n)?],
            None => Vec::new(),
        };
        let manifest_desc = resolve_platform(src, desc)?;
        images.push(plan_oci_manifest(src, &manifest_desc, names, &mut staged)?);
    }
    if images.is_empty() {
        return Err(StorageError::malformed("index.json", "no manifests"));
    }
    Ok((images, staged))
}

/// Follows a nested index (multi-platform image) to the manifest for this machine.
fn resolve_platform(src: &mut dyn Source, desc: &spec::Descriptor) -> Result<spec::Descriptor> {
    let mut desc = desc.clone();
    for _ in 0..4 {
        if desc.media_type != spec::MEDIA_TYPE_OCI_INDEX && desc.media_type != spec::MEDIA_TYPE_DOCKER_MANIFEST_LIST {
            return Ok(desc);
        }
        src.stage(&blob_path(&desc.digest), Some(&desc.digest))?;
        let nested: Index = spec::parse_json(&src.read_small(&blob_path(&desc.digest))?, "nested index")?;
        let arch = spec::host_architecture();
        desc = nested
            .manifests
            .iter()
            .find(|m| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| p.architecture == arch && p.os == "linux")
            })
            .or_else(|| nested.manifests.first())
            .cloned()
            .ok_or_else(|| StorageError::malformed("nested index", "no manifests"))?;
    }
    Err(StorageError::malformed("index", "indexes nested too deeply"))
}

fn check_size(what: &str, desc: &spec::Descriptor, actual: u64) -> Result<()> {
    if desc.size != actual {
        return Err(StorageError::malformed(
            what,
            format!("{} is {actual} bytes, the descriptor says {}", desc.digest, desc.size),
        ));
    }
    Ok(())
}

fn plan_oci_manifest(
    src: &mut dyn Source,
    desc: &spec::Descriptor,
    names: Vec<String>,
    staged: &mut HashMap<Digest, Option<PathBuf>>,
) -> Result<PlannedImage> {
    let manifest_bytes = read_verified(src, desc)?;
    let manifest: Manifest = spec::parse_json(&manifest_bytes, "manifest")?;
    let config_bytes = read_verified(src, &manifest.config)?;
    let config: ImageConfig = spec::parse_json(&config_bytes, "image config")?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(StorageError::malformed(
            "manifest",
            format!(
                "{} layers but the config lists {} diff IDs",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            ),
        ));
    }
    let mut layers = Vec::new();
    for (l, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        let s = src.stage(&blob_path(&l.digest), Some(&l.digest))?;
        check_size("layer", l, s.size)?;
        staged.insert(s.digest.clone(), s.path.clone());
        layers.push(PlannedLayer {
            blob: l.digest.clone(),
            media_type: l.media_type.clone(),
            size: s.size,
            diff_id: diff_id.clone(),
        });
    }
    Ok(PlannedImage {
        names,
        manifest_media_type: manifest.media_type.clone().unwrap_or_else(|| desc.media_type.clone()),
        manifest_digest: desc.digest.clone(),
        manifest: manifest_bytes,
        config_digest: manifest.config.digest.clone(),
        config: config_bytes,
        config_parsed: config,
        layers,
    })
}

fn read_verified(src: &mut dyn Source, desc: &spec::Descriptor) -> Result<Vec<u8>> {
    let path = blob_path(&desc.digest);
    let s = src.stage(&path, Some(&desc.digest))?;
    check_size(&desc.media_type, desc, s.size)?;
    if s.size > MAX_JSON_SIZE {
        return Err(StorageError::malformed(&path, "too large"));
    }
    src.read_small(&path)
}

fn plan_docker(src: &mut dyn Source, store: &BlobStore) -> Result<Planned> {
    let entries: Vec<DockerArchiveEntry> = spec::parse_json(&src.read_small("manifest.json")?, "manifest.json")?;
    if entries.is_empty() {
        return Err(StorageError::malformed("manifest.json", "no images"));
    }
    let mut images = Vec::new();
    let mut staged_map = HashMap::new();
    for entry in entries {
        let config_staged = src.stage(&entry.config, None)?;
        if config_staged.size > MAX_JSON_SIZE {
            return Err(StorageError::malformed(&entry.config, "too large"));
        }
        let config_bytes = src.read_small(&entry.config)?;
        let config: ImageConfig = spec::parse_json(&config_bytes, &entry.config)?;
        if config.rootfs.diff_ids.len() != entry.layers.len() {
            return Err(StorageError::malformed(
                "manifest.json",
                format!(
                    "{} layers but the config lists {} diff IDs",
                    entry.layers.len(),
                    config.rootfs.diff_ids.len()
                ),
            ));
        }
        let mut layers = Vec::new();
        let mut descs = Vec::new();
        for (path, diff_id) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
            let s = src.stage(path, None)?;
            let head_path = s.path.clone().unwrap_or_else(|| store.path(&s.digest));
            let media_type = match sniff(&head_path)? {
                Compression::None => spec::MEDIA_TYPE_DOCKER_LAYER,
                Compression::Gzip => spec::MEDIA_TYPE_DOCKER_LAYER_GZIP,
                Compression::Zstd => spec::MEDIA_TYPE_OCI_LAYER_ZSTD,
            };
            staged_map.insert(s.digest.clone(), s.path.clone());
            descs.push(spec::Descriptor::new(media_type, s.digest.clone(), s.size));
            layers.push(PlannedLayer {
                blob: s.digest,
                media_type: media_type.to_string(),
                size: s.size,
                diff_id: diff_id.clone(),
            });
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(spec::MEDIA_TYPE_DOCKER_MANIFEST.to_string()),
            config: spec::Descriptor::new(
                spec::MEDIA_TYPE_DOCKER_CONFIG,
                config_staged.digest.clone(),
                config_staged.size,
            ),
            layers: descs,
            annotations: BTreeMap::new(),
        };
        let manifest_bytes = spec::to_json(&manifest, "manifest")?;
        let names = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| normalize_docker_name(t))
            .collect::<Result<Vec<_>>>()?;
        images.push(PlannedImage {
            names,
            manifest_digest: Digest::of_bytes(&manifest_bytes),
            manifest: manifest_bytes,
            manifest_media_type: spec::MEDIA_TYPE_DOCKER_MANIFEST.to_string(),
            config_digest: config_staged.digest,
            config: config_bytes,
            config_parsed: config,
            layers,
        });
    }
    Ok((images, staged_map))
}

/// The compression of a file, from its first bytes.
fn sniff(path: &Path) -> Result<Compression> {
    let file = File::open(path).map_err(|e| StorageError::io("opening", path, e))?;
    let head = read_all_limited(file.take(8), 8).map_err(|_| StorageError::corrupt("layer", "unreadable"))?;
    Compression::detect(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths() {
        assert_eq!(normalize_archive_path("./blobs//sha256/x").unwrap(), "blobs/sha256/x");
        assert!(normalize_archive_path("../x").is_err());
        assert!(digest_in_blob_path("blobs/sha256/abc").is_none());
        let d = Digest::of_bytes(b"x");
        assert_eq!(digest_in_blob_path(&blob_path(&d)), Some(d));
    }
}
