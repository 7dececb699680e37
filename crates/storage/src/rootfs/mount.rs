//! Counted mounts: the count each container's filesystem has, kept in the run root under a
//! lock, the rule that reconciles it with the kernel's mount table, and the overlay mount.

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};
use crate::lock::{LockGuard, StoreLock};

/// What a user asks of a counted mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountOp {
    Mount,
    Unmount,
    /// Unmount whatever the count says.
    ForceUnmount,
    /// Only reconcile the count with the mount table.
    Query,
}

/// What the kernel must be asked to do after a [`MountOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountAction {
    Nothing,
    Mount,
    Unmount,
}

/// The counted-mount rule: from the stored `count` and whether the path is `mounted` now,
/// the new count and the kernel action. A count without a mount (its maker died, or someone
/// unmounted behind our back) starts again from 0; a mount without a count (its maker died
/// before counting) is adopted as one user, so the next unmount removes it.
pub fn mount_transition(op: MountOp, count: u32, mounted: bool) -> (u32, MountAction) {
    let count = match (count, mounted) {
        (c, false) if c > 0 => 0,
        (0, true) => 1,
        (c, _) => c,
    };
    match op {
        MountOp::Query => (count, MountAction::Nothing),
        MountOp::Mount if count == 0 => (1, MountAction::Mount),
        MountOp::Mount => (count.saturating_add(1), MountAction::Nothing),
        MountOp::Unmount | MountOp::ForceUnmount if count == 0 => (0, MountAction::Nothing),
        MountOp::Unmount if count > 1 => (count - 1, MountAction::Nothing),
        MountOp::Unmount | MountOp::ForceUnmount => (0, MountAction::Unmount),
    }
}

/// Undoes the octal escapes of /proc/self/mountinfo (`\040` for a space, ...).
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(Ok(v)) = b
                .get(i + 1..i + 4)
                .map(|d| u8::from_str_radix(std::str::from_utf8(d).unwrap_or("x"), 8))
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount points of the caller's mount namespace.
pub(crate) fn mount_table() -> Result<Vec<PathBuf>> {
    let path = Path::new("/proc/self/mountinfo");
    let text = fs::read_to_string(path).map_err(|e| StorageError::io("reading", path, e))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape(m)))
        .collect())
}

/// True when `path` (absolute, resolved) is a mount point in the caller's namespace.
pub(crate) fn is_mount_point(path: &Path) -> Result<bool> {
    Ok(mount_table()?.iter().any(|m| m == path))
}

/// The mount counts of one store: `<run root>/containers/<id>.mounts`.
#[derive(Debug, Clone)]
pub(crate) struct MountCounts {
    dir: PathBuf,
    lock: StoreLock,
}

impl MountCounts {
    pub(crate) fn new(run_root: &Path) -> Self {
        let dir = run_root.join("containers");
        Self {
            lock: StoreLock::new(&dir.join("mounts.lock")),
            dir,
        }
    }

    pub(crate) fn lock(&self) -> Result<LockGuard> {
        self.lock.exclusive()
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.mounts"))
    }

    /// The stored count (0 when none is stored or it is unreadable).
    pub(crate) fn read(&self, id: &str) -> Result<u32> {
        let path = self.path(id);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(s.trim().parse().unwrap_or(0)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(StorageError::io("reading mount count", &path, e)),
        }
    }

    /// Replaces the count by renaming a temp file over it, without fsync: the run root is a
    /// tmpfs that a reboot empties anyway, and a count lost in a crash is repaired from the
    /// mount table.
    pub(crate) fn write(&self, id: &str, count: u32) -> Result<()> {
        let path = self.path(id);
        if count == 0 {
            return crate::fsutil::remove_path(&path);
        }
        let tmp = self.dir.join(crate::fsutil::unique_name(".count"));
        fs::write(&tmp, count.to_string()).map_err(|e| StorageError::io("writing mount count", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            StorageError::io("renaming mount count into place", &path, e)
        })
    }
}

/// Longest mount data the kernel takes is one page; stay clear of it.
const MAX_MOUNT_DATA: usize = 4000;

fn overlay_feature(name: &str) -> bool {
    Path::new("/sys/module/overlay/parameters").join(name).exists()
}

/// Mounts overlayfs at `target`: `lowers` top first (read-only), `upper` and `work` the
/// container's. Features that would keep changes outside the upper dir's plain files
/// (redirects, metacopy) are turned off so the upper dir alone tells what changed.
pub(crate) fn mount_overlay(lowers: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> Result<()> {
    let mut extra = String::new();
    for feature in ["redirect_dir", "metacopy", "index"] {
        if overlay_feature(feature) {
            extra.push_str(&format!(",{feature}=off"));
        }
    }
    let plain = |p: &Path| {
        let s = p.to_string_lossy();
        !s.contains([':', ',', '\\'])
    };
    let data = |lowerdir: String| {
        format!(
            "lowerdir={lowerdir},upperdir={},workdir={}{extra}",
            upper.display(),
            work.display()
        )
    };
    let joined: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
    let mut text = data(joined.join(":"));
    // Kept open until the mount is made: their /proc/self/fd links name the lower dirs.
    let mut held: Vec<OwnedFd> = Vec::new();
    if text.len() > MAX_MOUNT_DATA || !lowers.iter().all(|p| plain(p)) {
        let mut names = Vec::new();
        for p in lowers {
            let fd = rustix::fs::open(
                p,
                rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .map_err(|e| StorageError::io("opening layer", p, e.into()))?;
            names.push(format!("/proc/self/fd/{}", fd.as_raw_fd()));
            held.push(fd);
        }
        text = data(names.join(":"));
    }
    if text.len() > MAX_MOUNT_DATA {
        return Err(StorageError::Unsupported {
            what: "overlay mount (too many layers for one mount)".into(),
            value: format!("{} layers", lowers.len()),
        });
    }
    let data = CString::new(text).map_err(|e| StorageError::io("mounting overlay at", target, e.into()))?;
    rustix::mount::mount(
        "overlay",
        target,
        "overlay",
        rustix::mount::MountFlags::empty(),
        data.as_c_str(),
    )
    .map_err(|e| StorageError::io("mounting overlay at", target, e.into()))?;
    drop(held);
    Ok(())
}

/// Unmounts `target`; with `force`, a busy mount is detached (it goes when its last user does).
pub(crate) fn unmount(target: &Path, force: bool) -> Result<()> {
    match rustix::mount::unmount(target, rustix::mount::UnmountFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => Ok(()),
        Err(rustix::io::Errno::BUSY) if force => rustix::mount::unmount(target, rustix::mount::UnmountFlags::DETACH)
            .map_err(|e| StorageError::io("unmounting (detaching)", target, e.into())),
        Err(e) => Err(StorageError::io("unmounting", target, e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape(r"/a\040b\011c"), "/a b\tc");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/trail\04"), r"/trail\04");
        assert!(is_mount_point(Path::new("/proc")).unwrap());
    }

    #[test]
    fn transition_table() {
        use MountAction as A;
        use MountOp as O;
        assert_eq!(mount_transition(O::Mount, 0, false), (1, A::Mount));
        assert_eq!(mount_transition(O::Mount, 1, true), (2, A::Nothing));
        assert_eq!(mount_transition(O::Unmount, 2, true), (1, A::Nothing));
        assert_eq!(mount_transition(O::Unmount, 1, true), (0, A::Unmount));
        assert_eq!(mount_transition(O::Unmount, 0, false), (0, A::Nothing));
        assert_eq!(mount_transition(O::ForceUnmount, 5, true), (0, A::Unmount));
        // Stale count: counted but not mounted.
        assert_eq!(mount_transition(O::Mount, 3, false), (1, A::Mount));
        assert_eq!(mount_transition(O::Query, 3, false), (0, A::Nothing));
        // Orphan mount: mounted but not counted.
        assert_eq!(mount_transition(O::Mount, 0, true), (2, A::Nothing));
        assert_eq!(mount_transition(O::Unmount, 0, true), (0, A::Unmount));
    }

    #[derive(Debug, Clone)]
    enum Event {
        /// A user mounts (and later unmounts: pushed on the holder stack).
        Mount,
        /// The newest holder unmounts.
        Unmount,
        ForceUnmount,
        /// A process died after mounting, before storing its count.
        LoseCount,
        /// Someone unmounted without telling the count.
        ExternalUnmount,
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            4 => Just(Event::Mount),
            4 => Just(Event::Unmount),
            1 => Just(Event::ForceUnmount),
            1 => Just(Event::LoseCount),
            1 => Just(Event::ExternalUnmount),
        ]
    }

    proptest! {
        /// Against a fake kernel: after every operation the filesystem is mounted exactly
        /// when the count is positive, and without interference the count equals the
        /// number of users holding it.
        #[test]
        fn counts_follow_users(events in prop::collection::vec(event(), 1..40)) {
            let (mut count, mut mounted, mut users, mut disturbed) = (0u32, false, 0u32, false);
            for e in events {
                let op = match e {
                    Event::Mount => Some(MountOp::Mount),
                    Event::Unmount => Some(MountOp::Unmount),
                    Event::ForceUnmount => Some(MountOp::ForceUnmount),
                    Event::LoseCount => {
                        count = 0;
                        disturbed = true;
                        None
                    }
                    Event::ExternalUnmount => {
                        mounted = false;
                        disturbed = true;
                        None
                    }
                };
                let Some(op) = op else { continue };
                let (next, action) = mount_transition(op, count, mounted);
                match action {
                    MountAction::Mount => {
                        prop_assert!(!mounted, "mounting twice");
                        mounted = true;
                    }
                    MountAction::Unmount => {
                        prop_assert!(mounted, "unmounting what is not mounted");
                        mounted = false;
                    }
                    MountAction::Nothing => {}
                }
                count = next;
                prop_assert_eq!(mounted, count > 0);
                match op {
                    MountOp::Mount => users += 1,
                    MountOp::Unmount => users = users.saturating_sub(1),
                    MountOp::ForceUnmount => {
                        users = 0;
                        disturbed = false;
                    }
                    MountOp::Query => {}
                }
                if !disturbed {
                    prop_assert_eq!(count, users);
                }
                if count == 0 {
                    // Nothing left to be confused about.
                    users = 0;
                    disturbed = false;
                }
            }
        }
    }
}
