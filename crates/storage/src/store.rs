//! The on-disk store: blobs, unpacked layers and the image index under one root.
//!
//! ```text
//! <root>/storage.lock          flock: held exclusively to change the index or the files it lists
//! <root>/images.json           the index (images and layers), replaced atomically
//! <root>/blobs/sha256/<hex>    manifests, configs, layer blobs
//! <root>/layers/<hex>/diff     one unpacked layer per chain ID (an overlayfs lower dir)
//! <root>/tmp/                  staging and unpacking; renamed into place on success
//! <root>/containers/            container root filesystems (see [`crate::rootfs`])
//! <run root>/containers/        mount counts of container root filesystems
//! ```
//!
//! Loading reads and verifies the archive into `tmp/` without the lock (so several loads
//! can read at once), then takes the lock to move blobs in, unpack missing layers and write
//! the index. Whatever it added is removed again if any step fails.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::archive::{
    self, ArchiveFormat, BlobSource, ExportImage, ExportLayer, ImportPlan, UnpackOptions, plan_import, unpack_layer,
};
use crate::blob::BlobStore;
use crate::digest::Digest;
use crate::error::{Result, StorageError};
use crate::fsutil::{self, ProgressWriter, TempDirGuard};
use crate::image::{
    HistoryEntry, ImageInspect, ImageLayer, ImageRecord, ImageStore, ImageSummary, ImageTree, MatchedBy, RemoveOptions,
    RemoveReport, history_entries, inspect_image, lookup, summarize_image, tree_of,
};
use crate::layer::{LayerRecord, LayerStore};
use crate::reference::normalize_name;
use crate::rootfs::{ContainerFsRecord, Driver};
use crate::spec::{self, ImageConfig, MAX_JSON_SIZE, Manifest};

const INDEX_FILE: &str = "images.json";
const INDEX_FILE_CONTAINERS: &str = "containers.json";
const INDEX_VERSION: u32 = 1;
const CONFIG_CACHE_SIZE: usize = 64;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    version: u32,
    images: Vec<ImageRecord>,
    layers: Vec<LayerRecord>,
}

/// Parsed configs by digest; configs never change, so entries only age out (oldest first).
#[derive(Debug, Default)]
struct ConfigCache {
    entries: VecDeque<(Digest, Arc<ImageConfig>)>,
}

impl ConfigCache {
    fn get(&self, d: &Digest) -> Option<Arc<ImageConfig>> {
        self.entries.iter().find(|(k, _)| k == d).map(|(_, v)| v.clone())
    }

    fn put(&mut self, d: Digest, c: Arc<ImageConfig>) {
        if self.entries.len() >= CONFIG_CACHE_SIZE {
            self.entries.pop_front();
        }
        self.entries.push_back((d, c));
    }
}

/// How a [`Store`] is opened: podman's `--runroot` and storage.conf's `driver`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    pub unpack: UnpackOptions,
    /// Where mount counts live: a tmpfs (`/run/...`) in real use, so a reboot clears them.
    pub run_root: PathBuf,
    /// How container root filesystems are made.
    pub driver: Driver,
}

impl StoreOptions {
    /// Unpacking as the current user allows, the run root `<root>/run`, overlay when usable.
    pub fn for_root(root: &Path) -> Self {
        Self {
            unpack: UnpackOptions::for_current_user(),
            run_root: root.join("run"),
            driver: Driver::detect(),
        }
    }
}

/// The container index (`<root>/containers/containers.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ContainerIndex {
    pub(crate) version: u32,
    pub(crate) containers: Vec<ContainerFsRecord>,
}

/// Images and layers stored under one root directory; safe to use from several processes.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    run_root: PathBuf,
    driver: Driver,
    blobs: BlobStore,
    lock: crate::lock::StoreLock,
    unpack: UnpackOptions,
    configs: Mutex<ConfigCache>,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Opens (creating if needed) the store under `root`. Layers are unpacked with device
    /// nodes and whiteouts when running as root.
    pub fn open(root: &Path) -> Result<Self> {
        Self::open_with(root, UnpackOptions::for_current_user())
    }

    /// Opens the store with explicit unpacking permissions (other options as
    /// [`StoreOptions::for_root`]).
    pub fn open_with(root: &Path, unpack: UnpackOptions) -> Result<Self> {
        Self::open_with_options(
            root,
            StoreOptions {
                unpack,
                ..StoreOptions::for_root(root)
            },
        )
    }

    /// Opens the store with every option given.
    pub fn open_with_options(root: &Path, options: StoreOptions) -> Result<Self> {
        fsutil::create_dir_all(root)?;
        let root = fs::canonicalize(root).map_err(|e| StorageError::io("resolving", root, e))?;
        fsutil::create_dir_all(&options.run_root)?;
        let run_root =
            fs::canonicalize(&options.run_root).map_err(|e| StorageError::io("resolving", &options.run_root, e))?;
        let blobs = BlobStore::open(&root.join("blobs").join("sha256"), &root.join("tmp"))?;
        fsutil::create_dir_all(&root.join("layers"))?;
        fsutil::create_dir_all(&root.join("containers"))?;
        fsutil::create_dir_all(&run_root.join("containers"))?;
        let store = Self {
            lock: crate::lock::StoreLock::new(&root.join("storage.lock")),
            root,
            run_root,
            driver: options.driver,
            blobs,
            unpack: options.unpack,
            configs: Mutex::new(ConfigCache::default()),
        };
        store.clean_stale_temp()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The run root given at open (resolved).
    pub fn run_root(&self) -> &Path {
        &self.run_root
    }

    /// The driver new container root filesystems get.
    pub fn driver(&self) -> Driver {
        self.driver
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub(crate) fn store_lock(&self) -> &crate::lock::StoreLock {
        &self.lock
    }

    fn containers_index_path(&self) -> PathBuf {
        self.root.join("containers").join(INDEX_FILE_CONTAINERS)
    }

    /// Reads the container index; the caller holds the store lock.
    pub(crate) fn read_containers(&self) -> Result<ContainerIndex> {
        let path = self.containers_index_path();
        match fs::read(&path) {
            Ok(bytes) => {
                let index: ContainerIndex = serde_json::from_slice(&bytes).map_err(|source| StorageError::Json {
                    what: format!("reading {}", path.display()),
                    source,
                })?;
                if index.version != INDEX_VERSION {
                    return Err(StorageError::Unsupported {
                        what: "container index version".into(),
                        value: index.version.to_string(),
                    });
                }
                Ok(index)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ContainerIndex {
                version: INDEX_VERSION,
                ..ContainerIndex::default()
            }),
            Err(e) => Err(StorageError::io("reading", &path, e)),
        }
    }

    /// Replaces the container index atomically; the caller holds the store lock exclusively.
    pub(crate) fn write_containers(&self, index: &ContainerIndex) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(index).map_err(|source| StorageError::Json {
            what: "serializing the container index".into(),
            source,
        })?;
        fsutil::write_atomic(&self.containers_index_path(), &bytes)
    }

    /// Image records, read by a caller that holds the store lock.
    pub(crate) fn images_locked(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.read_index()?.images)
    }

    /// Removes temp dirs and files left by processes that died mid-way (their names carry
    /// the pid of their maker).
    fn clean_stale_temp(&self) -> Result<()> {
        let _guard = self.lock.exclusive()?;
        let tmp = self.tmp_dir();
        let rd = fs::read_dir(&tmp).map_err(|e| StorageError::io("listing", &tmp, e))?;
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').nth(1).and_then(|p| p.parse::<i32>().ok());
            let alive = pid
                .and_then(rustix::process::Pid::from_raw)
                .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
            if pid.is_some() && !alive {
                fsutil::remove_path(&entry.path())?;
            }
        }
        Ok(())
    }

    fn index_path(&self) -> PathBuf {
        self.root.join(INDEX_FILE)
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => {
                let index: Index = serde_json::from_slice(&bytes).map_err(|source| StorageError::Json {
                    what: format!("reading {}", path.display()),
                    source,
                })?;
                if index.version != INDEX_VERSION {
                    return Err(StorageError::Unsupported {
                        what: "image index version".into(),
                        value: index.version.to_string(),
                    });
                }
                Ok(index)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index {
                version: INDEX_VERSION,
                ..Index::default()
            }),
            Err(e) => Err(StorageError::io("reading", &path, e)),
        }
    }

    fn write_index(&self, index: &Index) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(index).map_err(|source| StorageError::Json {
            what: "serializing the image index".into(),
            source,
        })?;
        fsutil::write_atomic(&self.index_path(), &bytes)
    }

    /// Reads the index under a shared lock (so no writer is half-way through).
    fn snapshot(&self) -> Result<Index> {
        let _guard = self.lock.shared()?;
        self.read_index()
    }

    fn layer_root(&self, id: &Digest) -> PathBuf {
        self.root.join("layers").join(id.hex())
    }

    pub(crate) fn config_of(&self, rec: &ImageRecord) -> Result<Arc<ImageConfig>> {
        if let Ok(cache) = self.configs.lock()
            && let Some(c) = cache.get(&rec.config_digest)
        {
            return Ok(c);
        }
        let bytes = self.blobs.read(&rec.config_digest, MAX_JSON_SIZE)?;
        let config: Arc<ImageConfig> = Arc::new(spec::parse_json(&bytes, "image config")?);
        if let Ok(mut cache) = self.configs.lock() {
            cache.put(rec.config_digest.clone(), config.clone());
        }
        Ok(config)
    }

    /// Moves the plan's blobs into place, unpacks missing layers and records the images.
    /// Returns the image IDs. Undoes its additions on failure.
    pub(crate) fn commit(&self, plan: &ImportPlan) -> Result<Vec<String>> {
        let _guard = self.lock.exclusive()?;
        let mut index = self.read_index()?;
        let mut added_blobs: Vec<Digest> = Vec::new();
        let mut added_layers: Vec<PathBuf> = Vec::new();
        let result = self.commit_locked(plan, &mut index, &mut added_blobs, &mut added_layers);
        if result.is_err() {
            for dir in &added_layers {
                let _ = fsutil::remove_path(dir);
            }
            for d in &added_blobs {
                let _ = self.blobs.remove(d);
            }
        }
        result
    }

    fn commit_locked(
        &self,
        plan: &ImportPlan,
        index: &mut Index,
        added_blobs: &mut Vec<Digest>,
        added_layers: &mut Vec<PathBuf>,
    ) -> Result<Vec<String>> {
        for (digest, staged) in &plan.blobs {
            match staged {
                Some(path) => {
                    if self.blobs.adopt(path, digest)? {
                        added_blobs.push(digest.clone());
                    }
                }
                None if self.blobs.contains(digest) => {}
                None => {
                    return Err(StorageError::CorruptArchive {
                        what: digest.to_string(),
                        reason: "the stored blob was removed while loading; load again".into(),
                    });
                }
            }
        }
        let mut ids = Vec::new();
        for img in &plan.images {
            for bytes in [&img.manifest, &img.config] {
                let (digest, _, added) = self.blobs.put_reader(bytes.as_slice(), None)?;
                if added {
                    added_blobs.push(digest);
                }
            }
            let mut parent: Option<Digest> = None;
            let mut layers = Vec::new();
            let mut size = 0;
            for l in &img.layers {
                let chain = Digest::chain(parent.as_ref(), &l.diff_id);
                let known = index.layers.iter().find(|r| r.id == chain).cloned();
                let record = match known {
                    Some(r) if self.layer_dir(&chain).is_dir() => r,
                    _ => {
                        let r = self.unpack_into_store(&l.blob, &l.diff_id, &chain, parent.as_ref(), added_layers)?;
                        index.layers.retain(|x| x.id != chain);
                        index.layers.push(r.clone());
                        r
                    }
                };
                size += record.size;
                layers.push(ImageLayer {
                    chain_id: chain.clone(),
                    diff_id: l.diff_id.clone(),
                    blob: l.blob.clone(),
                    media_type: l.media_type.clone(),
                    blob_size: l.size,
                });
                parent = Some(chain);
            }
            let id = img.config_digest.hex().to_string();
            for other in index.images.iter_mut().filter(|i| i.id != id) {
                other.names.retain(|n| !img.names.contains(n));
            }
            match index.images.iter_mut().find(|i| i.id == id) {
                Some(existing) => {
                    for n in img.names.iter().rev() {
                        if !existing.names.contains(n) {
                            existing.names.insert(0, n.clone());
                        }
                        push_history(&mut existing.names_history, n);
                    }
                }
                None => {
                    let mut names_history = Vec::new();
                    for n in img.names.iter().rev() {
                        push_history(&mut names_history, n);
                    }
                    let settings = img.config_parsed.config.clone().unwrap_or_default();
                    index.images.push(ImageRecord {
                        id: id.clone(),
                        names: img.names.clone(),
                        names_history,
                        digest: img.manifest_digest.clone(),
                        manifest_media_type: img.manifest_media_type.clone(),
                        config_digest: img.config_digest.clone(),
                        created: img.config_parsed.created.clone(),
                        loaded: now_rfc3339(),
                        size,
                        labels: settings.labels.unwrap_or_default(),
                        layers,
                    });
                }
            }
            ids.push(id);
        }
        self.write_index(index)?;
        Ok(ids)
    }

    /// Unpacks one layer blob into a temp dir and renames it to the layer's place.
    fn unpack_into_store(
        &self,
        blob: &Digest,
        diff_id: &Digest,
        chain: &Digest,
        parent: Option<&Digest>,
        added_layers: &mut Vec<PathBuf>,
    ) -> Result<LayerRecord> {
        let tmp = TempDirGuard::create_in(&self.tmp_dir(), "layer")?;
        let diff = tmp.path().join("diff");
        fs::create_dir(&diff).map_err(|e| StorageError::io("creating directory", &diff, e))?;
        let file = self.blobs.open_blob(blob)?;
        let stats = unpack_layer(BufReader::with_capacity(256 * 1024, file), &diff, &self.unpack)?;
        if stats.diff_id != *diff_id {
            return Err(StorageError::DigestMismatch {
                what: format!("uncompressed layer {blob} (diff ID)"),
                expected: diff_id.to_string(),
                actual: stats.diff_id.to_string(),
            });
        }
        let dest = self.layer_root(chain);
        fsutil::remove_path(&dest)?;
        fs::rename(tmp.path(), &dest).map_err(|e| StorageError::io("renaming layer into place", &dest, e))?;
        tmp.disarm();
        added_layers.push(dest);
        Ok(LayerRecord {
            id: chain.clone(),
            diff_id: diff_id.clone(),
            parent: parent.cloned(),
            size: stats.size,
            created: now_rfc3339(),
        })
    }

    /// Deletes image `idx` from the index, with the layers and blobs no other image uses.
    fn delete_image(&self, index: &mut Index, idx: usize) -> Result<RemoveReport> {
        let rec = index.images.remove(idx);
        let used_layers: BTreeSet<&Digest> = index
            .images
            .iter()
            .flat_map(|i| i.layers.iter().map(|l| &l.chain_id))
            .collect();
        let used_blobs: BTreeSet<&Digest> = index
            .images
            .iter()
            .flat_map(|i| i.layers.iter().map(|l| &l.blob).chain([&i.digest, &i.config_digest]))
            .collect();
        let mut removed_layers = Vec::new();
        for l in &rec.layers {
            if !used_layers.contains(&l.chain_id) && !removed_layers.contains(&l.chain_id) {
                removed_layers.push(l.chain_id.clone());
            }
        }
        let doomed_blobs: Vec<Digest> = rec
            .layers
            .iter()
            .map(|l| l.blob.clone())
            .chain([rec.digest.clone(), rec.config_digest.clone()])
            .filter(|d| !used_blobs.contains(d))
            .collect();
        index.layers.retain(|l| !removed_layers.contains(&l.id));
        // The index goes first: a crash after it leaves only unreferenced files behind.
        self.write_index(index)?;
        for id in &removed_layers {
            fsutil::remove_path(&self.layer_root(id))?;
        }
        for d in &doomed_blobs {
            self.blobs.remove(d)?;
        }
        Ok(RemoveReport {
            untagged: rec.names.clone(),
            deleted: Some(rec.id),
            removed_layers,
        })
    }

    fn export_images(&self, references: &[&str]) -> Result<Vec<ExportImage>> {
        let index = self.snapshot()?;
        let sizes: HashMap<&Digest, u64> = index.layers.iter().map(|l| (&l.id, l.size)).collect();
        let mut out: Vec<ExportImage> = Vec::new();
        for r in references {
            let m = lookup(&index.images, r)?;
            let rec = &index.images[m.index];
            let names = match m.by {
                MatchedBy::Name(n) => vec![n],
                _ => rec.names.clone(),
            };
            if let Some(existing) = out.iter_mut().find(|e| e.config_digest == rec.config_digest) {
                for n in names {
                    if !existing.names.contains(&n) {
                        existing.names.push(n);
                    }
                }
                continue;
            }
            let layers = rec
                .layers
                .iter()
                .map(|l| {
                    Ok(ExportLayer {
                        blob: l.blob.clone(),
                        media_type: l.media_type.clone(),
                        size: l.blob_size,
                        diff_id: l.diff_id.clone(),
                        uncompressed_size: *sizes.get(&l.chain_id).ok_or_else(|| StorageError::NoSuchLayer {
                            id: l.chain_id.to_string(),
                        })?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(ExportImage {
                names,
                manifest: self.blobs.read(&rec.digest, MAX_JSON_SIZE)?,
                manifest_digest: rec.digest.clone(),
                manifest_media_type: rec.manifest_media_type.clone(),
                config: self.blobs.read(&rec.config_digest, MAX_JSON_SIZE)?,
                config_digest: rec.config_digest.clone(),
                layers,
            });
        }
        Ok(out)
    }

    fn change_names(&self, f: impl FnOnce(&mut Index) -> Result<Vec<String>>) -> Result<Vec<String>> {
        let _guard = self.lock.exclusive()?;
        let mut index = self.read_index()?;
        let out = f(&mut index)?;
        self.write_index(&index)?;
        Ok(out)
    }
}

fn push_history(history: &mut Vec<String>, name: &str) {
    history.retain(|n| n != name);
    history.insert(0, name.to_string());
}

fn count_users(in_use: &[String], id: &str) -> usize {
    in_use.iter().filter(|i| *i == id).count()
}

impl BlobSource for BlobStore {
    fn open_blob(&self, digest: &Digest) -> Result<Box<dyn std::io::Read + '_>> {
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            BlobStore::open_blob(self, digest)?,
        )))
    }
}

impl LayerStore for Store {
    fn layers(&self) -> Result<Vec<LayerRecord>> {
        Ok(self.snapshot()?.layers)
    }

    fn layer(&self, id: &str) -> Result<LayerRecord> {
        let hex = id.strip_prefix("sha256:").unwrap_or(id);
        self.snapshot()?
            .layers
            .into_iter()
            .find(|l| l.id.hex() == hex)
            .ok_or_else(|| StorageError::NoSuchLayer { id: id.to_string() })
    }

    fn layer_dir(&self, id: &Digest) -> PathBuf {
        self.layer_root(id).join("diff")
    }

    fn layer_users(&self, id: &Digest) -> Result<Vec<String>> {
        Ok(self
            .snapshot()?
            .images
            .into_iter()
            .filter(|i| i.layers.iter().any(|l| &l.chain_id == id))
            .map(|i| i.id)
            .collect())
    }
}

impl Store {
    /// [`ImageStore::load`], calling `progress` with the bytes of an archive
    /// read so far (an OCI layout directory reports nothing).
    pub fn load_with_progress(
        &self,
        source: &Path,
        format: Option<ArchiveFormat>,
        progress: &dyn Fn(u64),
    ) -> Result<Vec<String>> {
        let plan = plan_import(source, format, &self.tmp_dir(), &self.blobs, progress)?;
        self.commit(&plan)
    }

    /// [`ImageStore::save`], calling `progress` with the bytes written so far.
    pub fn save_with_progress(
        &self,
        references: &[&str],
        format: ArchiveFormat,
        dest: &Path,
        progress: &dyn Fn(u64),
    ) -> Result<()> {
        let images = self.export_images(references)?;
        if format == ArchiveFormat::OciDir {
            return archive::write_oci_dir(dest, &images, &self.blobs);
        }
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = dir.join(fsutil::unique_name(".corral-save"));
        let result = (|| {
            let file = File::create(&tmp).map_err(|e| StorageError::io("creating", &tmp, e))?;
            let w = ProgressWriter::new(BufWriter::with_capacity(256 * 1024, file), progress);
            let w = match format {
                ArchiveFormat::DockerArchive => archive::write_docker_archive(w, &images, &self.blobs)?,
                _ => archive::write_oci_archive(w, &images, &self.blobs)?,
            };
            let file = w
                .inner
                .into_inner()
                .map_err(|e| StorageError::io("writing", &tmp, e.into_error()))?;
            file.sync_all().map_err(|e| StorageError::io("syncing", &tmp, e))?;
            fs::rename(&tmp, dest).map_err(|e| StorageError::io("renaming into place", dest, e))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

impl ImageStore for Store {
    fn load(&self, source: &Path, format: Option<ArchiveFormat>) -> Result<Vec<String>> {
        self.load_with_progress(source, format, &|_| {})
    }

    fn save(&self, references: &[&str], format: ArchiveFormat, dest: &Path) -> Result<()> {
        self.save_with_progress(references, format, dest, &|_| {})
    }

    fn list(&self) -> Result<Vec<ImageRecord>> {
        Ok(self.snapshot()?.images)
    }

    fn lookup(&self, reference: &str) -> Result<ImageRecord> {
        let mut images = self.snapshot()?.images;
        let m = lookup(&images, reference)?;
        Ok(images.swap_remove(m.index))
    }

    fn exists(&self, reference: &str) -> Result<bool> {
        match ImageStore::lookup(self, reference) {
            Ok(_) => Ok(true),
            Err(StorageError::NoSuchImage { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn config(&self, reference: &str) -> Result<ImageConfig> {
        let rec = ImageStore::lookup(self, reference)?;
        Ok((*self.config_of(&rec)?).clone())
    }

    fn inspect(&self, reference: &str) -> Result<ImageInspect> {
        let rec = ImageStore::lookup(self, reference)?;
        let config = self.config_of(&rec)?;
        let manifest: Manifest = spec::parse_json(&self.blobs.read(&rec.digest, MAX_JSON_SIZE)?, "manifest")?;
        let dirs: Vec<PathBuf> = rec.layers.iter().rev().map(|l| self.layer_dir(&l.chain_id)).collect();
        Ok(inspect_image(&rec, &config, manifest.annotations, &dirs))
    }

    fn summaries(&self, in_use: &[String]) -> Result<Vec<ImageSummary>> {
        Ok(self
            .snapshot()?
            .images
            .iter()
            .map(|i| summarize_image(i, count_users(in_use, &i.id)))
            .collect())
    }

    fn tag(&self, reference: &str, name: &str) -> Result<()> {
        let name = normalize_name(name)?;
        self.change_names(|index| {
            let m = lookup(&index.images, reference)?;
            let id = index.images[m.index].id.clone();
            for other in index.images.iter_mut().filter(|i| i.id != id) {
                other.names.retain(|n| *n != name);
            }
            let rec = &mut index.images[m.index];
            if !rec.names.contains(&name) {
                rec.names.insert(0, name.clone());
            }
            push_history(&mut rec.names_history, &name);
            Ok(Vec::new())
        })
        .map(|_| ())
    }

    fn untag(&self, reference: &str, name: Option<&str>) -> Result<Vec<String>> {
        let name = name.map(normalize_name).transpose()?;
        self.change_names(|index| {
            let m = lookup(&index.images, reference)?;
            let rec = &mut index.images[m.index];
            match name {
                None => Ok(std::mem::take(&mut rec.names)),
                Some(n) if rec.names.contains(&n) => {
                    rec.names.retain(|x| *x != n);
                    Ok(vec![n])
                }
                Some(n) => Err(StorageError::TagNotSet {
                    id: rec.id.clone(),
                    name: n,
                }),
            }
        })
    }

    fn remove(&self, reference: &str, opts: RemoveOptions, in_use: &[String]) -> Result<RemoveReport> {
        let _guard = self.lock.exclusive()?;
        let mut index = self.read_index()?;
        let m = lookup(&index.images, reference)?;
        let rec = &mut index.images[m.index];
        if let MatchedBy::Name(name) = &m.by
            && rec.names.len() > 1
        {
            rec.names.retain(|n| n != name);
            let untagged = vec![name.clone()];
            self.write_index(&index)?;
            return Ok(RemoveReport {
                untagged,
                ..RemoveReport::default()
            });
        }
        let storage_users: Vec<String> = self
            .read_containers()?
            .containers
            .into_iter()
            .filter(|c| c.image_id == rec.id)
            .map(|c| c.id)
            .collect();
        if !opts.force {
            // Containers the caller knows normally have a storage container too: count once.
            let users = count_users(in_use, &rec.id).max(storage_users.len());
            if users > 0 {
                return Err(StorageError::ImageInUse {
                    id: rec.id.clone(),
                    containers: users,
                });
            }
            if m.by == MatchedBy::Id && rec.names.len() > 1 {
                return Err(StorageError::ImageHasManyNames {
                    id: rec.id.clone(),
                    names: rec.names.clone(),
                });
            }
        }
        // Forced: like `podman rmi -f`, the storage containers using the image go first.
        for id in &storage_users {
            self.remove_container_locked(id, true)?;
        }
        self.delete_image(&mut index, m.index)
    }

    fn prune_dangling(&self, in_use: &[String]) -> Result<Vec<String>> {
        let _guard = self.lock.exclusive()?;
        let mut index = self.read_index()?;
        let containers = self.read_containers()?.containers;
        let mut removed = Vec::new();
        while let Some(idx) = index.images.iter().position(|i| {
            i.names.is_empty() && count_users(in_use, &i.id) == 0 && !containers.iter().any(|c| c.image_id == i.id)
        }) {
            if let Some(id) = self.delete_image(&mut index, idx)?.deleted {
                removed.push(id);
            }
        }
        Ok(removed)
    }

    fn history(&self, reference: &str) -> Result<Vec<HistoryEntry>> {
        let index = self.snapshot()?;
        let rec = &index.images[lookup(&index.images, reference)?.index];
        let sizes: HashMap<Digest, u64> = index.layers.iter().map(|l| (l.id.clone(), l.size)).collect();
        Ok(history_entries(rec, self.config_of(rec)?.as_ref(), &sizes))
    }

    fn tree(&self, reference: &str) -> Result<ImageTree> {
        let index = self.snapshot()?;
        let rec = &index.images[lookup(&index.images, reference)?.index];
        let sizes: HashMap<Digest, u64> = index.layers.iter().map(|l| (l.id.clone(), l.size)).collect();
        Ok(tree_of(rec, &index.images, &sizes))
    }

    fn layer_dirs(&self, reference: &str) -> Result<Vec<PathBuf>> {
        let rec = ImageStore::lookup(self, reference)?;
        Ok(rec.layers.iter().rev().map(|l| self.layer_dir(&l.chain_id)).collect())
    }

    fn import(&self, source: &Path, options: &crate::rootfs::ImportOptions) -> Result<String> {
        self.import_tarball(source, options)
    }
}
