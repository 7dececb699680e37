//! Tars out of container filesystems: the whole tree (`podman export`), and a layer made of
//! a container's changes (`podman commit`), with deletions as `.wh.` whiteout entries.
//!
//! Entries come depth first in byte order of their names, so the same tree always gives
//! the same tar. Files linked more than once within the tar become hard link entries.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, Metadata};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::diff::{Change, ChangeKind};
use crate::error::{Result, StorageError};

const WHITEOUT_PREFIX: &str = ".wh.";

/// Writes tar entries for files of one directory tree.
struct TreeTar<'w> {
    builder: tar::Builder<&'w mut dyn Write>,
    links: HashMap<(u64, u64), String>,
}

fn write_err(name: &str) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |e| StorageError::io("writing tar entry", name, e)
}

/// The xattrs worth carrying in a tar (as in layers: file capabilities and user attributes).
fn pax_xattrs(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names = vec![0u8; 4096];
    let Ok(n) = rustix::fs::llistxattr(path, &mut names) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let Ok(name) = std::str::from_utf8(name) else { continue };
        if name != "security.capability" && !name.starts_with("user.") {
            continue;
        }
        let mut value = vec![0u8; 65536];
        if let Ok(len) = rustix::fs::lgetxattr(path, name, &mut value) {
            value.truncate(len);
            out.push((format!("SCHILY.xattr.{name}"), value));
        }
    }
    out
}

impl<'w> TreeTar<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Complete);
        Self {
            builder,
            links: HashMap::new(),
        }
    }

    /// Appends `src` (metadata `meta`) as `name` (relative, no trailing slash).
    fn node(&mut self, src: &Path, meta: &Metadata, name: &str) -> Result<()> {
        let ft = meta.file_type();
        if ft.is_socket() {
            return Ok(());
        }
        let xattrs = pax_xattrs(src);
        if !xattrs.is_empty() {
            self.builder
                .append_pax_extensions(xattrs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                .map_err(write_err(name))?;
        }
        let mut h = tar::Header::new_gnu();
        h.set_mode(meta.mode() & 0o7777);
        h.set_uid(u64::from(meta.uid()));
        h.set_gid(u64::from(meta.gid()));
        h.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
        h.set_size(0);
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            return self
                .builder
                .append_data(&mut h, format!("{name}/"), io::empty())
                .map_err(write_err(name));
        }
        if ft.is_symlink() {
            let target = fs::read_link(src).map_err(|e| StorageError::io("reading symlink", src, e))?;
            h.set_entry_type(tar::EntryType::Symlink);
            return self.builder.append_link(&mut h, name, &target).map_err(write_err(name));
        }
        if ft.is_file() {
            if meta.nlink() > 1 {
                let key = (meta.dev(), meta.ino());
                if let Some(first) = self.links.get(&key) {
                    h.set_entry_type(tar::EntryType::Link);
                    return self.builder.append_link(&mut h, name, first).map_err(write_err(name));
                }
                self.links.insert(key, name.to_string());
            }
            let file = File::open(src).map_err(|e| StorageError::io("opening", src, e))?;
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            let mut exact = io::Read::take(file, meta.len());
            return self
                .builder
                .append_data(&mut h, name, &mut exact)
                .map_err(|e| StorageError::io("reading", src, e));
        }
        let kind = if ft.is_char_device() {
            tar::EntryType::Char
        } else if ft.is_block_device() {
            tar::EntryType::Block
        } else {
            tar::EntryType::Fifo
        };
        h.set_entry_type(kind);
        if kind != tar::EntryType::Fifo {
            let dev = meta.rdev();
            h.set_device_major(rustix::fs::major(dev)).map_err(write_err(name))?;
            h.set_device_minor(rustix::fs::minor(dev)).map_err(write_err(name))?;
        }
        self.builder
            .append_data(&mut h, name, io::empty())
            .map_err(write_err(name))
    }

    /// An empty regular file: how a whiteout travels in a tar.
    fn whiteout(&mut self, name: &str) -> Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(0);
        h.set_mtime(0);
        self.builder
            .append_data(&mut h, name, io::empty())
            .map_err(write_err(name))
    }

    fn finish(self) -> Result<()> {
        let out = self.builder.into_inner().map_err(write_err("end of tar"))?;
        out.flush().map_err(write_err("end of tar"))
    }
}

fn lstat(path: &Path) -> Result<Metadata> {
    fs::symlink_metadata(path).map_err(|e| StorageError::io("inspecting", path, e))
}

/// Writes every file under `dir` (not `dir` itself) as a tar.
pub(crate) fn write_tree_tar(dir: &Path, out: &mut dyn Write) -> Result<()> {
    let mut tar = TreeTar::new(out);
    tree(&mut tar, dir, "")?;
    tar.finish()
}

fn tree(tar: &mut TreeTar<'_>, dir: &Path, prefix: &str) -> Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .map_err(|e| StorageError::io("listing", dir, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(|e| StorageError::io("listing", dir, e))?;
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let meta = lstat(&path)?;
        let rel = format!("{prefix}{}", name.to_string_lossy());
        tar.node(&path, &meta, &rel)?;
        if meta.is_dir() {
            tree(tar, &path, &format!("{rel}/"))?;
        }
    }
    Ok(())
}

/// Writes a layer tar of `changes` (sorted, as `diff` returns them), reading added and
/// changed files from `source` (the upper dir for overlay, the container's copy for vfs).
pub(crate) fn write_changes_tar(changes: &[Change], source: &Path, out: &mut dyn Write) -> Result<()> {
    let mut tar = TreeTar::new(out);
    for c in changes {
        let rel = c.path.trim_start_matches('/');
        match c.kind {
            ChangeKind::Deleted => {
                let p = Path::new(rel);
                let name = p.file_name().unwrap_or(OsStr::new(rel));
                let mut wh = OsStr::new(WHITEOUT_PREFIX).as_bytes().to_vec();
                wh.extend_from_slice(name.as_bytes());
                let wh_path = p.with_file_name(OsStr::from_bytes(&wh));
                tar.whiteout(&wh_path.to_string_lossy())?;
            }
            ChangeKind::Added | ChangeKind::Changed => {
                let path = source.join(rel);
                tar.node(&path, &lstat(&path)?, rel)?;
            }
        }
    }
    tar.finish()
}
