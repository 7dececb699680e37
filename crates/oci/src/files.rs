//! Small filesystem steps, each error naming the path and the action.

use std::path::{Path, PathBuf};

use crate::error::OciError;

/// Removes a file that may not exist.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), OciError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OciError::io("removing", path, e)),
    }
}

pub(crate) fn create_dir(path: &Path) -> Result<(), OciError> {
    std::fs::create_dir_all(path).map_err(|e| OciError::io("creating directory", path, e))
}

/// Writes a file whole: a temporary name in the same directory, renamed.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), OciError> {
    let tmp: PathBuf = {
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".tmp-{}", std::process::id()));
        path.with_file_name(name)
    };
    std::fs::write(&tmp, contents).map_err(|e| OciError::io("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| OciError::io("renaming into place", path, e))
}
