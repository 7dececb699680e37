//! The image's filesystem as overlayfs shows it, read straight from the layer directories
//! (top first) without mounting: a name in a higher layer hides the same name below, a
//! whiteout (char device 0/0) hides it and shows nothing, an opaque directory hides
//! everything below it, and a non-directory hides any directory below it.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use crate::archive::{is_opaque_dir, is_whiteout};
use crate::error::{Result, StorageError};

/// A name visible in the view: where its data is, and its metadata.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub path: PathBuf,
    pub meta: Metadata,
}

/// Read-only merged view of layer directories, top first (overlayfs `lowerdir` order).
#[derive(Debug, Clone)]
pub(crate) struct LayerView {
    layers: Vec<PathBuf>,
}

fn lstat(path: &Path) -> Result<Option<Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                || e.raw_os_error() == Some(rustix::io::Errno::NOTDIR.raw_os_error()) =>
        {
            Ok(None)
        }
        Err(e) => Err(StorageError::io("inspecting", path, e)),
    }
}

impl LayerView {
    pub(crate) fn new(layers: Vec<PathBuf>) -> Self {
        Self { layers }
    }

    /// The layers (indexes, top first) in which `dir` is a visible directory; `None` when
    /// `dir` is not a directory of the view.
    fn dir_layers(&self, dir: &Path) -> Result<Option<Vec<usize>>> {
        let mut active: Vec<usize> = (0..self.layers.len()).collect();
        let mut prefix = PathBuf::new();
        for c in dir.components() {
            prefix.push(c);
            let mut next = Vec::new();
            for &i in &active {
                let p = self.layers[i].join(&prefix);
                let Some(m) = lstat(&p)? else { continue };
                if !m.is_dir() {
                    // A whiteout or a file hides this name (and any directory) below.
                    break;
                }
                next.push(i);
                if is_opaque_dir(&p) {
                    break;
                }
            }
            if next.is_empty() {
                return Ok(None);
            }
            active = next;
        }
        Ok(Some(active))
    }

    /// What the view shows at `rel` (a relative path; empty for the root).
    pub(crate) fn lookup(&self, rel: &Path) -> Result<Option<Found>> {
        let Some(name) = rel.file_name() else {
            return Ok(self
                .layers
                .first()
                .map(|top| {
                    lstat(top).map(|m| {
                        m.map(|meta| Found {
                            path: top.clone(),
                            meta,
                        })
                    })
                })
                .transpose()?
                .flatten());
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        let Some(active) = self.dir_layers(parent)? else {
            return Ok(None);
        };
        self.find_in(&active, parent, name)
    }

    fn find_in(&self, active: &[usize], parent: &Path, name: &OsStr) -> Result<Option<Found>> {
        for &i in active {
            let p = self.layers[i].join(parent).join(name);
            if let Some(meta) = lstat(&p)? {
                if is_whiteout(&meta) {
                    return Ok(None);
                }
                return Ok(Some(Found { path: p, meta }));
            }
        }
        Ok(None)
    }

    /// The entries of directory `rel`, sorted by name; empty when it is not a directory.
    pub(crate) fn list(&self, rel: &Path) -> Result<Vec<(OsString, Found)>> {
        let Some(active) = self.dir_layers(rel)? else {
            return Ok(Vec::new());
        };
        let mut names: BTreeMap<OsString, ()> = BTreeMap::new();
        for &i in &active {
            let dir = self.layers[i].join(rel);
            let rd = fs::read_dir(&dir).map_err(|e| StorageError::io("listing", &dir, e))?;
            for entry in rd {
                let entry = entry.map_err(|e| StorageError::io("listing", &dir, e))?;
                names.insert(entry.file_name(), ());
            }
        }
        let mut out = Vec::new();
        for name in names.into_keys() {
            if let Some(found) = self.find_in(&active, rel, &name)? {
                out.push((name, found));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_layers_hide_lower_names() {
        let t = tempfile::tempdir().unwrap();
        let (top, bottom) = (t.path().join("top"), t.path().join("bottom"));
        for d in [&top, &bottom] {
            fs::create_dir_all(d.join("etc")).unwrap();
        }
        fs::write(bottom.join("etc/a"), "old").unwrap();
        fs::write(bottom.join("etc/b"), "b").unwrap();
        fs::write(top.join("etc/a"), "new").unwrap();
        fs::create_dir(bottom.join("x")).unwrap();
        fs::write(bottom.join("x/inside"), "").unwrap();
        fs::write(top.join("x"), "now a file").unwrap();
        let view = LayerView::new(vec![top.clone(), bottom]);
        let a = view.lookup(Path::new("etc/a")).unwrap().unwrap();
        assert_eq!(a.path, top.join("etc/a"));
        let names: Vec<_> = view
            .list(Path::new("etc"))
            .unwrap()
            .into_iter()
            .map(|(n, _)| n.into_string().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(view.lookup(Path::new("x")).unwrap().unwrap().meta.is_file());
        assert!(view.lookup(Path::new("x/inside")).unwrap().is_none());
        assert!(view.list(Path::new("x")).unwrap().is_empty());
        assert!(view.lookup(Path::new("nothere/y")).unwrap().is_none());
        assert!(view.lookup(Path::new("")).unwrap().unwrap().meta.is_dir());
    }
}
