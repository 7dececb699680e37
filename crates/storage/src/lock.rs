//! The store-wide lock: a `flock` on a file, so it dies with its holder.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};

/// A lock file shared by every process that opens the same store.
#[derive(Debug, Clone)]
pub(crate) struct StoreLock {
    path: PathBuf,
}

/// Holds the lock until dropped (closing the file releases the flock).
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

impl StoreLock {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    fn open(&self) -> Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(|e| StorageError::io("opening lock file", &self.path, e))
    }

    /// Waits for the exclusive lock.
    pub(crate) fn exclusive(&self) -> Result<LockGuard> {
        let file = self.open()?;
        file.lock().map_err(|e| StorageError::io("locking", &self.path, e))?;
        Ok(LockGuard { _file: file })
    }

    /// Waits for a shared lock (readers that must see blobs and index agree).
    pub(crate) fn shared(&self) -> Result<LockGuard> {
        let file = self.open()?;
        file.lock_shared()
            .map_err(|e| StorageError::io("locking (shared)", &self.path, e))?;
        Ok(LockGuard { _file: file })
    }
}
