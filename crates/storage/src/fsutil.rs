//! Small filesystem helpers whose errors carry the path and the operation.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, StorageError};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other process or thread will pick: `<prefix>-<pid>-<counter>-<nanos>`.
pub(crate) fn unique_name(prefix: &str) -> String {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

/// Writes `bytes` to `path` so that readers see the old or the new content, never a torn file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(unique_name(".tmp"));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StorageError::io("creating", &tmp, e))?;
        f.write_all(bytes).map_err(|e| StorageError::io("writing", &tmp, e))?;
        f.sync_all().map_err(|e| StorageError::io("syncing", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| StorageError::io("renaming into place", path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Reads a whole file, refusing files larger than `limit` bytes (they come from untrusted input).
pub(crate) fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| StorageError::io("opening", path, e))?;
    read_all_limited(f, limit).map_err(|e| match e {
        LimitedReadError::Io(e) => StorageError::io("reading", path, e),
        LimitedReadError::TooBig => StorageError::malformed(what, format!("larger than {limit} bytes")),
    })
}

pub(crate) enum LimitedReadError {
    Io(std::io::Error),
    TooBig,
}

pub(crate) fn read_all_limited(r: impl Read, limit: u64) -> Result<Vec<u8>, LimitedReadError> {
    let mut buf = Vec::new();
    r.take(limit + 1).read_to_end(&mut buf).map_err(LimitedReadError::Io)?;
    if buf.len() as u64 > limit {
        return Err(LimitedReadError::TooBig);
    }
    Ok(buf)
}

pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| StorageError::io("creating directory", path, e))
}

/// Removes a file or directory tree; a missing path is not an error.
pub(crate) fn remove_path(path: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StorageError::io("inspecting", path, e)),
    };
    let r = if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::io("removing", path, e)),
        _ => Ok(()),
    }
}

/// True when this process can create device nodes and change owners.
pub(crate) fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A directory that is removed when dropped unless it was kept.
#[derive(Debug)]
pub(crate) struct TempDirGuard {
    path: Option<PathBuf>,
}

impl TempDirGuard {
    pub(crate) fn create_in(parent: &Path, prefix: &str) -> Result<Self> {
        create_dir_all(parent)?;
        let path = parent.join(unique_name(prefix));
        fs::create_dir(&path).map_err(|e| StorageError::io("creating directory", &path, e))?;
        Ok(Self { path: Some(path) })
    }

    pub(crate) fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Stops the guard from removing the directory (it was renamed away).
    pub(crate) fn disarm(mut self) {
        self.path = None;
    }
}

impl Drop for TempDirGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = remove_path(&p);
        }
    }
}

/// A reader that reports how many bytes went through it so far, for a progress bar.
pub(crate) struct ProgressReader<'a, R> {
    inner: R,
    read: u64,
    progress: &'a dyn Fn(u64),
}

impl<'a, R> ProgressReader<'a, R> {
    pub(crate) fn new(inner: R, progress: &'a dyn Fn(u64)) -> Self {
        ProgressReader {
            inner,
            read: 0,
            progress,
        }
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.progress)(self.read);
        Ok(n)
    }
}

/// A writer that reports how many bytes went through it so far, for a progress bar.
pub(crate) struct ProgressWriter<'a, W> {
    pub(crate) inner: W,
    written: u64,
    progress: &'a dyn Fn(u64),
}

impl<'a, W> ProgressWriter<'a, W> {
    pub(crate) fn new(inner: W, progress: &'a dyn Fn(u64)) -> Self {
        ProgressWriter {
            inner,
            written: 0,
            progress,
        }
    }
}

impl<W: Write> Write for ProgressWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        (self.progress)(self.written);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
