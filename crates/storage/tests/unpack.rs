//! The layer unpacker against hostile archives, whiteouts, overlayfs, and fuzzing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use common::{Sandbox, end, raw_device, raw_entry};
use corral_storage::StorageError;
use corral_storage::archive::{LayerBuilder, UnpackOptions, is_opaque_dir, is_whiteout, unpack_layer};
use proptest::prelude::*;
use tar::EntryType::{Directory, Link, Regular, Symlink};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn unpack(
    bytes: &[u8],
    sandbox: &Sandbox,
    privileged: bool,
) -> Result<corral_storage::archive::UnpackStats, StorageError> {
    unpack_layer(bytes, &sandbox.dest(), &UnpackOptions { privileged })
}

/// Each case must be refused with an unsafe-entry (or corrupt) error and write nothing outside.
#[test]
fn nasty_archives_are_refused() {
    let sb = Sandbox::new();
    let outside_abs = sb.outside().display().to_string();
    let victim_abs = sb.outside().join("victim").display().to_string();
    type Case = (&'static str, Box<dyn Fn(&mut Vec<u8>)>);
    let o1 = outside_abs.clone();
    let o2 = outside_abs.clone();
    let o3 = outside_abs.clone();
    let cases: Vec<Case> = vec![
        (
            "dotdot",
            Box::new(|t| raw_entry(t, b"../outside/evil", Regular, b"", b"x")),
        ),
        (
            "nested dotdot",
            Box::new(|t| raw_entry(t, b"a/../../outside/evil", Regular, b"", b"x")),
        ),
        (
            "absolute",
            Box::new(|t| raw_entry(t, b"/tmp/corral-evil-abs", Regular, b"", b"x")),
        ),
        (
            "relative symlink then write through",
            Box::new(|t| {
                raw_entry(t, b"link", Symlink, b"../outside", b"");
                raw_entry(t, b"link/evil", Regular, b"", b"x");
            }),
        ),
        (
            "absolute symlink then write through",
            Box::new(move |t| {
                raw_entry(t, b"link", Symlink, o1.as_bytes(), b"");
                raw_entry(t, b"link/evil", Regular, b"", b"x");
            }),
        ),
        (
            "symlink dir then mkdir through",
            Box::new(move |t| {
                raw_entry(t, b"d", Symlink, o2.as_bytes(), b"");
                raw_entry(t, b"d/sub/", Directory, b"", b"");
            }),
        ),
        (
            "hardlink dotdot",
            Box::new(|t| raw_entry(t, b"h", Link, b"../outside/victim", b"")),
        ),
        (
            "hardlink absolute",
            Box::new(|t| raw_entry(t, b"h", Link, b"/etc/passwd", b"")),
        ),
        (
            "hardlink through symlink",
            Box::new(move |t| {
                raw_entry(t, b"s", Symlink, o3.as_bytes(), b"");
                raw_entry(t, b"h", Link, b"s/victim", b"");
            }),
        ),
        (
            "hardlink to missing",
            Box::new(|t| raw_entry(t, b"h", Link, b"nothere", b"")),
        ),
        (
            "symlink loop in path",
            Box::new(|t| {
                raw_entry(t, b"loop", Symlink, b".", b"");
                raw_entry(t, b"loop/loop/x", Regular, b"", b"x");
            }),
        ),
        (
            "malformed whiteout",
            Box::new(|t| raw_entry(t, b"a/.wh.", Regular, b"", b"")),
        ),
        (
            "file as parent",
            Box::new(|t| {
                raw_entry(t, b"f", Regular, b"", b"x");
                raw_entry(t, b"f/g", Regular, b"", b"x");
            }),
        ),
    ];
    for (what, build) in &cases {
        let sb = Sandbox::new();
        let mut t = Vec::new();
        build(&mut t);
        end(&mut t);
        let err = unpack(&t, &sb, is_root()).expect_err(what);
        assert!(
            matches!(err, StorageError::UnsafeArchiveEntry { .. }),
            "{what}: unexpected error {err}"
        );
        sb.assert_outside_untouched();
    }
    assert!(!std::path::Path::new("/tmp/corral-evil-abs").exists());
    drop(sb);
    let _ = victim_abs;
}

#[test]
fn device_nodes_need_root() {
    let sb = Sandbox::new();
    let mut t = Vec::new();
    raw_device(&mut t, b"null", 1, 3);
    end(&mut t);
    let err = unpack(&t, &sb, false).unwrap_err();
    assert!(err.to_string().contains("device nodes"), "{err}");
    if is_root() {
        let sb = Sandbox::new();
        unpack(&t, &sb, true).unwrap();
        let m = fs::symlink_metadata(sb.dest().join("null")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.rdev(), rustix::fs::makedev(1, 3));
    }
}

#[test]
fn truncated_and_garbage_archives_are_corrupt() {
    let mut t = Vec::new();
    raw_entry(&mut t, b"big", Regular, b"", &[7u8; 5000]);
    end(&mut t);
    for cut in [600, 2000, 512 + 4096] {
        let sb = Sandbox::new();
        let err = unpack(&t[..cut], &sb, false).unwrap_err();
        assert!(matches!(err, StorageError::CorruptArchive { .. }), "cut {cut}: {err}");
    }
    let sb = Sandbox::new();
    let gz = corral_storage::archive::compress_layer(&t, corral_storage::archive::Compression::Gzip).unwrap();
    let err = unpack(&gz[..gz.len() / 2], &sb, false).unwrap_err();
    assert!(matches!(err, StorageError::CorruptArchive { .. }), "{err}");
}

#[test]
fn overwriting_links_never_writes_through_them() {
    let sb = Sandbox::new();
    let victim = sb.outside().join("victim").display().to_string();
    let mut t = Vec::new();
    raw_entry(&mut t, b"v", Symlink, victim.as_bytes(), b"");
    raw_entry(&mut t, b"v", Regular, b"", b"pwned");
    raw_entry(&mut t, b"s", Symlink, victim.as_bytes(), b"");
    raw_entry(&mut t, b"h", Link, b"s", b"");
    raw_entry(&mut t, b"h", Regular, b"", b"pwned");
    raw_entry(
        &mut t,
        b"d",
        Symlink,
        sb.outside().display().to_string().as_bytes(),
        b"",
    );
    raw_entry(&mut t, b"d/", Directory, b"", b"");
    end(&mut t);
    // "d/" as a directory entry replaces the symlink d itself: not a path *through* it.
    let r = unpack(&t, &sb, is_root());
    sb.assert_outside_untouched();
    r.unwrap();
    assert_eq!(fs::read_to_string(sb.dest().join("v")).unwrap(), "pwned");
    assert!(fs::symlink_metadata(sb.dest().join("d")).unwrap().is_dir());
    assert!(
        fs::symlink_metadata(sb.dest().join("s"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn plain_layer_metadata() {
    let sb = Sandbox::new();
    let mut l = LayerBuilder::new();
    l.dir("tmp", 0o1777)
        .dir("home/corral", 0o700)
        .owner("home/corral", 1000, 1000)
        .file("bin/x", 0o4755, "x")
        .symlink("bin/y", "x")
        .hard_link("bin/z", "bin/x");
    let tar = l.to_tar().unwrap();
    let stats = unpack(&tar, &sb, is_root()).unwrap();
    assert_eq!(stats.diff_id, corral_storage::Digest::of_bytes(&tar));
    assert_eq!(stats.size, tar.len() as u64);
    let d = sb.dest();
    assert_eq!(
        fs::metadata(d.join("tmp")).unwrap().permissions().mode() & 0o7777,
        0o1777
    );
    assert_eq!(
        fs::metadata(d.join("bin/x")).unwrap().permissions().mode() & 0o7777,
        0o4755
    );
    assert_eq!(fs::read_link(d.join("bin/y")).unwrap().to_str(), Some("x"));
    assert_eq!(
        fs::metadata(d.join("bin/z")).unwrap().ino(),
        fs::metadata(d.join("bin/x")).unwrap().ino()
    );
    assert_eq!(fs::metadata(d.join("bin/x")).unwrap().mtime(), 0);
    assert_eq!(fs::metadata(d.join("tmp")).unwrap().mtime(), 0);
    if is_root() {
        assert_eq!(fs::metadata(d.join("home/corral")).unwrap().uid(), 1000);
    }
}

/// Unmounts on drop, so a failing assertion leaves no mount behind.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

#[test]
fn whiteouts_become_overlay_markers_and_work_as_lowerdirs() {
    if !is_root() {
        eprintln!("skipped: whiteouts are device nodes and trusted xattrs, which need root");
        return;
    }
    let base = Sandbox::new();
    let mut l1 = LayerBuilder::new();
    l1.file("a/gone", 0o644, "1")
        .file("a/kept", 0o644, "2")
        .file("b/hidden", 0o644, "3")
        .file("c/sub/deep", 0o644, "4");
    unpack(&l1.to_tar().unwrap(), &base, true).unwrap();

    let top = Sandbox::new();
    let mut t = Vec::new();
    raw_entry(&mut t, b"a/.wh.gone", Regular, b"", b"");
    raw_entry(&mut t, b"b/.wh..wh..opq", Regular, b"", b"");
    raw_entry(&mut t, b"b/new", Regular, b"", b"5");
    raw_entry(&mut t, b"./.wh.c", Regular, b"", b"");
    raw_entry(&mut t, b".wh..wh.plnk/123", Regular, b"", b"");
    end(&mut t);
    unpack(&t, &top, true).unwrap();
    let d = top.dest();
    assert!(is_whiteout(&fs::symlink_metadata(d.join("a/gone")).unwrap()));
    assert!(is_whiteout(&fs::symlink_metadata(d.join("c")).unwrap()));
    assert!(is_opaque_dir(&d.join("b")));
    assert!(!is_opaque_dir(&d.join("a")));
    assert!(!d.join(".wh..wh.plnk/123").exists());
    assert!(!d.join("a/.wh.gone").exists());

    let mnt = tempfile::tempdir().unwrap();
    let opts = std::ffi::CString::new(format!("lowerdir={}:{}", d.display(), base.dest().display())).unwrap();
    let flags = rustix::mount::MountFlags::RDONLY;
    if let Err(e) = rustix::mount::mount("overlay", mnt.path(), "overlay", flags, Some(opts.as_c_str())) {
        eprintln!("skipped overlay check: mount failed: {e}");
        return;
    }
    let _mounted = Mounted(mnt.path().to_path_buf());
    let m = mnt.path();
    assert!(!m.join("a/gone").exists(), "whiteout did not hide a/gone");
    assert_eq!(fs::read_to_string(m.join("a/kept")).unwrap(), "2");
    assert!(!m.join("b/hidden").exists(), "opaque dir did not hide b/hidden");
    assert_eq!(fs::read_to_string(m.join("b/new")).unwrap(), "5");
    assert!(!m.join("c").exists(), "whiteout did not hide directory c");
}

#[test]
fn whiteouts_without_root_are_a_clear_error() {
    let sb = Sandbox::new();
    let mut t = Vec::new();
    raw_entry(&mut t, b"a/.wh.x", Regular, b"", b"");
    end(&mut t);
    let err = unpack(&t, &sb, false).unwrap_err();
    assert!(err.to_string().contains("without root"), "{err}");
}

fn component() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a",
        "b",
        "..",
        ".",
        "",
        "outside",
        "victim",
        ".wh.a",
        ".wh..wh..opq",
        "x",
    ])
}

fn entry_name() -> impl Strategy<Value = (bool, Vec<&'static str>)> {
    (any::<bool>(), prop::collection::vec(component(), 1..4))
}

fn kind() -> impl Strategy<Value = tar::EntryType> {
    prop::sample::select(vec![Regular, Directory, Symlink, Link, tar::EntryType::Fifo])
}

fn render(sb: &Sandbox, (absolute, comps): &(bool, Vec<&str>)) -> Vec<u8> {
    let joined = comps.join("/");
    if *absolute {
        format!("{}/{joined}", sb.dir.path().display()).into_bytes()
    } else {
        joined.into_bytes()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Random entries (names with `..`, absolute links into the sandbox, links and files over
    /// each other): whatever happens, nothing outside the unpack root changes.
    #[test]
    fn random_entries_never_escape(entries in prop::collection::vec((kind(), entry_name(), entry_name()), 1..8)) {
        let sb = Sandbox::new();
        let mut t = Vec::new();
        for (k, name, link) in &entries {
            let name = render(&sb, name);
            let link = render(&sb, link);
            if name.len() < 100 && link.len() < 100 {
                raw_entry(&mut t, &name, *k, &link, if *k == Regular { b"data" } else { b"" });
            }
        }
        end(&mut t);
        let _ = unpack(&t, &sb, is_root());
        sb.assert_outside_untouched();
    }

    /// Random bytes, and a valid layer with bytes flipped or cut: no panic, no escape.
    #[test]
    fn mutated_bytes_never_panic(
        noise in prop::collection::vec(any::<u8>(), 0..2048),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
        gzip in any::<bool>(),
    ) {
        let sb = Sandbox::new();
        let _ = unpack(&noise, &sb, is_root());
        sb.assert_outside_untouched();

        let sb = Sandbox::new();
        let mut l = LayerBuilder::new();
        l.file("a/b", 0o644, "hello").symlink("a/s", "../../outside").hard_link("a/h", "a/b").dir("d", 0o755);
        let mut bytes = l.to_tar().unwrap();
        if gzip {
            bytes = corral_storage::archive::compress_layer(&bytes, corral_storage::archive::Compression::Gzip).unwrap();
        }
        for (i, v) in &flips {
            let idx = i.index(bytes.len());
            bytes[idx] = *v;
        }
        let keep = cut.index(bytes.len() + 1);
        let _ = unpack(&bytes[..keep], &sb, is_root());
        sb.assert_outside_untouched();
    }
}
