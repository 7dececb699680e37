//! Copying trees with their metadata: the vfs driver's flattening of an image, and a
//! volume's copy-up of image content. Modes, owners (as root), symlinks, device nodes,
//! hard links within the copy, extended attributes (where the target filesystem takes
//! them) and timestamps to the nanosecond are kept.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps};

use super::view::LayerView;
use crate::error::{Result, StorageError};

/// The xattr namespace overlayfs keeps its own bookkeeping in; never copied.
const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

fn rustix_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(rustix::io::Errno) -> StorageError + 'p {
    move |e| StorageError::io(op, path, e.into())
}

/// Copies nodes one by one; directory modes and times are set at the end (deepest first),
/// since creating their children changes them.
#[derive(Debug, Default)]
struct Copier {
    /// (device, inode) of a multiply linked source file -> its first copy.
    links: HashMap<(u64, u64), PathBuf>,
    dirs: Vec<(PathBuf, Metadata)>,
    root: bool,
}

impl Copier {
    fn new() -> Self {
        Self {
            root: crate::fsutil::is_root(),
            ..Self::default()
        }
    }

    /// Creates `dst` as a copy of `src` (whose metadata is `meta`); a directory is created
    /// empty. Sockets are skipped (they mean nothing without their process).
    fn node(&mut self, src: &Path, meta: &Metadata, dst: &Path) -> Result<()> {
        let ft = meta.file_type();
        if ft.is_dir() {
            match fs::symlink_metadata(dst) {
                Ok(m) if m.is_dir() => {}
                _ => fs::create_dir(dst).map_err(|e| StorageError::io("creating directory", dst, e))?,
            }
            self.owner(dst, meta)?;
            self.xattrs(src, dst)?;
            self.dirs.push((dst.to_path_buf(), meta.clone()));
            return Ok(());
        }
        if ft.is_file() {
            if meta.nlink() > 1 {
                if let Some(first) = self.links.get(&(meta.dev(), meta.ino())) {
                    return fs::hard_link(first, dst).map_err(|e| StorageError::io("creating hard link", dst, e));
                }
                self.links.insert((meta.dev(), meta.ino()), dst.to_path_buf());
            }
            fs::copy(src, dst).map_err(|e| StorageError::io("copying file", dst, e))?;
        } else if ft.is_symlink() {
            let target = fs::read_link(src).map_err(|e| StorageError::io("reading symlink", src, e))?;
            std::os::unix::fs::symlink(&target, dst).map_err(|e| StorageError::io("creating symlink", dst, e))?;
        } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
            let kind = if ft.is_char_device() {
                FileType::CharacterDevice
            } else if ft.is_block_device() {
                FileType::BlockDevice
            } else {
                FileType::Fifo
            };
            rustix::fs::mknodat(CWD, dst, kind, Mode::from_raw_mode(0o600), meta.rdev())
                .map_err(rustix_err("creating device node", dst))?;
        } else {
            return Ok(());
        }
        self.owner(dst, meta)?;
        if !ft.is_symlink() {
            // After chown, which clears set-id bits.
            fs::set_permissions(dst, fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(|e| StorageError::io("setting mode", dst, e))?;
        }
        self.xattrs(src, dst)?;
        set_times(dst, meta)
    }

    fn owner(&self, dst: &Path, meta: &Metadata) -> Result<()> {
        if !self.root {
            return Ok(());
        }
        rustix::fs::chownat(
            CWD,
            dst,
            Some(rustix::fs::Uid::from_raw(meta.uid())),
            Some(rustix::fs::Gid::from_raw(meta.gid())),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(rustix_err("setting owner", dst))
    }

    /// Copies extended attributes the target filesystem and our privileges allow.
    fn xattrs(&self, src: &Path, dst: &Path) -> Result<()> {
        let mut names = vec![0u8; 4096];
        let n = match rustix::fs::llistxattr(src, &mut names) {
            Ok(n) => n,
            Err(rustix::io::Errno::NOTSUP) => return Ok(()),
            Err(rustix::io::Errno::RANGE) => {
                names = vec![0u8; 65536];
                rustix::fs::llistxattr(src, &mut names).map_err(rustix_err("listing xattrs", src))?
            }
            Err(e) => return Err(StorageError::io("listing xattrs", src, e.into())),
        };
        for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
            let Ok(name) = std::str::from_utf8(name) else { continue };
            if name.starts_with(OVERLAY_XATTR_PREFIX) {
                continue;
            }
            let mut value = vec![0u8; 65536];
            let Ok(len) = rustix::fs::lgetxattr(src, name, &mut value) else {
                continue;
            };
            match rustix::fs::lsetxattr(dst, name, &value[..len], rustix::fs::XattrFlags::empty()) {
                Ok(()) | Err(rustix::io::Errno::NOTSUP | rustix::io::Errno::PERM | rustix::io::Errno::ACCESS) => {}
                Err(e) => return Err(StorageError::io("setting xattr", dst, e.into())),
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.dirs
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        for (path, meta) in &self.dirs {
            fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777))
                .map_err(|e| StorageError::io("setting mode", path, e))?;
            set_times(path, meta)?;
        }
        Ok(())
    }
}

fn set_times(path: &Path, meta: &Metadata) -> Result<()> {
    let times = Timestamps {
        last_access: Timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        last_modification: Timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(rustix_err("setting times", path))
}

/// Copies the merged view of the image's layers into the existing directory `dest`,
/// leaving out whiteouts and what they hide (the vfs driver's container filesystem).
pub(crate) fn flatten(view: &LayerView, dest: &Path) -> Result<()> {
    let mut copier = Copier::new();
    if let Some(root) = view.lookup(Path::new(""))? {
        copier.node(&root.path, &root.meta, dest)?;
    }
    flatten_dir(view, Path::new(""), dest, &mut copier)?;
    copier.finish()
}

fn flatten_dir(view: &LayerView, rel: &Path, dest: &Path, copier: &mut Copier) -> Result<()> {
    for (name, found) in view.list(rel)? {
        let target = dest.join(&name);
        copier.node(&found.path, &found.meta, &target)?;
        if found.meta.is_dir() {
            flatten_dir(view, &rel.join(&name), &target, copier)?;
        }
    }
    Ok(())
}

/// Copies everything inside `src` into the existing directory `dest` (its own metadata is
/// left alone); entries are visited in name order so hard links come out the same each time.
pub(crate) fn copy_tree_contents(src: &Path, dest: &Path) -> Result<()> {
    let mut copier = Copier::new();
    copy_dir(src, dest, &mut copier)?;
    copier.finish()
}

fn copy_dir(src: &Path, dest: &Path, copier: &mut Copier) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(src)
        .map_err(|e| StorageError::io("listing", src, e))?
        .collect::<std::io::Result<_>>()
        .map_err(|e| StorageError::io("listing", src, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let meta = fs::symlink_metadata(&from).map_err(|e| StorageError::io("inspecting", &from, e))?;
        copier.node(&from, &meta, &to)?;
        if meta.is_dir() {
            copy_dir(&from, &to, copier)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_tree_with_links_and_modes() {
        let t = tempfile::tempdir().unwrap();
        let (src, dst) = (t.path().join("src"), t.path().join("dst"));
        fs::create_dir_all(src.join("d/e")).unwrap();
        fs::write(src.join("d/f"), "data").unwrap();
        fs::set_permissions(src.join("d/f"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::hard_link(src.join("d/f"), src.join("d/g")).unwrap();
        std::os::unix::fs::symlink("f", src.join("d/link")).unwrap();
        fs::set_permissions(src.join("d/e"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::create_dir(&dst).unwrap();
        copy_tree_contents(&src, &dst).unwrap();
        assert_eq!(fs::read_to_string(dst.join("d/f")).unwrap(), "data");
        let f = fs::metadata(dst.join("d/f")).unwrap();
        assert_eq!(f.mode() & 0o7777, 0o640);
        assert_eq!(f.ino(), fs::metadata(dst.join("d/g")).unwrap().ino());
        assert_eq!(fs::read_link(dst.join("d/link")).unwrap(), Path::new("f"));
        assert_eq!(fs::metadata(dst.join("d/e")).unwrap().mode() & 0o7777, 0o700);
        assert_eq!(
            fs::metadata(dst.join("d/f")).unwrap().mtime_nsec(),
            fs::metadata(src.join("d/f")).unwrap().mtime_nsec()
        );
    }
}
