//! [`ContainerFsStore`] for [`Store`], and making new images from a container (commit) or a
//! tarball (import).
//!
//! Lock order, everywhere: the store lock (`storage.lock`) first, then the run root's mount
//! lock. Both are flocks on their own open file, so no function here takes a lock its
//! caller already holds.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::diff::{Change, overlay_changes, tree_changes};
use super::mount::{MountAction, MountCounts, MountOp, is_mount_point, mount_overlay, mount_transition, unmount};
use super::view::LayerView;
use super::{CommitOptions, ContainerFsRecord, ContainerFsStore, Driver, ImportOptions, apply_changes, container_dir};
use crate::archive::{ImportPlan, PlannedImage, PlannedLayer, decompress};
use crate::digest::{Digest, HashingWriter};
use crate::error::{Result, StorageError};
use crate::fsutil::{self, TempDirGuard};
use crate::image::{ImageRecord, lookup};
use crate::layer::LayerStore;
use crate::reference::normalize_name;
use crate::spec::{self, Descriptor, History, ImageConfig, Manifest};
use crate::store::Store;

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Finds a container by full ID, name, then unique ID prefix.
fn find(containers: &[ContainerFsRecord], reference: &str) -> Result<usize> {
    if let Some(i) = containers.iter().position(|c| c.id == reference) {
        return Ok(i);
    }
    if let Some(i) = containers.iter().position(|c| c.names.iter().any(|n| n == reference)) {
        return Ok(i);
    }
    let hits: Vec<usize> = if corral_define::is_id_prefix(reference) {
        (0..containers.len())
            .filter(|&i| containers[i].id.starts_with(reference))
            .collect()
    } else {
        Vec::new()
    };
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(StorageError::NoSuchContainer {
            reference: reference.to_string(),
        }),
        many => Err(StorageError::AmbiguousContainer {
            reference: reference.to_string(),
            candidates: many.iter().map(|&i| containers[i].id.clone()).collect(),
        }),
    }
}

/// Gives `dir` the mode and owner of `like` (the image's root directory).
fn copy_root_meta(dir: &Path, like: &fs::Metadata) -> Result<()> {
    if fsutil::is_root() {
        rustix::fs::chown(
            dir,
            Some(rustix::fs::Uid::from_raw(like.uid())),
            Some(rustix::fs::Gid::from_raw(like.gid())),
        )
        .map_err(|e| StorageError::io("setting owner", dir, e.into()))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(like.mode() & 0o7777))
        .map_err(|e| StorageError::io("setting mode", dir, e))
}

/// Media type of an existing layer blob in a new OCI manifest.
fn oci_media_type(media_type: &str) -> &str {
    match media_type {
        spec::MEDIA_TYPE_DOCKER_LAYER => spec::MEDIA_TYPE_OCI_LAYER,
        spec::MEDIA_TYPE_DOCKER_LAYER_GZIP => spec::MEDIA_TYPE_OCI_LAYER_GZIP,
        other => other,
    }
}

/// Unmounts on drop: the counted mount made for one operation (export) goes again even if
/// the operation fails.
struct TemporaryMount<'a> {
    store: &'a Store,
    id: String,
}

impl Drop for TemporaryMount<'_> {
    fn drop(&mut self) {
        let _ = ContainerFsStore::unmount(self.store, &self.id, false);
    }
}

impl Store {
    fn mount_counts(&self) -> MountCounts {
        MountCounts::new(self.run_root())
    }

    /// The record of `reference`; the caller holds the lock.
    fn container_locked(&self, reference: &str) -> Result<ContainerFsRecord> {
        let mut containers = self.read_containers()?.containers;
        Ok(containers.swap_remove(find(&containers, reference)?))
    }

    /// The container's layer directories, top first.
    fn lower_dirs(&self, rec: &ContainerFsRecord) -> Vec<PathBuf> {
        rec.layers.iter().rev().map(|l| self.layer_dir(l)).collect()
    }

    /// The image `rec` was made from; the caller holds the lock.
    fn image_of_locked(&self, rec: &ContainerFsRecord) -> Result<ImageRecord> {
        let mut images = self.images_locked()?;
        let idx = images
            .iter()
            .position(|i| i.id == rec.image_id)
            .ok_or_else(|| StorageError::NoSuchImage {
                reference: rec.image_id.clone(),
            })?;
        Ok(images.swap_remove(idx))
    }

    /// Whether the filesystem counts as mounted now: overlay asks the mount table; vfs has
    /// no kernel mount, so its stored count is the truth.
    fn mounted_now(&self, rec: &ContainerFsRecord, stored: u32) -> Result<bool> {
        match rec.driver {
            Driver::Overlay => is_mount_point(&container_dir(self.root(), &rec.id).join("merged")),
            Driver::Vfs => Ok(stored > 0),
        }
    }

    /// Applies `op` to the counted mount of `rec`; the caller holds the store lock.
    fn counted_locked(&self, rec: &ContainerFsRecord, op: MountOp, layers: &[PathBuf]) -> Result<u32> {
        let counts = self.mount_counts();
        let _guard = counts.lock()?;
        let stored = counts.read(&rec.id)?;
        let mounted = self.mounted_now(rec, stored)?;
        let (next, action) = mount_transition(op, stored, mounted);
        let dir = container_dir(self.root(), &rec.id);
        let merged = dir.join("merged");
        if rec.driver == Driver::Overlay {
            match action {
                MountAction::Mount => {
                    let empty;
                    let lowers = if layers.is_empty() {
                        // overlayfs needs a lower dir; an image without layers has none.
                        empty = [dir.join("empty")];
                        fsutil::create_dir_all(&empty[0])?;
                        &empty[..]
                    } else {
                        layers
                    };
                    mount_overlay(lowers, &dir.join("upper"), &dir.join("work"), &merged)?;
                }
                MountAction::Unmount => unmount(&merged, op == MountOp::ForceUnmount)?,
                MountAction::Nothing => {}
            }
        }
        if next != stored {
            counts.write(&rec.id, next)?;
        }
        Ok(next)
    }

    /// Removes a container whose ID is `id`; the caller holds the store lock exclusively.
    pub(crate) fn remove_container_locked(&self, id: &str, force: bool) -> Result<()> {
        let mut index = self.read_containers()?;
        let rec = index.containers[find(&index.containers, id)?].clone();
        let users = self.counted_locked(&rec, MountOp::Query, &[])?;
        if users > 0 && !force {
            return Err(StorageError::ContainerMounted { id: rec.id, users });
        }
        if users > 0 {
            self.counted_locked(&rec, MountOp::ForceUnmount, &[])?;
        }
        index.containers.retain(|c| c.id != rec.id);
        // The index first: a crash after it leaves only an unlisted directory behind.
        self.write_containers(&index)?;
        fsutil::remove_path(&container_dir(self.root(), &rec.id))
    }

    /// Records a new image whose layers are `parent`'s plus the uncompressed layer tar at
    /// `layer` (staged in `staging`, inside the store's temp dir); returns its ID.
    fn add_image(
        &self,
        parent: Option<&ImageRecord>,
        mut config: ImageConfig,
        layer: (PathBuf, Digest, u64),
        names: Vec<String>,
        staging: TempDirGuard,
    ) -> Result<String> {
        let (layer_path, diff_id, size) = layer;
        let mut layers: Vec<PlannedLayer> = parent
            .map(|p| {
                p.layers
                    .iter()
                    .map(|l| PlannedLayer {
                        blob: l.blob.clone(),
                        media_type: oci_media_type(&l.media_type).to_string(),
                        size: l.blob_size,
                        diff_id: l.diff_id.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        layers.push(PlannedLayer {
            blob: diff_id.clone(),
            media_type: spec::MEDIA_TYPE_OCI_LAYER.to_string(),
            size,
            diff_id: diff_id.clone(),
        });
        config.rootfs = spec::RootFs {
            fs_type: "layers".into(),
            diff_ids: layers.iter().map(|l| l.diff_id.clone()).collect(),
        };
        let config_bytes = spec::to_json(&config, "image config")?;
        let config_digest = Digest::of_bytes(&config_bytes);
        let layer_descriptors = layers
            .iter()
            .map(|l| Descriptor::new(l.media_type.clone(), l.blob.clone(), l.size))
            .collect();
        let manifest = Manifest::oci(config_digest.clone(), config_bytes.len() as u64, layer_descriptors);
        let manifest_bytes = spec::to_json(&manifest, "manifest")?;
        let plan = ImportPlan {
            images: vec![PlannedImage {
                names,
                manifest_digest: Digest::of_bytes(&manifest_bytes),
                manifest: manifest_bytes,
                manifest_media_type: spec::MEDIA_TYPE_OCI_MANIFEST.to_string(),
                config: config_bytes,
                config_digest,
                config_parsed: config,
                layers,
            }],
            blobs: [(diff_id, Some(layer_path))].into(),
            _staging: staging,
        };
        self.commit(&plan)?
            .pop()
            .ok_or_else(|| StorageError::malformed("image", "nothing was recorded"))
    }

    /// Creates `<staging>/layer.tar`, lets `fill` write the tar, and returns its path,
    /// digest and size.
    fn stage_layer(
        staging: &TempDirGuard,
        fill: impl FnOnce(&mut dyn Write) -> Result<()>,
    ) -> Result<(PathBuf, Digest, u64)> {
        let path = staging.path().join("layer.tar");
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StorageError::io("creating", &path, e))?;
        let mut w = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file));
        fill(&mut w)?;
        let (digest, size, buf) = w.finish();
        let file = buf
            .into_inner()
            .map_err(|e| StorageError::io("writing", &path, e.into_error()))?;
        file.sync_all().map_err(|e| StorageError::io("syncing", &path, e))?;
        Ok((path, digest, size))
    }

    fn names_for(name: Option<&str>) -> Result<Vec<String>> {
        name.map(normalize_name).transpose().map(|n| n.into_iter().collect())
    }

    /// `podman import`: the tarball at `source` (plain, gzip or zstd) as a one-layer image.
    pub(crate) fn import_tarball(&self, source: &Path, options: &ImportOptions) -> Result<String> {
        let names = Self::names_for(options.name.as_deref())?;
        let mut settings = spec::ContainerSettings::default();
        apply_changes(&mut settings, &options.changes)?;
        let staging = TempDirGuard::create_in(&self.tmp_dir(), "import")?;
        let file = File::open(source).map_err(|e| StorageError::io("opening", source, e))?;
        let layer = Self::stage_layer(&staging, |out| {
            let (_, mut reader) = decompress(io::BufReader::with_capacity(256 * 1024, file))?;
            io::copy(&mut reader, out).map_err(|e| StorageError::io("reading", source, e))?;
            Ok(())
        })?;
        let created = now_rfc3339();
        let config = ImageConfig {
            created: Some(created.clone()),
            architecture: spec::host_architecture().to_string(),
            os: "linux".into(),
            config: Some(settings),
            history: vec![History {
                created: Some(created),
                created_by: Some(format!("/bin/sh -c #(nop) ADD file:{} in / ", layer.1.hex())),
                comment: options.message.clone(),
                ..Default::default()
            }],
            ..Default::default()
        };
        self.add_image(None, config, layer, names, staging)
    }
}

impl ContainerFsStore for Store {
    fn create_container(&self, id: &str, image: &str, names: &[String], metadata: &str) -> Result<ContainerFsRecord> {
        let id = if id.is_empty() {
            corral_define::new_id()
                .map_err(|e| StorageError::io("generating a container ID", "", io::Error::other(e)))?
        } else if corral_define::is_full_id(id) {
            id.to_string()
        } else {
            return Err(StorageError::InvalidName {
                name: id.to_string(),
                reason: "a container ID is 64 lowercase hex digits".into(),
            });
        };
        let _guard = self.store_lock().exclusive()?;
        let images = self.images_locked()?;
        let img = &images[lookup(&images, image)?.index];
        let mut index = self.read_containers()?;
        if index.containers.iter().any(|c| c.id == id) {
            return Err(StorageError::ContainerIdInUse { id });
        }
        for name in names {
            if let Some(other) = index.containers.iter().find(|c| c.names.contains(name)) {
                return Err(StorageError::ContainerNameInUse {
                    name: name.clone(),
                    id: other.id.clone(),
                });
            }
        }
        let layers: Vec<PathBuf> = img.layers.iter().rev().map(|l| self.layer_dir(&l.chain_id)).collect();
        let view = LayerView::new(layers);
        let driver = self.driver();
        let staged = TempDirGuard::create_in(&self.tmp_dir(), "container")?;
        let merged = staged.path().join("merged");
        fs::create_dir(&merged).map_err(|e| StorageError::io("creating directory", &merged, e))?;
        match driver {
            Driver::Overlay => {
                for sub in ["upper", "work"] {
                    let p = staged.path().join(sub);
                    fs::create_dir(&p).map_err(|e| StorageError::io("creating directory", &p, e))?;
                }
                if let Some(root) = view.lookup(Path::new(""))? {
                    copy_root_meta(&staged.path().join("upper"), &root.meta)?;
                }
            }
            Driver::Vfs => super::copy::flatten(&view, &merged)?,
        }
        let dest = container_dir(self.root(), &id);
        fsutil::remove_path(&dest)?;
        fs::rename(staged.path(), &dest).map_err(|e| StorageError::io("renaming container into place", &dest, e))?;
        staged.disarm();
        let record = ContainerFsRecord {
            id: id.clone(),
            names: names.to_vec(),
            image_id: img.id.clone(),
            layers: img.layers.iter().map(|l| l.chain_id.clone()).collect(),
            created: now_rfc3339(),
            driver,
            metadata: metadata.to_string(),
        };
        index.containers.push(record.clone());
        if let Err(e) = self.write_containers(&index) {
            let _ = fsutil::remove_path(&dest);
            return Err(e);
        }
        Ok(record)
    }

    fn container(&self, reference: &str) -> Result<ContainerFsRecord> {
        let _guard = self.store_lock().shared()?;
        self.container_locked(reference)
    }

    fn containers(&self) -> Result<Vec<ContainerFsRecord>> {
        let _guard = self.store_lock().shared()?;
        Ok(self.read_containers()?.containers)
    }

    fn remove_container(&self, reference: &str, force: bool) -> Result<()> {
        let _guard = self.store_lock().exclusive()?;
        let containers = self.read_containers()?.containers;
        let id = containers[find(&containers, reference)?].id.clone();
        self.remove_container_locked(&id, force)
    }

    fn set_names(&self, reference: &str, names: &[String]) -> Result<()> {
        let _guard = self.store_lock().exclusive()?;
        let mut index = self.read_containers()?;
        let at = find(&index.containers, reference)?;
        let id = index.containers[at].id.clone();
        for name in names {
            if let Some(other) = index.containers.iter().find(|c| c.id != id && c.names.contains(name)) {
                return Err(StorageError::ContainerNameInUse {
                    name: name.clone(),
                    id: other.id.clone(),
                });
            }
        }
        index.containers[at].names = names.to_vec();
        self.write_containers(&index)
    }

    fn mount(&self, reference: &str) -> Result<PathBuf> {
        let _guard = self.store_lock().shared()?;
        let rec = self.container_locked(reference)?;
        self.counted_locked(&rec, MountOp::Mount, &self.lower_dirs(&rec))?;
        Ok(container_dir(self.root(), &rec.id).join("merged"))
    }

    fn unmount(&self, reference: &str, force: bool) -> Result<u32> {
        let _guard = self.store_lock().shared()?;
        let rec = self.container_locked(reference)?;
        let op = if force { MountOp::ForceUnmount } else { MountOp::Unmount };
        self.counted_locked(&rec, op, &[])
    }

    fn mount_count(&self, reference: &str) -> Result<u32> {
        let _guard = self.store_lock().shared()?;
        let rec = self.container_locked(reference)?;
        self.counted_locked(&rec, MountOp::Query, &[])
    }

    fn mount_path(&self, reference: &str) -> Result<PathBuf> {
        let rec = self.container(reference)?;
        Ok(container_dir(self.root(), &rec.id).join("merged"))
    }

    fn diff(&self, reference: &str) -> Result<Vec<Change>> {
        let _guard = self.store_lock().shared()?;
        let rec = self.container_locked(reference)?;
        let view = LayerView::new(self.lower_dirs(&rec));
        let dir = container_dir(self.root(), &rec.id);
        match rec.driver {
            Driver::Overlay => overlay_changes(&dir.join("upper"), &view),
            Driver::Vfs => tree_changes(&dir.join("merged"), &view),
        }
    }

    fn export(&self, reference: &str, out: &mut dyn Write) -> Result<()> {
        let rec = self.container(reference)?;
        let merged = ContainerFsStore::mount(self, &rec.id)?;
        let _mounted = TemporaryMount {
            store: self,
            id: rec.id,
        };
        super::tarball::write_tree_tar(&merged, out)
    }

    fn commit(&self, reference: &str, options: &CommitOptions) -> Result<String> {
        let names = Self::names_for(options.name.as_deref())?;
        let staging = TempDirGuard::create_in(&self.tmp_dir(), "commit")?;
        let (image, mut config, layer) = {
            let _guard = self.store_lock().shared()?;
            let rec = self.container_locked(reference)?;
            let image = self.image_of_locked(&rec)?;
            let view = LayerView::new(self.lower_dirs(&rec));
            let dir = container_dir(self.root(), &rec.id);
            let (changes, source) = match rec.driver {
                Driver::Overlay => (overlay_changes(&dir.join("upper"), &view)?, dir.join("upper")),
                Driver::Vfs => (tree_changes(&dir.join("merged"), &view)?, dir.join("merged")),
            };
            let layer = Self::stage_layer(&staging, |out| {
                super::tarball::write_changes_tar(&changes, &source, out)
            })?;
            let config = (*self.config_of(&image)?).clone();
            (image, config, layer)
        };
        let created = now_rfc3339();
        let settings = config.config.get_or_insert_with(Default::default);
        apply_changes(settings, &options.changes)?;
        config.created = Some(created.clone());
        config.author = options.author.clone();
        config.history.push(History {
            created: Some(created),
            created_by: options.created_by.clone(),
            author: options.author.clone(),
            comment: options.message.clone(),
            empty_layer: false,
        });
        self.add_image(Some(&image), config, layer, names, staging)
    }
}
