//! Named volumes: the [`VolumeDriver`] trait and podman's `local` driver.
//!
//! A local volume is a directory `<volume path>/<name>/_data` (podman's layout). With the
//! options `type`, `device` and `o` it is instead a filesystem mounted on `_data` while
//! containers use it (`type=tmpfs,device=tmpfs,o=size=2m`, `type=bind,device=/srv/x`, a
//! block device...). Mount counts live in the state store, so the caller says whether a
//! mount is the first or an unmount the last. Labels are the caller's to record.
//!
//! Sizes: a tmpfs volume takes `size` as its mount option. A plain directory would need
//! project quotas (podman sets an XFS project quota on the volume directory and refuses
//! the option elsewhere); this driver sets no quotas, so it refuses `size` and `inodes` on
//! plain directories with podman's message for filesystems without project quota.

mod options;

use std::fs;
use std::path::{Path, PathBuf};

use corral_define::VolumeConfig;
use rustix::fs::{Gid, Uid};

use crate::error::{Result, StorageError};
use crate::fsutil;
use crate::rootfs::{copy_tree_contents, is_mount_point};

pub use options::{LocalVolumeOptions, parse_human_size};

/// What a volume driver does; `core` keeps the records and the mount counts.
pub trait VolumeDriver {
    /// The driver's name (`local`).
    fn name(&self) -> &str;
    /// Validates `config.options`, makes the volume, and fills in `mount_point`, `uid`,
    /// `gid`, `size` and `inodes` from them.
    fn create(&self, config: &mut VolumeConfig) -> Result<()>;
    /// Makes the volume's content available at its mount point (mounting its filesystem
    /// when `first_user` and it has one) and returns the path.
    fn mount(&self, config: &VolumeConfig, first_user: bool) -> Result<PathBuf>;
    /// The reverse of `mount`: the last user unmounts the filesystem, if any.
    fn unmount(&self, config: &VolumeConfig, last_user: bool) -> Result<()>;
    /// Deletes the volume and its data. Refused while `mount_count` says containers use it
    /// or its filesystem is mounted, unless `force` (which unmounts).
    fn remove(&self, config: &VolumeConfig, mount_count: u32, force: bool) -> Result<()>;
    /// Copies the image content at a container's mount point (`source`) into the volume
    /// when the volume is empty (a mounted filesystem must be mounted first). Returns
    /// whether anything was copied.
    fn copy_up(&self, config: &VolumeConfig, source: &Path) -> Result<bool>;
    /// The names of the volumes present.
    fn list(&self) -> Result<Vec<String>>;
}

/// podman's `local` volume driver.
#[derive(Debug, Clone)]
pub struct LocalVolumeDriver {
    path: PathBuf,
}

fn chown(path: &Path, uid: Option<u32>, gid: Option<u32>) -> Result<()> {
    if uid.is_none() && gid.is_none() {
        return Ok(());
    }
    rustix::fs::chown(path, uid.map(Uid::from_raw), gid.map(Gid::from_raw))
        .map_err(|e| StorageError::io("setting owner", path, e.into()))
}

impl LocalVolumeDriver {
    /// Volumes live under `volume_path` (podman's `volume_path`, `<root>/volumes`).
    pub fn new(volume_path: &Path) -> Result<Self> {
        fsutil::create_dir_all(volume_path)?;
        let path = fs::canonicalize(volume_path).map_err(|e| StorageError::io("resolving", volume_path, e))?;
        Ok(Self { path })
    }

    /// `<volume path>/<name>`.
    fn volume_dir(&self, name: &str) -> Result<PathBuf> {
        corral_define::validate_name(name).map_err(|e| StorageError::InvalidName {
            name: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(self.path.join(name))
    }

    /// Where a volume's data is: `<volume path>/<name>/_data`.
    pub fn data_dir(&self, name: &str) -> Result<PathBuf> {
        Ok(self.volume_dir(name)?.join("_data"))
    }
}

impl VolumeDriver for LocalVolumeDriver {
    fn name(&self) -> &str {
        corral_define::LOCAL_DRIVER
    }

    fn create(&self, config: &mut VolumeConfig) -> Result<()> {
        let opts = LocalVolumeOptions::parse(&config.options)?;
        let dir = self.volume_dir(&config.name)?;
        if fs::symlink_metadata(&dir).is_ok() {
            return Err(StorageError::VolumeExists {
                name: config.name.clone(),
            });
        }
        let data = dir.join("_data");
        let result = (|| {
            fs::create_dir(&dir).map_err(|e| StorageError::io("creating volume directory", &dir, e))?;
            fs::create_dir(&data).map_err(|e| StorageError::io("creating volume directory", &data, e))?;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| StorageError::io("setting mode", &dir, e))?;
            fs::set_permissions(&data, fs::Permissions::from_mode(0o755))
                .map_err(|e| StorageError::io("setting mode", &data, e))?;
            chown(&dir, opts.uid, opts.gid)?;
            chown(&data, opts.uid, opts.gid)
        })();
        if let Err(e) = result {
            let _ = fsutil::remove_path(&dir);
            return Err(e);
        }
        config.driver = corral_define::LOCAL_DRIVER.to_string();
        config.mount_point = data.display().to_string();
        config.uid = opts.uid;
        config.gid = opts.gid;
        config.size = opts.size.unwrap_or(0);
        config.inodes = opts.inodes.unwrap_or(0);
        Ok(())
    }

    fn mount(&self, config: &VolumeConfig, first_user: bool) -> Result<PathBuf> {
        let data = self.data_dir(&config.name)?;
        if !data.is_dir() {
            return Err(StorageError::NoSuchVolume {
                name: config.name.clone(),
            });
        }
        let opts = LocalVolumeOptions::parse(&config.options)?;
        if let Some(spec) = opts.mount_spec()
            && first_user
            && !is_mount_point(&data)?
        {
            spec.mount(&data)?;
            if spec.fs_type != "tmpfs" && !spec.is_bind() {
                chown(&data, opts.uid, opts.gid)?;
            }
        }
        Ok(data)
    }

    fn unmount(&self, config: &VolumeConfig, last_user: bool) -> Result<()> {
        let data = self.data_dir(&config.name)?;
        let opts = LocalVolumeOptions::parse(&config.options)?;
        if opts.mount_spec().is_some() && last_user && is_mount_point(&data)? {
            crate::rootfs::unmount(&data, false)?;
        }
        Ok(())
    }

    fn remove(&self, config: &VolumeConfig, mount_count: u32, force: bool) -> Result<()> {
        let dir = self.volume_dir(&config.name)?;
        let data = dir.join("_data");
        if mount_count > 0 && !force {
            return Err(StorageError::VolumeInUse {
                name: config.name.clone(),
                reason: format!("used by {mount_count} container(s)"),
            });
        }
        if is_mount_point(&data)? {
            if !force {
                return Err(StorageError::VolumeInUse {
                    name: config.name.clone(),
                    reason: format!("a filesystem is mounted at {}", data.display()),
                });
            }
            crate::rootfs::unmount(&data, true)?;
        }
        fsutil::remove_path(&dir)
    }

    fn copy_up(&self, config: &VolumeConfig, source: &Path) -> Result<bool> {
        let data = self.data_dir(&config.name)?;
        let mut entries = fs::read_dir(&data).map_err(|e| StorageError::io("listing", &data, e))?;
        if entries.next().is_some() || !source.is_dir() {
            return Ok(false);
        }
        copy_tree_contents(source, &data)?;
        if config.uid.is_none() && config.gid.is_none() {
            // Like podman: the volume takes the owner and mode of the directory it covers.
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let meta = fs::metadata(source).map_err(|e| StorageError::io("inspecting", source, e))?;
            if fsutil::is_root() {
                chown(&data, Some(meta.uid()), Some(meta.gid()))?;
            }
            fs::set_permissions(&data, fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(|e| StorageError::io("setting mode", &data, e))?;
        }
        Ok(true)
    }

    fn list(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(|e| StorageError::io("listing", &self.path, e))? {
            let entry = entry.map_err(|e| StorageError::io("listing", &self.path, e))?;
            if entry.path().join("_data").is_dir() {
                out.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }
}
