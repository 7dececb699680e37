//! Unpacking one layer tar into its own directory, safely.
//!
//! Each layer is stored as an overlay "diff" directory: its own files only,
//! with deletions recorded the way overlayfs reads them in a lower directory
//! (a character device 0/0 for a deleted name, the `trusted.overlay.opaque=y`
//! xattr on a directory whose lower contents are hidden). Stacking the layer
//! directories as `lowerdir=top:...:bottom` then gives the image's root
//! filesystem with no copying, and a flattening copy (vfs) applies the same
//! two markers. Whiteout files (`.wh.name`, `.wh..wh..opq`) are therefore
//! translated here and never stored.
//!
//! The tar is untrusted: no entry may land outside the layer directory. Names
//! are made of plain components only (no `..`, not absolute); every parent is
//! walked with `lstat` and a symlink or non-directory on the way is refused,
//! so a symlink planted by an earlier entry can never be written through;
//! existing names are removed and files are created with `O_EXCL|O_NOFOLLOW`
//! (never opened for writing through an existing link); hard links must point
//! at a file of this same layer. Device nodes need root.

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{self, BufWriter, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, Timespec, Timestamps};

use super::{Compression, decompress};
use crate::digest::{Digest, HashingReader};
use crate::error::{Result, StorageError};

const WHITEOUT_PREFIX: &str = ".wh.";
const WHITEOUT_META_PREFIX: &str = ".wh..wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What the unpacker may do besides creating plain files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackOptions {
    /// Create device nodes and whiteouts, set owners and `trusted.` xattrs (needs root).
    pub privileged: bool,
}

impl UnpackOptions {
    /// Privileged when running as root.
    pub fn for_current_user() -> Self {
        Self {
            privileged: crate::fsutil::is_root(),
        }
    }
}

/// What unpacking a layer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackStats {
    /// sha256 of the uncompressed tar: the layer's diff ID.
    pub diff_id: Digest,
    /// Length of the uncompressed tar.
    pub size: u64,
    pub compression: Compression,
    pub entries: u64,
}

/// True when `meta` is an overlay whiteout (a character device 0/0).
pub fn is_whiteout(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// True when the directory at `path` hides the contents of the layers below it.
pub fn is_opaque_dir(path: &Path) -> bool {
    let mut buf = [0u8; 4];
    matches!(rustix::fs::lgetxattr(path, OVERLAY_OPAQUE_XATTR, &mut buf), Ok(1) if buf[0] == b'y')
}

/// Unpacks the (possibly compressed) layer tar read from `reader` into the existing, empty
/// directory `dest`. On error `dest` holds a partial tree: the caller removes it.
pub fn unpack_layer(reader: impl Read, dest: &Path, opts: &UnpackOptions) -> Result<UnpackStats> {
    let (compression, decompressed) = decompress(reader)?;
    let mut hashing = HashingReader::new(decompressed);
    let mut unpacker = Unpacker {
        dest,
        opts,
        dirs: Vec::new(),
        entries: 0,
    };
    {
        let mut archive = tar::Archive::new(&mut hashing);
        for entry in archive.entries().map_err(|e| StorageError::corrupt("layer tar", e))? {
            let mut entry = entry.map_err(|e| StorageError::corrupt("layer tar", e))?;
            unpacker.entry(&mut entry)?;
        }
    }
    unpacker.finish_dirs()?;
    let (diff_id, size) = hashing.finish().map_err(|e| StorageError::corrupt("layer tar", e))?;
    Ok(UnpackStats {
        diff_id,
        size,
        compression,
        entries: unpacker.entries,
    })
}

/// Metadata applied to directories after all entries, since adding children changes them.
struct DirMeta {
    path: PathBuf,
    mode: u32,
    mtime: i64,
}

struct Unpacker<'a> {
    dest: &'a Path,
    opts: &'a UnpackOptions,
    dirs: Vec<DirMeta>,
    entries: u64,
}

/// Splits a tar name into plain components, refusing absolute names and `..`.
fn components<'b>(raw: &'b [u8], shown: &str) -> Result<Vec<&'b OsStr>> {
    if raw.first() == Some(&b'/') {
        return Err(StorageError::unsafe_entry(shown, "absolute path"));
    }
    if raw.contains(&0) {
        return Err(StorageError::unsafe_entry(shown, "NUL byte in name"));
    }
    let mut out = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(StorageError::unsafe_entry(shown, "'..' in path leaves the layer")),
            c => out.push(OsStr::from_bytes(c)),
        }
    }
    Ok(out)
}

fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> StorageError + 'p {
    move |e| StorageError::io(op, path, e)
}

fn rustix_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(rustix::io::Errno) -> StorageError + 'p {
    move |e| StorageError::io(op, path, e.into())
}

impl Unpacker<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        self.entries += 1;
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let comps = components(&raw, &shown)?;
        let kind = entry.header().entry_type();

        let Some((name, parents)) = comps.split_last() else {
            // The layer root itself ("./"): only its metadata matters.
            if kind.is_dir() {
                self.defer_dir(self.dest.to_path_buf(), entry.header())?;
                self.set_owner(self.dest, entry.header())?;
            }
            return Ok(());
        };
        if parents
            .iter()
            .any(|c| c.as_bytes().starts_with(WHITEOUT_META_PREFIX.as_bytes()))
        {
            // Inside aufs bookkeeping directories (.wh..wh.plnk/...): not part of the filesystem.
            return Ok(());
        }
        let parent = self.walk(parents, &shown, true)?;
        let name_bytes = name.as_bytes();

        if name_bytes == OPAQUE_MARKER.as_bytes() {
            return self.make_opaque(&parent, &shown);
        }
        if name_bytes.starts_with(WHITEOUT_META_PREFIX.as_bytes()) {
            // aufs bookkeeping (.wh..wh.plnk and friends): not part of the filesystem.
            return Ok(());
        }
        if let Some(hidden) = name_bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            if hidden.is_empty() || hidden == b"." || hidden == b".." {
                return Err(StorageError::unsafe_entry(&shown, "malformed whiteout"));
            }
            return self.make_whiteout(&parent.join(OsStr::from_bytes(hidden)), &shown);
        }

        let path = parent.join(name);
        let existing = fs::symlink_metadata(&path).ok();
        if kind.is_dir() {
            match existing {
                Some(m) if m.is_dir() => {}
                Some(_) => {
                    crate::fsutil::remove_path(&path)?;
                    self.mkdir(&path)?;
                }
                None => self.mkdir(&path)?,
            }
            self.set_owner(&path, entry.header())?;
            self.set_xattrs(&path, entry)?;
            return self.defer_dir(path, entry.header());
        }
        if existing.is_some() {
            crate::fsutil::remove_path(&path)?;
        }

        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                    .open(&path)
                    .map_err(io_err("creating file", &path))?;
                let mut out = BufWriter::with_capacity(128 * 1024, file);
                io::copy(entry, &mut out).map_err(|e| {
                    if e.kind() == io::ErrorKind::UnexpectedEof {
                        StorageError::corrupt("layer tar", format!("{shown}: truncated file data"))
                    } else {
                        StorageError::io("writing file", &path, e)
                    }
                })?;
                out.into_inner()
                    .map_err(|e| StorageError::io("writing file", &path, e.into_error()))?;
                self.finish_node(&path, entry, true)
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| StorageError::corrupt("layer tar", format!("{shown}: symlink without target")))?
                    .into_owned();
                if target.is_empty() || target.contains(&0) {
                    return Err(StorageError::unsafe_entry(&shown, "empty or invalid symlink target"));
                }
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path)
                    .map_err(io_err("creating symlink", &path))?;
                self.finish_node(&path, entry, false)
            }
            tar::EntryType::Link => {
                let target_raw = entry
                    .link_name_bytes()
                    .ok_or_else(|| StorageError::corrupt("layer tar", format!("{shown}: hard link without target")))?
                    .into_owned();
                let target_shown = String::from_utf8_lossy(&target_raw).into_owned();
                let target_comps = components(&target_raw, &target_shown)?;
                let Some((target_name, target_parents)) = target_comps.split_last() else {
                    return Err(StorageError::unsafe_entry(&shown, "hard link to the layer root"));
                };
                let target = self.walk(target_parents, &shown, false)?.join(target_name);
                match fs::symlink_metadata(&target) {
                    Ok(m) if !m.is_dir() => {}
                    Ok(_) => return Err(StorageError::unsafe_entry(&shown, "hard link to a directory")),
                    Err(_) => {
                        return Err(StorageError::unsafe_entry(
                            &shown,
                            format!("hard link target {target_shown:?} is not in this layer"),
                        ));
                    }
                }
                fs::hard_link(&target, &path).map_err(io_err("creating hard link", &path))
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                if !self.opts.privileged {
                    return Err(StorageError::unsafe_entry(
                        &shown,
                        "device nodes can only be created as root",
                    ));
                }
                let major = entry.header().device_major().ok().flatten().unwrap_or(0);
                let minor = entry.header().device_minor().ok().flatten().unwrap_or(0);
                let file_type = if kind == tar::EntryType::Char {
                    FileType::CharacterDevice
                } else {
                    FileType::BlockDevice
                };
                rustix::fs::mknodat(
                    CWD,
                    &path,
                    file_type,
                    Mode::from_raw_mode(0o600),
                    rustix::fs::makedev(major, minor),
                )
                .map_err(rustix_err("creating device node", &path))?;
                self.finish_node(&path, entry, true)
            }
            tar::EntryType::Fifo => {
                rustix::fs::mknodat(CWD, &path, FileType::Fifo, Mode::from_raw_mode(0o600), 0)
                    .map_err(rustix_err("creating fifo", &path))?;
                self.finish_node(&path, entry, true)
            }
            // Global PAX headers and unknown types describe nothing to create.
            _ => Ok(()),
        }
    }

    /// Walks `comps` below the layer root; every step must be a real directory (created when
    /// missing and `create` is set). A symlink on the way is an escape attempt.
    fn walk(&self, comps: &[&OsStr], shown: &str, create: bool) -> Result<PathBuf> {
        let mut p = self.dest.to_path_buf();
        for c in comps {
            p.push(c);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StorageError::unsafe_entry(
                        shown,
                        format!(
                            "path goes through the symlink {:?}",
                            p.strip_prefix(self.dest).unwrap_or(&p)
                        ),
                    ));
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(StorageError::unsafe_entry(
                        shown,
                        format!("{:?} is not a directory", p.strip_prefix(self.dest).unwrap_or(&p)),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => self.mkdir(&p)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(StorageError::unsafe_entry(shown, "link target is not in this layer"));
                }
                Err(e) => return Err(StorageError::io("inspecting", &p, e)),
            }
        }
        Ok(p)
    }

    fn mkdir(&self, path: &Path) -> Result<()> {
        fs::create_dir(path).map_err(io_err("creating directory", path))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(io_err("setting mode", path))
    }

    fn need_privilege(&self, shown: &str, what: &str) -> Result<()> {
        if self.opts.privileged {
            Ok(())
        } else {
            Err(StorageError::Unsupported {
                what: format!("{what} without root (overlay whiteouts are device nodes and trusted xattrs)"),
                value: shown.to_string(),
            })
        }
    }

    fn make_opaque(&self, dir: &Path, shown: &str) -> Result<()> {
        self.need_privilege(shown, "opaque directory")?;
        rustix::fs::lsetxattr(dir, OVERLAY_OPAQUE_XATTR, b"y", rustix::fs::XattrFlags::empty())
            .map_err(rustix_err("marking directory opaque", dir))
    }

    fn make_whiteout(&self, path: &Path, shown: &str) -> Result<()> {
        self.need_privilege(shown, "whiteout")?;
        crate::fsutil::remove_path(path)?;
        rustix::fs::mknodat(
            CWD,
            path,
            FileType::CharacterDevice,
            Mode::empty(),
            rustix::fs::makedev(0, 0),
        )
        .map_err(rustix_err("creating whiteout", path))
    }

    fn set_owner(&self, path: &Path, header: &tar::Header) -> Result<()> {
        if !self.opts.privileged {
            return Ok(());
        }
        let id = |v: io::Result<u64>| v.ok().and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        let uid = rustix::fs::Uid::from_raw(id(header.uid()));
        let gid = rustix::fs::Gid::from_raw(id(header.gid()));
        rustix::fs::chownat(CWD, path, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(rustix_err("setting owner", path))
    }

    /// Applies `security.capability` and `user.*` xattrs from PAX headers; other namespaces
    /// (trusted.overlay.* above all) could change how overlayfs reads the layer.
    fn set_xattrs<R: Read>(&self, path: &Path, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        if !self.opts.privileged {
            return Ok(());
        }
        let Ok(Some(exts)) = entry.pax_extensions() else {
            return Ok(());
        };
        for ext in exts.flatten() {
            let Ok(key) = ext.key() else { continue };
            let Some(name) = key.strip_prefix("SCHILY.xattr.") else {
                continue;
            };
            if name == "security.capability" || name.starts_with("user.") {
                rustix::fs::lsetxattr(path, name, ext.value_bytes(), rustix::fs::XattrFlags::empty())
                    .map_err(rustix_err("setting xattr", path))?;
            }
        }
        Ok(())
    }

    fn finish_node<R: Read>(&self, path: &Path, entry: &mut tar::Entry<'_, R>, has_mode: bool) -> Result<()> {
        self.set_owner(path, entry.header())?;
        if has_mode {
            // After chown, which clears set-id bits.
            let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_err("setting mode", path))?;
        }
        self.set_xattrs(path, entry)?;
        let mtime = entry.header().mtime().unwrap_or(0);
        set_mtime(path, i64::try_from(mtime).unwrap_or(0))
    }

    fn defer_dir(&mut self, path: PathBuf, header: &tar::Header) -> Result<()> {
        let mode = header.mode().unwrap_or(0o755) & 0o7777;
        let mtime = i64::try_from(header.mtime().unwrap_or(0)).unwrap_or(0);
        self.dirs.retain(|d| d.path != path);
        self.dirs.push(DirMeta { path, mode, mtime });
        Ok(())
    }

    /// Deepest directories first, so setting a parent's mtime is the last change to it.
    fn finish_dirs(&mut self) -> Result<()> {
        self.dirs
            .sort_by_key(|d| std::cmp::Reverse(d.path.components().count()));
        for d in &self.dirs {
            fs::set_permissions(&d.path, fs::Permissions::from_mode(d.mode))
                .map_err(io_err("setting mode", &d.path))?;
            set_mtime(&d.path, d.mtime)?;
        }
        Ok(())
    }
}

fn set_mtime(path: &Path, secs: i64) -> Result<()> {
    let t = Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(rustix_err("setting mtime", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_rules() {
        assert_eq!(
            components(b"./a//b/", "x").unwrap(),
            vec![OsStr::new("a"), OsStr::new("b")]
        );
        assert!(components(b"/etc/passwd", "x").is_err());
        assert!(components(b"a/../../b", "x").is_err());
        assert!(components(b"..", "x").is_err());
        assert!(components(b"./", "x").unwrap().is_empty());
    }
}
