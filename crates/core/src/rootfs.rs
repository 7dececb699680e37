//! The seam between the engine and the storage crate: images to create from and
//! container root filesystems. [`corral_storage::Store`] implements it; unit tests
//! implement it with plain directories.

use std::fmt;
use std::path::PathBuf;

use corral_storage::spec::ContainerSettings;
use corral_storage::{ContainerFsStore, ImageStore, Store};

use crate::error::Result;

/// An image resolved for a new container.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ImageInfo {
    pub id: String,
    /// The name the user most likely meant (first name of the image), or the reference.
    pub name: String,
    /// The image's defaults for containers.
    pub settings: ContainerSettings,
}

/// What the engine needs from storage for containers.
pub(crate) trait RootfsStore: Send + Sync + fmt::Debug {
    fn image(&self, reference: &str) -> Result<ImageInfo>;
    /// Makes the root filesystem of container `id` (called `name`) from image `image_id`.
    fn create(&self, id: &str, image_id: &str, name: &str) -> Result<()>;
    /// Mounts (or counts one more user of) the root filesystem; returns where it is.
    fn mount(&self, id: &str) -> Result<PathBuf>;
    /// One user fewer (all of them with `force`).
    fn unmount(&self, id: &str, force: bool) -> Result<()>;
    /// Removes the root filesystem, unmounting it first.
    fn remove(&self, id: &str) -> Result<()>;
    /// Gives the root filesystem the container's new name (storage keeps names unique too).
    fn rename(&self, id: &str, name: &str) -> Result<()>;
}

impl RootfsStore for Store {
    fn image(&self, reference: &str) -> Result<ImageInfo> {
        let rec = ImageStore::lookup(self, reference)?;
        let config = ImageStore::config(self, &rec.id)?;
        Ok(ImageInfo {
            name: rec.names.first().cloned().unwrap_or_else(|| reference.to_string()),
            id: rec.id,
            settings: config.config.unwrap_or_default(),
        })
    }

    fn create(&self, id: &str, image_id: &str, name: &str) -> Result<()> {
        ContainerFsStore::create_container(self, id, image_id, &[name.to_string()], "")?;
        Ok(())
    }

    fn mount(&self, id: &str) -> Result<PathBuf> {
        Ok(ContainerFsStore::mount(self, id)?)
    }

    fn unmount(&self, id: &str, force: bool) -> Result<()> {
        ContainerFsStore::unmount(self, id, force)?;
        Ok(())
    }

    fn remove(&self, id: &str) -> Result<()> {
        match ContainerFsStore::remove_container(self, id, true) {
            Err(e) if corral_define::HasKind::kind(&e) == corral_define::ErrorKind::NoSuchContainer => Ok(()),
            other => Ok(other?),
        }
    }

    fn rename(&self, id: &str, name: &str) -> Result<()> {
        ContainerFsStore::set_names(self, id, &[name.to_string()])?;
        Ok(())
    }
}
