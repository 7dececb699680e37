//! [`Runtime::reset`]: libpod's reset (`system reset`).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use corral_storage::ImageStore;

use super::EngineLock;
use crate::container::RemoveOptions;
use crate::error::{CoreError, Result};
use crate::runtime::Runtime;
use crate::volume::VolumeFilters;

/// Containers are killed at once, as `system reset` is asked to throw everything away.
const KILL_AT_ONCE: RemoveOptions = RemoveOptions {
    force: true,
    timeout: Some(0),
};

impl Runtime {
    /// Throws the engine's content away, as podman's `system reset`: every container
    /// (killed and removed, dependents first), every storage container the state does
    /// not know, every volume, every image and layer; then this runtime is shut down
    /// and the root, the runroot (state database, locks, events, `alive` marker) and
    /// the tmp, static and volume directories are removed, after lazily unmounting
    /// anything still mounted below them. [`Runtime::new`] on the same options then
    /// gives an empty, working engine.
    ///
    /// Holds the engine lock exclusively throughout. An object that cannot be removed
    /// is logged and the reset goes on (its files go with the directories); the
    /// result is the first directory that could not be removed.
    pub async fn reset(&self) -> Result<()> {
        self.ensure_valid()?;
        // As libpod refuses a reset without a store: it could not remove the images.
        let store = self.storage()?;
        let options = self.options().clone();
        let engine = EngineLock::exclusive(&options.runroot)?;
        self.remove_every_container().await;
        match self.external_containers() {
            Ok(external) => {
                for record in external {
                    if let Err(e) = self.remove_storage_container(&record.id) {
                        tracing::error!("removing storage container {}: {e}", record.id);
                    }
                }
            }
            Err(e) => tracing::error!("listing storage containers: {e}"),
        }
        match self.volumes(&VolumeFilters::default()) {
            Ok(volumes) => {
                for volume in volumes {
                    if let Err(e) = self.remove_volume(&volume, true).await {
                        tracing::error!("removing volume {}: {e}", volume.name());
                    }
                }
            }
            Err(e) => tracing::error!("listing volumes: {e}"),
        }
        match store.list() {
            Ok(images) => {
                for image in images {
                    let force = corral_storage::RemoveOptions { force: true };
                    if let Err(e) = store.remove(&image.id, force, &[]) {
                        tracing::error!("removing image {}: {e}", image.id);
                    }
                }
            }
            Err(e) => tracing::error!("listing images: {e}"),
        }
        self.inner.shut_down.store(true, Ordering::SeqCst);
        if let Err(e) = self.inner.state.close() {
            tracing::error!("closing the state: {e}");
        }
        let dirs = [
            options.root.clone(),
            options.runroot.clone(),
            options.tmp_dir(),
            options.static_dir(),
            options.volume_path(),
        ];
        unmount_below(&dirs);
        let mut first_error = None;
        for dir in &dirs {
            match std::fs::remove_dir_all(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::error!("removing {}: {e}", dir.display());
                    first_error.get_or_insert(CoreError::io("removing directory", dir, e));
                }
            }
        }
        drop(engine);
        first_error.map_or(Ok(()), Err)
    }

    /// Removes every container, forcibly; a container others depend on is removed in
    /// a later pass, after them. What still fails when a pass removes nothing is logged.
    async fn remove_every_container(&self) {
        loop {
            let containers = match self.get_containers() {
                Ok(containers) => containers,
                Err(e) => {
                    tracing::error!("listing containers: {e}");
                    return;
                }
            };
            let mut failures = Vec::new();
            let total = containers.len();
            for ctr in containers {
                if let Err(e) = ctr.remove(KILL_AT_ONCE).await {
                    failures.push((ctr.id().to_string(), e));
                }
            }
            if failures.is_empty() {
                return;
            }
            if failures.len() == total {
                for (id, e) in failures {
                    tracing::error!("removing container {id}: {e}");
                }
                return;
            }
        }
    }
}

/// Undoes `/proc/self/mountinfo`'s octal escapes (`\040` for a space, ...).
fn unescape_mountinfo(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|digits| {
            let text = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match octal {
            Some(byte) if bytes[i] == b'\\' => {
                out.push(byte);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(out))
}

/// Mount points in `mountinfo` at or below one of `dirs`, deepest first.
fn mount_points_below(mountinfo: &str, dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut points: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|point| dirs.iter().any(|dir| point.starts_with(dir)))
        .collect();
    // A point listed twice has two stacked mounts: it is unmounted twice.
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    points
}

/// Lazily unmounts whatever is mounted below `dirs` (a container's root filesystem
/// or a volume's device that removal could not unmount), so removing the
/// directories never deletes files through a mount.
fn unmount_below(dirs: &[PathBuf]) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    for point in mount_points_below(&mountinfo, dirs) {
        if let Err(e) = rustix::mount::unmount(Path::new(&point), rustix::mount::UnmountFlags::DETACH) {
            tracing::warn!("unmounting {}: {e}", point.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_below_the_engine_dirs_deepest_first() {
        let mountinfo = "\
22 1 8:1 / / rw - ext4 /dev/sda1 rw
30 22 0:5 / /r/storage/containers/a/merged rw - overlay overlay rw
31 22 0:6 / /r/volumes/my\\040vol/_data rw - tmpfs tmpfs rw
32 22 0:7 / /rr rw - tmpfs tmpfs rw
33 22 0:8 / /rrx rw - tmpfs tmpfs rw
34 30 0:9 / /r/storage/containers/a/merged/proc rw - proc proc rw
";
        let points = mount_points_below(mountinfo, &[PathBuf::from("/r"), PathBuf::from("/rr")]);
        assert_eq!(
            points,
            [
                PathBuf::from("/r/storage/containers/a/merged/proc"),
                PathBuf::from("/r/storage/containers/a/merged"),
                PathBuf::from("/r/volumes/my vol/_data"),
                PathBuf::from("/rr"),
            ]
        );
    }
}
