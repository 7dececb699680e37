//! Default mounts (mounts.conf, podman's "subscriptions"): each line `SRC:DST` (or a
//! path for both) names a host file or directory that every container sees at `DST`.
//!
//! As podman does for root: the source is copied into the container's run directory
//! once (so a restart keeps what the container changed, and the container never writes
//! to the host's copy), and the copy is bind-mounted read-write. Problems are warnings,
//! never errors: a missing source is skipped.

use std::path::{Component, Path, PathBuf};

use crate::error::{CoreError, Result};

/// The files read when none is given: the first that exists wins.
pub(crate) const MOUNTS_FILES: &[&str] = &["/etc/containers/mounts.conf", "/usr/share/containers/mounts.conf"];

/// One default mount: the copy in the run directory and where it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DefaultMount {
    pub source: PathBuf,
    pub destination: String,
}

/// The `SRC:DST` pairs of a mounts file; blank lines and `#` comments are skipped.
fn entries(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| match line.split_once(':') {
            Some((src, dst)) => (src.to_string(), dst.to_string()),
            None => (line.to_string(), line.to_string()),
        })
        .collect()
}

/// Copies a file, or a directory tree (files, directories and symlinks), keeping modes.
fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(src).map_err(|e| CoreError::io("reading default mount source", src, e))?;
    let kind = meta.file_type();
    if kind.is_dir() {
        std::fs::create_dir_all(dst).map_err(|e| CoreError::io("creating default mount copy", dst, e))?;
        std::fs::set_permissions(dst, meta.permissions())
            .map_err(|e| CoreError::io("setting the mode of default mount copy", dst, e))?;
        let listing = std::fs::read_dir(src).map_err(|e| CoreError::io("reading default mount source", src, e))?;
        for entry in listing {
            let entry = entry.map_err(|e| CoreError::io("reading default mount source", src, e))?;
            copy_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
    } else if kind.is_symlink() {
        let target = std::fs::read_link(src).map_err(|e| CoreError::io("reading default mount link", src, e))?;
        std::os::unix::fs::symlink(&target, dst).map_err(|e| CoreError::io("copying default mount link", dst, e))?;
    } else if kind.is_file() {
        std::fs::copy(src, dst).map_err(|e| CoreError::io("copying default mount file", dst, e))?;
    } else {
        tracing::warn!("default mount {}: not a file or directory; skipped", src.display());
    }
    Ok(())
}

/// Copies one `SRC:DST` into `run_dir` (unless an earlier init already did) and says
/// where the copy is; None when the source does not exist.
fn prepare(src: &str, dst: &str, run_dir: &Path) -> Result<Option<DefaultMount>> {
    let relative = Path::new(dst).strip_prefix("/").unwrap_or(Path::new(dst));
    if relative.as_os_str().is_empty() || relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(CoreError::InvalidArg(format!(
            "default mount destination {dst:?} must be an absolute path without `..`"
        )));
    }
    let source = Path::new(src);
    // The source itself is followed when it is a link, as podman resolves it.
    let source = match std::fs::canonicalize(source) {
        Ok(resolved) => resolved,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!("default mount source {src} does not exist; skipped");
            return Ok(None);
        }
        Err(e) => return Err(CoreError::io("resolving default mount source", source, e)),
    };
    let copy = run_dir.join(relative);
    if !copy.exists() {
        if let Some(parent) = copy.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CoreError::io("creating directory", parent, e))?;
        }
        copy_tree(&source, &copy)?;
    }
    Ok(Some(DefaultMount {
        source: copy,
        destination: format!("/{}", relative.display()),
    }))
}

/// The default mounts of `file` (or of the first of [`MOUNTS_FILES`] that exists),
/// copied into `run_dir`. An entry that cannot be prepared is skipped with a warning.
pub(crate) fn prepare_all(file: Option<&Path>, run_dir: &Path) -> Vec<DefaultMount> {
    let chosen = match file {
        Some(f) => Some(f.to_path_buf()),
        None => MOUNTS_FILES.iter().map(PathBuf::from).find(|p| p.exists()),
    };
    let Some(chosen) = chosen else {
        return Vec::new();
    };
    let text = match std::fs::read_to_string(&chosen) {
        Ok(text) => text,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("reading default mounts file {}: {e}", chosen.display());
            }
            return Vec::new();
        }
    };
    let mut mounts = Vec::new();
    for (src, dst) in entries(&text) {
        match prepare(&src, &dst, run_dir) {
            Ok(Some(m)) => mounts.push(m),
            Ok(None) => {}
            Err(e) => tracing::warn!("default mount {src}:{dst} from {}: {e}; skipped", chosen.display()),
        }
    }
    mounts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lines_are_pairs_or_one_path() {
        assert_eq!(
            entries("# secrets\n/a:/b\n\n  /c  \n"),
            [
                ("/a".to_string(), "/b".to_string()),
                ("/c".to_string(), "/c".to_string())
            ]
        );
    }

    #[test]
    fn sources_are_copied_once_into_the_run_dir() {
        let host = tempfile::tempdir().unwrap();
        let run = tempfile::tempdir().unwrap();
        let dir = host.path().join("secrets");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/key"), "k1").unwrap();
        std::fs::set_permissions(dir.join("sub/key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = host.path().join("motd");
        std::fs::write(&file, "hello").unwrap();
        let conf = host.path().join("mounts.conf");
        std::fs::write(
            &conf,
            format!(
                "{}:/run/secrets\n{}:/etc/motd\n/surely/not/here:/x\n{}:/../escape\n",
                dir.display(),
                file.display(),
                file.display()
            ),
        )
        .unwrap();

        let mounts = prepare_all(Some(&conf), run.path());
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].destination, "/run/secrets");
        assert_eq!(mounts[0].source, run.path().join("run/secrets"));
        let key = run.path().join("run/secrets/sub/key");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "k1");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(run.path().join("etc/motd")).unwrap(), "hello");

        // A second init keeps what the container changed.
        std::fs::write(run.path().join("etc/motd"), "changed").unwrap();
        assert_eq!(prepare_all(Some(&conf), run.path()).len(), 2);
        assert_eq!(std::fs::read_to_string(run.path().join("etc/motd")).unwrap(), "changed");

        assert!(prepare_all(Some(&host.path().join("none.conf")), run.path()).is_empty());
    }
}
