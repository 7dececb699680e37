//! Named and anonymous volumes in containers, as libpod uses them: made (when
//! missing) at create, mounted through their driver at init (the first user mounts,
//! and an empty volume gets the image's content at its destination copied up once),
//! bound into the OCI spec, unmounted at cleanup (the last user unmounts), and the
//! anonymous ones removed with the container when asked (`rm -v`, `--rm`).

use std::path::Path;

use corral_define::{ErrorKind, HasKind, NamedVolumeMount};
use corral_storage::VolumeDriver;
use serde_json::{Value, json};

use super::Container;
use crate::container_spec::{ContainerSpec, VolumeMount};
use crate::error::{CoreError, Result};
use crate::rootfs::ImageInfo;
use crate::runtime::Runtime;
use crate::volume::VolumeSpec;

/// The volumes a new container gets, and the ones made for it (undone if creating fails).
pub(crate) struct PreparedVolumes {
    pub mounts: Vec<NamedVolumeMount>,
    pub made: Vec<String>,
}

impl Runtime {
    /// Makes the volumes `spec` names (when missing) and an anonymous volume for every
    /// `-v /dest` and every image VOLUME no other mount covers.
    pub(crate) fn prepare_volumes(&self, spec: &ContainerSpec, image: &ImageInfo) -> Result<PreparedVolumes> {
        let mut prepared = PreparedVolumes {
            mounts: Vec::new(),
            made: Vec::new(),
        };
        let mut wanted: Vec<VolumeMount> = spec.volumes.clone();
        let taken = |dest: &str, wanted: &[VolumeMount]| {
            let dest = dest.trim_end_matches('/');
            spec.mounts.iter().any(|m| m.destination.trim_end_matches('/') == dest)
                || wanted.iter().any(|v| v.destination.trim_end_matches('/') == dest)
        };
        for dest in image.settings.volumes.iter().flat_map(|v| v.keys()) {
            if !taken(dest, &wanted) {
                wanted.push(VolumeMount {
                    name: None,
                    destination: dest.clone(),
                    options: Vec::new(),
                });
            }
        }
        for volume in wanted {
            if !volume.destination.starts_with('/') {
                self.discard_volumes(&prepared.made);
                return Err(CoreError::InvalidArg(format!(
                    "invalid container path {:?}, must be an absolute path",
                    volume.destination
                )));
            }
            let made = match &volume.name {
                Some(name) if self.has_volume(name)? => Ok(None),
                Some(name) => self
                    .new_volume(VolumeSpec {
                        name: Some(name.clone()),
                        ..VolumeSpec::default()
                    })
                    .map(Some),
                None => self
                    .new_volume(VolumeSpec {
                        anonymous: true,
                        ..VolumeSpec::default()
                    })
                    .map(Some),
            };
            let name = match made {
                Ok(Some(v)) => {
                    prepared.made.push(v.name().to_owned());
                    v.name().to_owned()
                }
                Ok(None) => volume.name.clone().unwrap_or_default(),
                Err(e) => {
                    self.discard_volumes(&prepared.made);
                    return Err(e);
                }
            };
            prepared.mounts.push(NamedVolumeMount {
                name: name.into(),
                dest: volume.destination.into(),
                options: volume.options.into_iter().map(Into::into).collect(),
                sub_path: String::new().into(),
            });
        }
        Ok(prepared)
    }

    /// Removes volumes made for a container that was never recorded.
    pub(crate) fn discard_volumes(&self, names: &[String]) {
        for name in names {
            let removed = (|| -> Result<()> {
                let record = self.inner.state.volume(name)?;
                let driver = self.volume_driver(&record.config.driver)?;
                self.inner.state.remove_volume(name)?;
                driver.remove(&record.config, 0, true)?;
                self.inner.locks.retrieve_lock(record.config.lock_id)?.free()?;
                Ok(())
            })();
            if let Err(e) = removed {
                tracing::warn!("removing volume {name} after a failed create: {e}");
            }
        }
    }

    /// Removes the anonymous ones among `volumes` (`rm -v`); one still used by another
    /// container stays, as in podman.
    pub async fn remove_anonymous_volumes(&self, volumes: &[NamedVolumeMount]) -> Result<()> {
        for mount in volumes {
            let volume = match self.inner.state.volume(&mount.name) {
                Ok(record) if record.config.is_anon => self.lookup_volume(&mount.name)?,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::NoSuchVolume => continue,
                Err(e) => return Err(e.into()),
            };
            match self.remove_volume(&volume, false).await {
                Err(e) if matches!(e.kind(), ErrorKind::VolumeInUse | ErrorKind::NoSuchVolume) => {
                    tracing::debug!("keeping anonymous volume {}: {e}", mount.name);
                }
                other => other?,
            }
        }
        Ok(())
    }
}

impl Container {
    /// Mounts every volume of the container (one more user each); the first use of an
    /// empty volume copies up what the image has at its destination.
    pub(crate) fn mount_volumes(&self, rootfs: &Path) -> Result<()> {
        let volumes = &self.config.root_fs.named_volumes;
        for (done, mount) in volumes.iter().enumerate() {
            if let Err(e) = self.mount_volume(mount, rootfs) {
                self.unmount_volumes_list(&volumes[..done]);
                return Err(e);
            }
        }
        Ok(())
    }

    fn mount_volume(&self, mount: &NamedVolumeMount, rootfs: &Path) -> Result<()> {
        let rt = &self.rt;
        let record = rt.inner.state.volume(&mount.name)?;
        let lock = rt.inner.locks.retrieve_lock(record.config.lock_id)?;
        let _guard = lock.lock()?;
        let mut record = rt.inner.state.volume(&mount.name)?;
        let driver = rt.volume_driver(&record.config.driver)?;
        driver.mount(&record.config, record.state.mount_count == 0)?;
        record.state.mount_count += 1;
        if record.state.needs_copy_up {
            let source = rootfs.join(mount.dest.trim_start_matches('/'));
            if source.is_dir() {
                driver.copy_up(&record.config, &source)?;
            }
            record.state.needs_copy_up = false;
        }
        rt.inner.state.save_volume(&record)?;
        Ok(())
    }

    /// One user fewer for every volume of the container.
    pub(crate) fn unmount_volumes(&self) {
        self.unmount_volumes_list(&self.config.root_fs.named_volumes);
    }

    fn unmount_volumes_list(&self, volumes: &[NamedVolumeMount]) {
        for mount in volumes {
            if let Err(e) = self.unmount_volume(mount) {
                tracing::warn!("unmounting volume {} of container {}: {e}", mount.name, self.id());
            }
        }
    }

    fn unmount_volume(&self, mount: &NamedVolumeMount) -> Result<()> {
        let rt = &self.rt;
        let record = rt.inner.state.volume(&mount.name)?;
        let lock = rt.inner.locks.retrieve_lock(record.config.lock_id)?;
        let _guard = lock.lock()?;
        let mut record = rt.inner.state.volume(&mount.name)?;
        if record.state.mount_count == 0 {
            return Ok(());
        }
        record.state.mount_count -= 1;
        let driver = rt.volume_driver(&record.config.driver)?;
        driver.unmount(&record.config, record.state.mount_count == 0)?;
        rt.inner.state.save_volume(&record)?;
        Ok(())
    }

    /// The OCI mounts binding the container's volumes at their destinations.
    pub(crate) fn volume_binds(&self) -> Result<Vec<Value>> {
        let mut binds = Vec::new();
        for mount in &self.config.root_fs.named_volumes {
            let record = self.rt.inner.state.volume(&mount.name)?;
            let mut options = vec![
                "rbind".to_owned(),
                "rprivate".to_owned(),
                "nosuid".into(),
                "nodev".into(),
            ];
            options.extend(
                mount
                    .options
                    .iter()
                    .filter(|o| !matches!(o.as_str(), "z" | "Z"))
                    .map(|o| o.to_string()),
            );
            binds.push(json!({"destination": mount.dest, "type": "bind",
                              "source": record.config.mount_point, "options": options}));
        }
        Ok(binds)
    }
}
