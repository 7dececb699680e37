//! What a container changed against its image (`podman diff`).
//!
//! overlay: every name in the upper dir is a change: a whiteout is a deletion, a name the
//! image has is a change, any other is an addition; under an opaque directory, the image's
//! names the upper dir lacks are deletions.
//! vfs: the container's copy is compared with the image's view, name by name, on the
//! metadata a content change moves (type, mode, owner, device, size, mtime; for
//! directories only type, mode and owner); a directory holding a change is itself changed,
//! and a deleted directory is one deletion (its contents are not listed).

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::view::{Found, LayerView};
use crate::archive::{is_opaque_dir, is_whiteout};
use crate::error::{Result, StorageError};

/// podman's change kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChangeKind {
    /// `A`: not in the image.
    Added,
    /// `C`: in the image, but different.
    Changed,
    /// `D`: in the image, gone from the container.
    Deleted,
}

impl ChangeKind {
    /// The letter `podman diff` prints.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One changed path (absolute inside the container: `/etc/motd`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.letter(), self.path)
    }
}

fn change(rel: &Path, kind: ChangeKind) -> Change {
    Change {
        path: format!("/{}", rel.display()),
        kind,
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<(OsString, Metadata)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| StorageError::io("listing", dir, e))? {
        let entry = entry.map_err(|e| StorageError::io("listing", dir, e))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(|e| StorageError::io("inspecting", &path, e))?;
        out.push((entry.file_name(), meta));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn finish(mut changes: Vec<Change>) -> Vec<Change> {
    changes.sort();
    changes.dedup_by(|a, b| a.path == b.path);
    changes
}

/// Changes recorded in an overlay upper directory over `lower`.
pub(crate) fn overlay_changes(upper: &Path, lower: &LayerView) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    overlay_dir(upper, Path::new(""), lower, &mut out)?;
    Ok(finish(out))
}

fn overlay_dir(upper: &Path, rel: &Path, lower: &LayerView, out: &mut Vec<Change>) -> Result<()> {
    let dir = upper.join(rel);
    let entries = sorted_entries(&dir)?;
    if is_opaque_dir(&dir) {
        for (name, _) in lower.list(rel)? {
            if !entries.iter().any(|(n, _)| *n == name) {
                out.push(change(&rel.join(name), ChangeKind::Deleted));
            }
        }
    }
    for (name, meta) in entries {
        let child = rel.join(&name);
        let in_lower = lower.lookup(&child)?;
        if is_whiteout(&meta) {
            if in_lower.is_some() {
                out.push(change(&child, ChangeKind::Deleted));
            }
            continue;
        }
        let kind = if in_lower.is_some() {
            ChangeKind::Changed
        } else {
            ChangeKind::Added
        };
        out.push(change(&child, kind));
        if meta.is_dir() {
            if kind == ChangeKind::Added {
                all_added(upper, &child, out)?;
            } else {
                overlay_dir(upper, &child, lower, out)?;
            }
        }
    }
    Ok(())
}

/// Everything below a new directory is new (whiteouts there hide nothing).
fn all_added(base: &Path, rel: &Path, out: &mut Vec<Change>) -> Result<()> {
    for (name, meta) in sorted_entries(&base.join(rel))? {
        let child = rel.join(&name);
        if is_whiteout(&meta) {
            continue;
        }
        out.push(change(&child, ChangeKind::Added));
        if meta.is_dir() {
            all_added(base, &child, out)?;
        }
    }
    Ok(())
}

/// True when a content or status change shows in the metadata (go's `statDifferent`).
fn differs(old: &Found, new: &Metadata, new_path: &Path) -> Result<bool> {
    let o = &old.meta;
    if o.file_type() != new.file_type()
        || o.mode() != new.mode()
        || o.uid() != new.uid()
        || o.gid() != new.gid()
        || o.rdev() != new.rdev()
    {
        return Ok(true);
    }
    if new.is_dir() {
        return Ok(false);
    }
    if o.size() != new.size() || o.mtime() != new.mtime() || o.mtime_nsec() != new.mtime_nsec() {
        return Ok(true);
    }
    if new.file_type().is_symlink() {
        let a = fs::read_link(&old.path).map_err(|e| StorageError::io("reading symlink", &old.path, e))?;
        let b = fs::read_link(new_path).map_err(|e| StorageError::io("reading symlink", new_path, e))?;
        return Ok(a != b);
    }
    Ok(false)
}

/// Changes between a full copy `rootfs` and the image view `lower` (the vfs driver).
pub(crate) fn tree_changes(rootfs: &Path, lower: &LayerView) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    tree_dir(rootfs, Path::new(""), lower, &mut out)?;
    Ok(finish(out))
}

/// Compares directory `rel` (present in both); returns whether anything below changed.
fn tree_dir(rootfs: &Path, rel: &Path, lower: &LayerView, out: &mut Vec<Change>) -> Result<bool> {
    let before = out.len();
    let entries = sorted_entries(&rootfs.join(rel))?;
    for (name, _) in lower.list(rel)? {
        if !entries.iter().any(|(n, _)| *n == name) {
            out.push(change(&rel.join(name), ChangeKind::Deleted));
        }
    }
    for (name, meta) in entries {
        let child: PathBuf = rel.join(&name);
        match lower.lookup(&child)? {
            None => {
                out.push(change(&child, ChangeKind::Added));
                if meta.is_dir() {
                    all_added(rootfs, &child, out)?;
                }
            }
            Some(old) => {
                let changed = differs(&old, &meta, &rootfs.join(&child))?;
                if changed {
                    out.push(change(&child, ChangeKind::Changed));
                }
                if meta.is_dir() {
                    if old.meta.is_dir() {
                        let inner = tree_dir(rootfs, &child, lower, out)?;
                        if inner && !changed {
                            out.push(change(&child, ChangeKind::Changed));
                        }
                    } else {
                        all_added(rootfs, &child, out)?;
                    }
                }
            }
        }
    }
    Ok(out.len() > before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vfs_compare_reports_added_changed_deleted() {
        let t = tempfile::tempdir().unwrap();
        let (img, copy) = (t.path().join("img"), t.path().join("copy"));
        for d in [&img, &copy] {
            fs::create_dir_all(d.join("etc/sub")).unwrap();
            fs::create_dir_all(d.join("var")).unwrap();
            fs::write(d.join("etc/keep"), "same").unwrap();
            fs::write(d.join("etc/sub/x"), "x").unwrap();
        }
        let same_time = fs::metadata(img.join("etc/keep")).unwrap().modified().unwrap();
        fs::File::options()
            .write(true)
            .open(copy.join("etc/keep"))
            .unwrap()
            .set_modified(same_time)
            .unwrap();
        let m = fs::metadata(img.join("etc/sub/x")).unwrap().modified().unwrap();
        fs::File::options()
            .write(true)
            .open(copy.join("etc/sub/x"))
            .unwrap()
            .set_modified(m)
            .unwrap();
        fs::write(img.join("var/gone"), "").unwrap();
        fs::write(copy.join("etc/new"), "").unwrap();
        fs::write(copy.join("etc/sub/x"), "changed!").unwrap();
        let got: Vec<String> = tree_changes(&copy, &LayerView::new(vec![img]))
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "C /etc",
                "A /etc/new",
                "C /etc/sub",
                "C /etc/sub/x",
                "C /var",
                "D /var/gone"
            ]
        );
    }
}
