//! Container root filesystems end to end, as root: overlay and vfs create / mount / write /
//! diff / unmount / remove on a two-layer busybox image with whiteouts, counted mounts
//! shared by two users and by two store handles, stale count recovery, export, commit,
//! import, the image removal guard, and a model-based property test of the container store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use common::{busybox_image, is_root, unmount_all_below};
use corral_define::{ErrorKind, HasKind};
use corral_storage::archive::write_docker_archive;
use corral_storage::{
    ArchiveFormat, CommitOptions, ContainerFsStore, Driver, ImageStore, ImportOptions, RemoveOptions, StorageError,
    Store, StoreOptions, UnpackOptions,
};
use proptest::prelude::*;

/// A store with the busybox image loaded, in a temp dir; everything mounted below the dir
/// is unmounted on drop, even when the test failed.
struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
}

impl Fixture {
    fn new(driver: Driver) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), driver);
        let (image, blobs) = busybox_image("busybox");
        let archive = dir.path().join("busybox.tar");
        write_docker_archive(File::create(&archive).unwrap(), &[image], &blobs).unwrap();
        store.load(&archive, None).unwrap();
        Fixture { dir, store }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        unmount_all_below(self.dir.path());
    }
}

fn open(dir: &Path, driver: Driver) -> Store {
    Store::open_with_options(
        &dir.join("root"),
        StoreOptions {
            unpack: UnpackOptions::for_current_user(),
            run_root: dir.join("runroot"),
            driver,
        },
    )
    .unwrap()
}

fn mounted(path: &Path) -> bool {
    fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(path.to_str().unwrap()))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The same edits on either driver: modify, add (file and tree), delete (file from the
/// top layer, symlink from the base), and replace a directory.
fn edit(root: &Path) {
    fs::write(root.join("etc/passwd"), "root:x:0:0:changed:/root:/bin/sh\n").unwrap();
    fs::write(root.join("srv/new"), "new file").unwrap();
    fs::create_dir_all(root.join("newdir/sub")).unwrap();
    fs::write(root.join("newdir/sub/f"), "f").unwrap();
    fs::remove_file(root.join("opt/c")).unwrap();
    fs::remove_file(root.join("bin/ls")).unwrap();
}

const EXPECTED_DIFF: [&str; 11] = [
    "C /bin",
    "D /bin/ls",
    "C /etc",
    "C /etc/passwd",
    "A /newdir",
    "A /newdir/sub",
    "A /newdir/sub/f",
    "C /opt",
    "D /opt/c",
    "C /srv",
    "A /srv/new",
];

fn diff_text(store: &Store, id: &str) -> Vec<String> {
    store.diff(id).unwrap().iter().map(ToString::to_string).collect()
}

fn check_image_view(root: &Path) {
    assert!(root.join("bin/busybox").is_file());
    assert_eq!(fs::read_link(root.join("bin/sh")).unwrap(), Path::new("busybox"));
    assert!(!root.join("etc/old").exists(), "the whiteout hides /etc/old");
    assert_eq!(
        names(&root.join("opt")),
        ["c"],
        "the opaque dir hides /opt/a and /opt/b"
    );
    assert_eq!(fs::read_to_string(root.join("srv/marker")).unwrap(), "top");
    let home = fs::metadata(root.join("home/user")).unwrap();
    assert_eq!((home.uid(), home.gid(), home.mode() & 0o7777), (1000, 1000, 0o750));
}

#[test]
fn overlay_create_mount_write_diff_unmount_remove() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let f = Fixture::new(Driver::Overlay);
    let rec = f
        .store
        .create_container("", "busybox", &["web".to_string()], "{\"x\":1}")
        .unwrap();
    assert_eq!(rec.driver, Driver::Overlay);
    assert_eq!(rec.image_id, f.store.lookup("busybox").unwrap().id);
    assert_eq!(f.store.container("web").unwrap(), rec);
    assert_eq!(f.store.container(&rec.id[..12]).unwrap(), rec);
    assert_eq!(f.store.containers().unwrap(), std::slice::from_ref(&rec));

    let root = f.store.mount("web").unwrap();
    assert!(mounted(&root));
    assert_eq!(f.store.mount_count("web").unwrap(), 1);
    check_image_view(&root);
    assert!(diff_text(&f.store, "web").is_empty());
    edit(&root);
    assert_eq!(diff_text(&f.store, "web"), EXPECTED_DIFF);
    // busybox runs from the merged tree (the tree is a real root filesystem).
    let out = std::process::Command::new(root.join("bin/busybox"))
        .args(["cat", root.join("srv/new").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"new file");

    assert_eq!(f.store.unmount("web", false).unwrap(), 0);
    assert!(!mounted(&root));
    assert!(names(&root).is_empty());
    // Changes stay in the upper dir across mounts.
    assert_eq!(diff_text(&f.store, "web"), EXPECTED_DIFF);
    let again = f.store.mount("web").unwrap();
    assert_eq!(fs::read_to_string(again.join("srv/new")).unwrap(), "new file");
    assert_eq!(f.store.unmount("web", false).unwrap(), 0);

    let dup = f.store.create_container("", "busybox", &["web".to_string()], "");
    assert!(matches!(dup, Err(StorageError::ContainerNameInUse { .. })), "{dup:?}");
    f.store.remove_container("web", false).unwrap();
    assert!(!f.path().join("root/containers").join(&rec.id).exists());
    assert!(f.store.containers().unwrap().is_empty());
    let gone = f.store.container("web").unwrap_err();
    assert_eq!(gone.kind(), ErrorKind::NoSuchContainer);
}

#[test]
fn two_users_share_one_mount() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let f = Fixture::new(Driver::Overlay);
    let rec = f.store.create_container("", "busybox", &[], "").unwrap();
    // A second handle on the same root and run root stands for another process.
    let other = open(f.path(), Driver::Overlay);
    let a = f.store.mount(&rec.id).unwrap();
    let b = other.mount(&rec.id).unwrap();
    assert_eq!(a, b);
    assert_eq!(f.store.mount_count(&rec.id).unwrap(), 2);
    assert_eq!(other.unmount(&rec.id, false).unwrap(), 1);
    assert!(
        mounted(&a),
        "the first user's mount must survive the second user's unmount"
    );
    assert!(a.join("bin/busybox").is_file());

    let refused = f.store.remove_container(&rec.id, false).unwrap_err();
    assert!(
        matches!(refused, StorageError::ContainerMounted { users: 1, .. }),
        "{refused}"
    );
    assert_eq!(refused.kind(), ErrorKind::InvalidState);
    f.store.remove_container(&rec.id, true).unwrap();
    assert!(!mounted(&a));
    assert!(!f.path().join("root/containers").join(&rec.id).exists());
    assert!(!f.path().join(format!("runroot/containers/{}.mounts", rec.id)).exists());
}

#[test]
fn stale_counts_are_recovered() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let f = Fixture::new(Driver::Overlay);
    let rec = f.store.create_container("", "busybox", &[], "").unwrap();
    let count_file = f.path().join(format!("runroot/containers/{}.mounts", rec.id));

    // Mounted, then the count is lost (its process died before writing it): adopted.
    let root = f.store.mount(&rec.id).unwrap();
    assert_eq!(fs::read_to_string(&count_file).unwrap(), "1");
    fs::remove_file(&count_file).unwrap();
    assert_eq!(f.store.mount_count(&rec.id).unwrap(), 1);
    assert_eq!(f.store.unmount(&rec.id, false).unwrap(), 0);
    assert!(!mounted(&root), "the adopted mount is unmounted by the last unmount");

    // Counted, but unmounted behind the store's back (or a reboot): reset, then mounted anew.
    f.store.mount(&rec.id).unwrap();
    f.store.mount(&rec.id).unwrap();
    rustix::mount::unmount(&root, rustix::mount::UnmountFlags::empty()).unwrap();
    assert_eq!(f.store.mount_count(&rec.id).unwrap(), 0);
    assert!(!count_file.exists());
    f.store.mount(&rec.id).unwrap();
    assert!(mounted(&root));
    assert!(root.join("srv/marker").is_file());
    assert_eq!(f.store.unmount(&rec.id, true).unwrap(), 0);
    assert!(!mounted(&root));
}

#[test]
fn vfs_driver_copies_and_diffs_like_overlay() {
    let f = Fixture::new(Driver::Vfs);
    let rec = f.store.create_container("", "busybox", &["v".into()], "").unwrap();
    assert_eq!(rec.driver, Driver::Vfs);
    let root = f.store.mount("v").unwrap();
    assert!(!mounted(&root), "vfs needs no mount");
    if is_root() {
        check_image_view(&root);
        assert!(fs::symlink_metadata(root.join("etc/old")).is_err());
    }
    assert!(diff_text(&f.store, "v").is_empty(), "{:?}", diff_text(&f.store, "v"));
    edit(&root);
    assert_eq!(diff_text(&f.store, "v"), EXPECTED_DIFF);
    assert_eq!(f.store.mount_count("v").unwrap(), 1);
    assert!(f.store.remove_container("v", false).is_err());
    assert_eq!(f.store.unmount("v", false).unwrap(), 0);
    f.store.remove_container("v", false).unwrap();
    assert!(!root.exists());
}

/// (name, type, size, first bytes) of every tar entry.
fn tar_entries(bytes: &[u8]) -> Vec<(String, tar::EntryType, Vec<u8>)> {
    let mut ar = tar::Archive::new(bytes);
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e
                .path()
                .unwrap()
                .display()
                .to_string()
                .trim_end_matches('/')
                .to_string();
            let kind = e.header().entry_type();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, kind, data)
        })
        .collect()
}

#[test]
fn export_is_the_merged_tree_in_a_fixed_order() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    for driver in [Driver::Overlay, Driver::Vfs] {
        let f = Fixture::new(driver);
        let rec = f.store.create_container("", "busybox", &[], "").unwrap();
        let root = f.store.mount(&rec.id).unwrap();
        edit(&root);
        f.store.unmount(&rec.id, false).unwrap();
        let mut first = Vec::new();
        f.store.export(&rec.id, &mut first).unwrap();
        let mut second = Vec::new();
        f.store.export(&rec.id, &mut second).unwrap();
        assert_eq!(first, second, "{driver}: export must be deterministic");
        assert_eq!(f.store.mount_count(&rec.id).unwrap(), 0, "{driver}: export unmounts");
        let entries = tar_entries(&first);
        let listed: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
        let mut sorted = listed.clone();
        sorted.sort_by_key(|n| n.split('/').map(str::to_string).collect::<Vec<_>>());
        assert_eq!(listed, sorted, "{driver}: depth first, by name");
        for present in [
            "bin/busybox",
            "etc/passwd",
            "newdir/sub/f",
            "srv/new",
            "srv/marker",
            "home/user",
        ] {
            assert!(listed.contains(&present), "{driver}: {present} missing from {listed:?}");
        }
        for absent in ["etc/old", "opt/a", "opt/c", "bin/ls"] {
            assert!(!listed.contains(&absent), "{driver}: {absent} exported");
        }
        let passwd = entries.iter().find(|(n, _, _)| n == "etc/passwd").unwrap();
        assert_eq!(passwd.2, b"root:x:0:0:changed:/root:/bin/sh\n");
        let sh = entries.iter().find(|(n, _, _)| n == "bin/sh").unwrap();
        assert_eq!(sh.1, tar::EntryType::Symlink);
    }
}

#[test]
fn commit_makes_an_image_with_the_changes() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    for driver in [Driver::Overlay, Driver::Vfs] {
        let f = Fixture::new(driver);
        let parent = f.store.lookup("busybox").unwrap();
        let rec = f.store.create_container("", "busybox", &[], "").unwrap();
        let root = f.store.mount(&rec.id).unwrap();
        edit(&root);
        f.store.unmount(&rec.id, false).unwrap();
        let id = f
            .store
            .commit(
                &rec.id,
                &CommitOptions {
                    name: Some("committed:v1".into()),
                    author: Some("Tester <t@example.com>".into()),
                    message: Some("my change".into()),
                    created_by: Some("/bin/sh -c edit".into()),
                    changes: vec![
                        r#"CMD ["/bin/sh", "-c", "cat /srv/new"]"#.into(),
                        "ENV MODE=committed".into(),
                        "LABEL stage=two".into(),
                        "EXPOSE 8080".into(),
                        "WORKDIR /srv".into(),
                        "USER 1000".into(),
                        "VOLUME /data".into(),
                        "STOPSIGNAL SIGTERM".into(),
                    ],
                },
            )
            .unwrap();
        let image = f.store.lookup("committed:v1").unwrap();
        assert_eq!(image.id, id);
        assert_eq!(image.names, ["localhost/committed:v1"]);
        assert_eq!(image.layers.len(), parent.layers.len() + 1);
        let chains = |layers: &[corral_storage::image::ImageLayer]| {
            layers.iter().map(|l| l.chain_id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(chains(&image.layers[..2]), chains(&parent.layers));
        assert_eq!(image.labels.get("stage").map(String::as_str), Some("two"));
        let config = f.store.config(&id).unwrap();
        let settings = config.config.clone().unwrap();
        assert_eq!(settings.cmd.unwrap(), ["/bin/sh", "-c", "cat /srv/new"]);
        assert!(settings.env.unwrap().contains(&"MODE=committed".to_string()));
        assert_eq!(settings.working_dir.as_deref(), Some("/srv"));
        assert_eq!(settings.user.as_deref(), Some("1000"));
        assert!(settings.exposed_ports.unwrap().contains_key("8080/tcp"));
        assert!(settings.volumes.unwrap().contains_key("/data"));
        assert_eq!(settings.stop_signal.as_deref(), Some("SIGTERM"));
        assert_eq!(config.author.as_deref(), Some("Tester <t@example.com>"));
        let history = f.store.history(&id).unwrap();
        assert_eq!(history[0].comment, "my change");
        assert_eq!(history[0].created_by, "/bin/sh -c edit");
        assert_eq!(history.len(), 3);

        // The new layer holds the changes, deletions as overlay whiteouts.
        let top = f.store.layer_dirs(&id).unwrap().remove(0);
        assert_eq!(fs::read_to_string(top.join("srv/new")).unwrap(), "new file");
        let wh = fs::symlink_metadata(top.join("opt/c")).unwrap();
        assert!(
            wh.file_type().is_char_device() && wh.rdev() == 0,
            "opt/c must be a whiteout"
        );
        assert!(
            fs::symlink_metadata(top.join("bin/ls"))
                .unwrap()
                .file_type()
                .is_char_device()
        );
        assert!(
            !top.join("bin/busybox").exists(),
            "unchanged files are not in the new layer"
        );

        // A container of the new image sees the changes.
        let child = f.store.create_container("", "committed:v1", &[], "").unwrap();
        let croot = f.store.mount(&child.id).unwrap();
        assert_eq!(fs::read_to_string(croot.join("srv/new")).unwrap(), "new file");
        assert_eq!(
            fs::read_to_string(croot.join("etc/passwd")).unwrap(),
            "root:x:0:0:changed:/root:/bin/sh\n"
        );
        assert!(fs::symlink_metadata(croot.join("opt/c")).is_err());
        assert!(fs::symlink_metadata(croot.join("bin/ls")).is_err());
        assert!(croot.join("bin/busybox").is_file());
        assert!(f.store.diff(&child.id).unwrap().is_empty());
        f.store.unmount(&child.id, false).unwrap();

        // Saved and loaded elsewhere, it is the same image.
        let saved = f.path().join("committed.tar");
        f.store
            .save(&["committed:v1"], ArchiveFormat::DockerArchive, &saved)
            .unwrap();
        let elsewhere = open(&f.path().join("other"), driver);
        assert_eq!(elsewhere.load(&saved, None).unwrap(), std::slice::from_ref(&id));
        let top = elsewhere.layer_dirs(&id).unwrap().remove(0);
        assert_eq!(fs::read_to_string(top.join("srv/new")).unwrap(), "new file");
    }
}

#[test]
fn import_a_tarball_as_an_image() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let f = Fixture::new(Driver::Overlay);
    let rec = f.store.create_container("", "busybox", &[], "").unwrap();
    let root = f.store.mount(&rec.id).unwrap();
    edit(&root);
    f.store.unmount(&rec.id, false).unwrap();
    let tarball = f.path().join("export.tar");
    f.store.export(&rec.id, &mut File::create(&tarball).unwrap()).unwrap();
    let gz = f.path().join("export.tar.gz");
    let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::copy(&mut File::open(&tarball).unwrap(), &mut enc).unwrap();
    enc.finish().unwrap();

    for (source, name) in [(&tarball, "imported:plain"), (&gz, "imported:gz")] {
        let id = f
            .store
            .import(
                source,
                &ImportOptions {
                    name: Some(name.into()),
                    message: Some("from a tarball".into()),
                    changes: vec!["CMD /bin/sh".into(), "ENV A=b".into()],
                },
            )
            .unwrap();
        let image = f.store.lookup(name).unwrap();
        assert_eq!(image.id, id);
        assert_eq!(image.layers.len(), 1);
        let config = f.store.config(&id).unwrap();
        let settings = config.config.unwrap();
        assert_eq!(settings.cmd.unwrap(), ["/bin/sh", "-c", "/bin/sh"]);
        assert_eq!(settings.env.unwrap(), ["A=b"]);
        assert_eq!(config.os, "linux");
        assert_eq!(f.store.history(&id).unwrap()[0].comment, "from a tarball");

        let c = f.store.create_container("", name, &[], "").unwrap();
        let croot = f.store.mount(&c.id).unwrap();
        assert_eq!(fs::read_to_string(croot.join("srv/new")).unwrap(), "new file");
        assert!(!croot.join("etc/old").exists());
        assert_eq!(names(&croot.join("opt")), Vec::<String>::new());
        f.store.unmount(&c.id, false).unwrap();
    }
    let bad = f.path().join("bad.tar");
    fs::write(&bad, vec![7u8; 1000]).unwrap();
    assert!(f.store.import(&bad, &ImportOptions::default()).is_err());
    assert!(names(&f.path().join("root/tmp")).is_empty(), "failed import left files");
}

#[test]
fn images_used_by_storage_containers_are_guarded() {
    let f = Fixture::new(Driver::Vfs);
    let rec = f.store.create_container("", "busybox", &[], "").unwrap();
    let err = f.store.remove("busybox", RemoveOptions::default(), &[]).unwrap_err();
    assert!(matches!(err, StorageError::ImageInUse { containers: 1, .. }), "{err}");
    assert!(f.store.prune_dangling(&[]).unwrap().is_empty());
    let report = f.store.remove("busybox", RemoveOptions { force: true }, &[]).unwrap();
    assert!(report.deleted.is_some());
    assert!(f.store.containers().unwrap().is_empty());
    assert!(!f.path().join("root/containers").join(&rec.id).exists());
}

#[derive(Debug, Clone)]
enum Op {
    Create(u8),
    Remove(u8, bool),
    Mount(u8),
    Unmount(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3u8).prop_map(Op::Create),
        (0..3u8, any::<bool>()).prop_map(|(n, f)| Op::Remove(n, f)),
        (0..3u8).prop_map(Op::Mount),
        (0..3u8).prop_map(Op::Unmount),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The container store against a model (name -> mount count), with the vfs driver.
    /// Names start with `ct`, which no ID does: `c0` is also the prefix of
    /// one ID in 256, and the store finds containers by ID prefix too.
    #[test]
    fn container_store_matches_model(ops in prop::collection::vec(op(), 1..14)) {
        let f = Fixture::new(Driver::Vfs);
        let mut model: BTreeMap<String, u32> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Create(n) => {
                    let name = format!("ctr{n}");
                    let r = f.store.create_container("", "busybox", std::slice::from_ref(&name), "");
                    prop_assert_eq!(r.is_ok(), !model.contains_key(&name));
                    model.entry(name).or_insert(0);
                }
                Op::Remove(n, force) => {
                    let name = format!("ctr{n}");
                    let r = f.store.remove_container(&name, force);
                    let expect_ok = model.get(&name).is_some_and(|c| *c == 0 || force);
                    prop_assert_eq!(r.is_ok(), expect_ok, "{:?}", r);
                    if expect_ok {
                        model.remove(&name);
                    }
                }
                Op::Mount(n) => {
                    let name = format!("ctr{n}");
                    let r = f.store.mount(&name);
                    prop_assert_eq!(r.is_ok(), model.contains_key(&name));
                    if let Some(c) = model.get_mut(&name) {
                        *c += 1;
                    }
                }
                Op::Unmount(n) => {
                    let name = format!("ctr{n}");
                    let r = f.store.unmount(&name, false);
                    if let Some(c) = model.get_mut(&name) {
                        *c = c.saturating_sub(1);
                        prop_assert_eq!(r.unwrap(), *c);
                    } else {
                        prop_assert!(r.is_err());
                    }
                }
            }
            let mut listed: Vec<String> =
                f.store.containers().unwrap().into_iter().flat_map(|c| c.names).collect();
            listed.sort();
            prop_assert_eq!(listed, model.keys().cloned().collect::<Vec<_>>());
            let dirs: Vec<PathBuf> = fs::read_dir(f.path().join("root/containers"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .collect();
            prop_assert_eq!(dirs.len(), model.len());
        }
    }
}
