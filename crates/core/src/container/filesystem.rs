//! The container's root filesystem as `diff`, `export`, `commit`, `mount` and
//! `unmount` see it: storage's operations under the container's lock.

use std::io::Write;
use std::path::PathBuf;

use corral_define::ContainerStatus;
use corral_storage::{Change, CommitOptions, ContainerFsStore};

use super::Container;
use crate::error::{CoreError, Result};

impl Container {
    /// What the container changed against its image, sorted by path.
    pub async fn diff(&self) -> Result<Vec<Change>> {
        let (_guard, _rec) = self.lock_and_sync().await?;
        Ok(ContainerFsStore::diff(self.rt.storage()?, self.id())?)
    }

    /// Writes the container's whole filesystem to `out` as a tar.
    pub async fn export(&self, out: &mut dyn Write) -> Result<()> {
        let (_guard, _rec) = self.lock_and_sync().await?;
        ContainerFsStore::export(self.rt.storage()?, self.id(), out)?;
        self.event("export");
        Ok(())
    }

    /// Makes a new image of the container's changes on its image and returns its
    /// ID; with `pause`, a running container is paused meanwhile.
    pub async fn commit(&self, options: &CommitOptions, pause: bool) -> Result<String> {
        let paused = pause && self.status().await? == ContainerStatus::Running;
        if paused {
            self.pause().await?;
        }
        let committed = {
            let (_guard, _rec) = self.lock_and_sync().await?;
            ContainerFsStore::commit(self.rt.storage()?, self.id(), options)
        };
        if paused {
            self.unpause().await?;
        }
        let image = committed?;
        self.event("commit");
        Ok(image)
    }

    /// Mounts the root filesystem (one more user) and returns where it is.
    pub async fn mount(&self) -> Result<PathBuf> {
        let (_guard, _rec) = self.lock_and_sync().await?;
        let path = ContainerFsStore::mount(self.rt.storage()?, self.id())?;
        self.event("mount");
        Ok(path)
    }

    /// One user fewer of the root filesystem (all of them with `force`). The last
    /// mount of a running or paused container stays: the container uses it.
    pub async fn unmount(&self, force: bool) -> Result<()> {
        let (_guard, rec) = self.lock_and_sync().await?;
        let storage = self.rt.storage()?;
        let active = matches!(rec.state.state, ContainerStatus::Running | ContainerStatus::Paused);
        if active && ContainerFsStore::mount_count(storage, self.id())? <= 1 {
            return Err(CoreError::InvalidState(format!(
                "cannot unmount storage for container {} as it is running or paused",
                self.id()
            )));
        }
        ContainerFsStore::unmount(storage, self.id(), force)?;
        self.event("unmount");
        Ok(())
    }
}
