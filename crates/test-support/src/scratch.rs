//! A test's own root and runroot, and the cleanup that removes what its containers left.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use crate::{BusyboxImage, Error, Result};

/// A temporary directory `<prefix>XXXXXX` with a root (`root/`) and a runroot (`run/`) for
/// a store, not created yet, and an image written beside them as `busybox.tar`. Dropping it
/// removes the directory; call [`remove_leftovers`] first when containers ran in it.
#[derive(Debug)]
pub struct Scratch {
    pub root: PathBuf,
    pub runroot: PathBuf,
    /// The docker archive of the image, ready for `load`.
    pub archive: PathBuf,
    pub dir: TempDir,
}

impl Scratch {
    /// Makes the directory and writes `image` into it.
    pub fn new(prefix: &str, image: &BusyboxImage) -> Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(Error::io("creating a temporary directory in", std::env::temp_dir()))?;
        let archive = dir.path().join("busybox.tar");
        image.write_docker_archive(&archive)?;
        Ok(Scratch {
            root: dir.path().join("root"),
            runroot: dir.path().join("run"),
            archive,
            dir,
        })
    }
}

/// Removes what containers left after the engine's own removal ran (or failed): kills the
/// conmon of every container directory under `runroot/containers`, deletes the container
/// from crun, then detaches every mount below `below`. Best effort, for `Drop`: whatever
/// fails is skipped.
pub fn remove_leftovers(runroot: &Path, below: &Path) {
    if let Ok(entries) = std::fs::read_dir(runroot.join("containers")) {
        for entry in entries.flatten() {
            let conmon = std::fs::read_to_string(entry.path().join("userdata/conmon.pid"))
                .ok()
                .and_then(|pid| pid.trim().parse().ok())
                .and_then(rustix::process::Pid::from_raw);
            if let Some(pid) = conmon {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
            let _ = Command::new("crun")
                .arg("delete")
                .arg("--force")
                .arg(entry.file_name())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    unmount_all_below(below);
}

/// The mount points at or below `dir` (none when the mount table cannot be read).
pub fn mounts_below(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(dir))
        .collect()
}

/// The command lines of the conmon processes whose arguments name a path under
/// `dir`: the ones serving containers of a store there.
pub fn conmons_serving(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let dir = dir.to_string_lossy();
    entries
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| {
            cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        })
        .filter(|args| args.first().is_some_and(|a| a.ends_with("conmon")) && args.iter().any(|a| a.contains(&*dir)))
        .map(|args| args.join(" "))
        .collect()
}

/// Detaches everything mounted at or below `dir`, deepest first, so a failed assertion
/// leaves no mount behind. Best effort: a mount that will not go is skipped.
pub fn unmount_all_below(dir: &Path) {
    let mut points = mounts_below(dir);
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for point in points {
        let _ = rustix::mount::unmount(&point, rustix::mount::UnmountFlags::DETACH);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_holds_the_archive_beside_root_and_runroot() {
        let scratch = Scratch::new("corral-test-support-", &BusyboxImage::bare()).unwrap();
        let dir = scratch.dir.path().to_path_buf();
        assert!(
            dir.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("corral-test-support-")
        );
        assert_eq!(scratch.root, dir.join("root"));
        assert_eq!(scratch.runroot, dir.join("run"));
        assert!(scratch.archive.is_file());
        drop(scratch);
        assert!(!dir.exists());
    }

    #[test]
    fn leftovers_of_nothing_are_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("run/containers/abc/userdata")).unwrap();
        std::fs::write(dir.path().join("run/containers/abc/userdata/conmon.pid"), "not a pid").unwrap();
        remove_leftovers(&dir.path().join("run"), dir.path());
        remove_leftovers(&dir.path().join("missing"), &dir.path().join("missing"));
        assert!(
            dir.path().join("run/containers/abc").is_dir(),
            "cleanup removes no files"
        );
    }
}
