//! Engine-wide operations of [`Runtime`], libpod's `system` verbs: [`Runtime::info`],
//! [`Runtime::reset`], [`Runtime::renumber`], [`Runtime::migrate`] and
//! [`Runtime::shutdown`], one file per verb.
//!
//! Renumber, migrate and reset hold the engine lock (`<runroot>/alive.lck`, libpod's
//! runtime alive lock) exclusively; [`Runtime::new`] takes it shared while it checks
//! the `alive` marker, so no corral process starts while they work.

mod info;
mod migrate;
mod renumber;
mod reset;
mod shutdown;
mod version;

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{CoreError, Result};

pub use info::{
    ConmonInfo, ContainerStoreInfo, DistributionInfo, HostInfo, IdMap, IdMappings, ImageStoreInfo, Info,
    OciRuntimeInfo, Plugins, SecurityInfo, StoreInfo,
};
pub use migrate::MigrateReport;
pub use version::Version;

/// The engine lock's file name in the runroot.
pub(crate) const ENGINE_LOCK_FILE: &str = "alive.lck";

/// The engine lock, held until dropped.
#[derive(Debug)]
pub(crate) struct EngineLock {
    _file: File,
}

impl EngineLock {
    fn open(runroot: &Path) -> Result<(File, PathBuf)> {
        let path = runroot.join(ENGINE_LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| CoreError::io("opening the engine lock", &path, e))?;
        Ok((file, path))
    }

    /// Shared: many processes at once, none while someone holds it exclusively.
    pub(crate) fn shared(runroot: &Path) -> Result<EngineLock> {
        let (file, path) = Self::open(runroot)?;
        file.lock_shared()
            .map_err(|e| CoreError::io("locking the engine lock (shared)", &path, e))?;
        Ok(EngineLock { _file: file })
    }

    /// Exclusive: waits for every holder to let go.
    pub(crate) fn exclusive(runroot: &Path) -> Result<EngineLock> {
        let (file, path) = Self::open(runroot)?;
        file.lock()
            .map_err(|e| CoreError::io("locking the engine lock", &path, e))?;
        Ok(EngineLock { _file: file })
    }
}

#[cfg(test)]
mod tests;
