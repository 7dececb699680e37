//! The local volume driver end to end: plain directories with owners, a tmpfs volume
//! mounted by its first user and unmounted by its last, copy-up of image content,
//! removal rules, and podman's messages for bad options.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::{is_root, unmount_all_below};
use corral_define::{ErrorKind, HasKind, VolumeConfig};
use corral_storage::{LocalVolumeDriver, StorageError, VolumeDriver};

/// A volume path in a temp dir; whatever is still mounted below it goes on drop.
struct Volumes {
    dir: tempfile::TempDir,
    driver: LocalVolumeDriver,
}

impl Volumes {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let driver = LocalVolumeDriver::new(&dir.path().join("volumes")).unwrap();
        Self { dir, driver }
    }
}

impl Drop for Volumes {
    fn drop(&mut self) {
        unmount_all_below(self.dir.path());
    }
}

fn config(name: &str, options: &[(&str, &str)]) -> VolumeConfig {
    VolumeConfig {
        name: name.into(),
        options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    }
}

fn is_mounted(path: &Path) -> bool {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(path.to_str().unwrap()))
}

#[test]
fn plain_volume_with_owner() {
    let v = Volumes::new();
    let mut cfg = config("data", &[]);
    v.driver.create(&mut cfg).unwrap();
    let data = v.dir.path().join("volumes/data/_data");
    assert_eq!(cfg.mount_point, fs::canonicalize(&data).unwrap().display().to_string());
    assert_eq!(cfg.driver, "local");
    assert!(data.is_dir());
    let again = v.driver.create(&mut config("data", &[])).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::VolumeExists);
    assert_eq!(
        again.to_string(),
        "volume with name data already exists: volume already exists"
    );

    // Plain volumes need no mount: mount returns the data dir.
    assert_eq!(v.driver.mount(&cfg, true).unwrap(), Path::new(&cfg.mount_point));
    assert!(!is_mounted(Path::new(&cfg.mount_point)));
    v.driver.unmount(&cfg, true).unwrap();

    if is_root() {
        let mut owned = config("owned", &[("o", "uid=1000,gid=1001")]);
        v.driver.create(&mut owned).unwrap();
        assert_eq!((owned.uid, owned.gid), (Some(1000), Some(1001)));
        let meta = fs::metadata(&owned.mount_point).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1000, 1001));
    }
    assert_eq!(
        v.driver.list().unwrap(),
        if is_root() { vec!["data", "owned"] } else { vec!["data"] }
    );

    let refused = v.driver.remove(&cfg, 1, false).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::VolumeInUse);
    v.driver.remove(&cfg, 0, false).unwrap();
    assert!(!v.dir.path().join("volumes/data").exists());
    assert!(v.driver.create(&mut config("bad/name", &[])).is_err());
}

#[test]
fn tmpfs_volume_is_mounted_by_first_user_only() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let v = Volumes::new();
    let mut cfg = config(
        "scratch",
        &[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=2m,uid=1000")],
    );
    v.driver.create(&mut cfg).unwrap();
    assert_eq!(cfg.size, 2_000_000);
    let data = v.driver.mount(&cfg, true).unwrap();
    assert!(is_mounted(&data));
    let st = rustix::fs::statfs(&data).unwrap();
    assert_eq!(st.f_type as i64, 0x0102_1994, "a tmpfs");
    assert_eq!(
        st.f_blocks as u64 * st.f_bsize as u64,
        2 * 1024 * 1024,
        "size=2m (the kernel reads binary units)"
    );
    assert_eq!(fs::metadata(&data).unwrap().uid(), 1000);
    fs::write(data.join("f"), "in memory").unwrap();
    // A second user does not mount again; a non-last unmount keeps it.
    v.driver.mount(&cfg, false).unwrap();
    v.driver.unmount(&cfg, false).unwrap();
    assert_eq!(fs::read_to_string(data.join("f")).unwrap(), "in memory");

    let refused = v.driver.remove(&cfg, 0, false).unwrap_err();
    assert!(matches!(refused, StorageError::VolumeInUse { .. }), "{refused}");
    v.driver.unmount(&cfg, true).unwrap();
    assert!(!is_mounted(&data));
    assert!(!data.join("f").exists(), "tmpfs content goes with the mount");

    v.driver.mount(&cfg, true).unwrap();
    v.driver.remove(&cfg, 0, true).unwrap();
    assert!(!is_mounted(&data));
    assert!(!v.dir.path().join("volumes/scratch").exists());
}

#[test]
fn copy_up_keeps_modes_owners_links_and_xattrs() {
    let v = Volumes::new();
    let src = v.dir.path().join("image-dir");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("sub/file"), "content").unwrap();
    fs::set_permissions(src.join("sub/file"), fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink("sub/file", src.join("link")).unwrap();
    fs::set_permissions(&src, fs::Permissions::from_mode(0o750)).unwrap();
    let xattr_ok = rustix::fs::setxattr(
        src.join("sub/file"),
        "user.origin",
        b"image",
        rustix::fs::XattrFlags::empty(),
    )
    .is_ok();
    if is_root() {
        rustix::fs::chown(
            src.join("sub/file"),
            Some(rustix::fs::Uid::from_raw(1234)),
            Some(rustix::fs::Gid::from_raw(5678)),
        )
        .unwrap();
        rustix::fs::chown(
            &src,
            Some(rustix::fs::Uid::from_raw(33)),
            Some(rustix::fs::Gid::from_raw(33)),
        )
        .unwrap();
    }

    let mut cfg = config("web", &[]);
    v.driver.create(&mut cfg).unwrap();
    assert!(v.driver.copy_up(&cfg, &src).unwrap());
    let data = Path::new(&cfg.mount_point);
    assert_eq!(fs::read_to_string(data.join("sub/file")).unwrap(), "content");
    assert_eq!(fs::metadata(data.join("sub/file")).unwrap().mode() & 0o7777, 0o600);
    assert_eq!(fs::read_link(data.join("link")).unwrap(), Path::new("sub/file"));
    assert_eq!(
        fs::metadata(data).unwrap().mode() & 0o7777,
        0o750,
        "the volume takes the dir's mode"
    );
    if is_root() {
        let m = fs::metadata(data.join("sub/file")).unwrap();
        assert_eq!((m.uid(), m.gid()), (1234, 5678));
        assert_eq!(fs::metadata(data).unwrap().uid(), 33, "and its owner");
    }
    if xattr_ok {
        let mut buf = [0u8; 16];
        let n = rustix::fs::getxattr(data.join("sub/file"), "user.origin", &mut buf).unwrap();
        assert_eq!(&buf[..n], b"image");
    }
    // Not empty any more: a second copy-up does nothing.
    fs::write(src.join("later"), "x").unwrap();
    assert!(!v.driver.copy_up(&cfg, &src).unwrap());
    assert!(!data.join("later").exists());
}

#[test]
fn bad_options_get_podman_messages() {
    let v = Volumes::new();
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str);
    let cases: BTreeMap<&str, Case<'_>> = [
        (
            "unknown",
            (
                vec![("badOpt", "bad")],
                "invalid mount option badOpt for driver 'local': invalid argument",
            ),
        ),
        (
            "size",
            (
                vec![("o", "size=10m")],
                "volume options size and inodes not supported. Filesystem does not support Project Quota",
            ),
        ),
        (
            "bind",
            (
                vec![("type", "bind"), ("device", "/bogus")],
                "invalid volume option device for driver 'local': stat /bogus: no such file or directory",
            ),
        ),
        (
            "uid",
            (
                vec![("o", "uid=")],
                "cannot convert UID  to integer: strconv.Atoi: parsing \"\": invalid syntax",
            ),
        ),
    ]
    .into();
    for (name, (opts, want)) in cases {
        let err = v.driver.create(&mut config(name, &opts)).unwrap_err();
        assert_eq!(err.to_string(), want, "{name}");
        assert_eq!(err.kind(), ErrorKind::InvalidArg);
        assert!(
            !v.dir.path().join("volumes").join(name).exists(),
            "{name}: nothing made"
        );
    }
}
