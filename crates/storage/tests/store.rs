//! The store end to end: load and save in every format, sharing, removal, lookup,
//! all-or-nothing failures, several processes at once, and a model-based property test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use common::{end, image, merge, raw_entry, tree};
use corral_define::{ErrorKind, HasKind};
use corral_storage::archive::{
    Compression, ExportImage, ImageBuilder, MemoryBlobs, write_docker_archive, write_oci_archive, write_oci_dir,
};
use corral_storage::{ArchiveFormat, ImageStore, LayerStore, RemoveOptions, StorageError, Store, UnpackOptions};
use proptest::prelude::*;

fn open(dir: &Path) -> Store {
    Store::open_with(&dir.join("store"), UnpackOptions::for_current_user()).unwrap()
}

fn write(format: ArchiveFormat, path: &Path, images: &[ExportImage], blobs: &MemoryBlobs) {
    match format {
        ArchiveFormat::OciDir => write_oci_dir(path, images, blobs).unwrap(),
        ArchiveFormat::OciArchive => {
            write_oci_archive(File::create(path).unwrap(), images, blobs).unwrap();
        }
        ArchiveFormat::DockerArchive => {
            write_docker_archive(File::create(path).unwrap(), images, blobs).unwrap();
        }
    }
}

/// The files that make up the store's content (index, blobs, layer dirs, temp).
fn store_state(store: &Store) -> (Vec<String>, Vec<String>, Vec<String>, Option<Vec<u8>>) {
    let r = store.root();
    (
        tree(&r.join("blobs/sha256")),
        fs::read_dir(r.join("layers"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        tree(&r.join("tmp")),
        fs::read(r.join("images.json")).ok(),
    )
}

#[test]
fn round_trip_through_every_format() {
    let t = tempfile::tempdir().unwrap();
    let (img, blobs) = image("app", "one", Compression::Zstd);
    for format in [
        ArchiveFormat::OciDir,
        ArchiveFormat::OciArchive,
        ArchiveFormat::DockerArchive,
    ] {
        let dir = t.path().join(format!("{format:?}"));
        fs::create_dir(&dir).unwrap();
        let store = open(&dir);
        let src = dir.join("in");
        write(format, &src, std::slice::from_ref(&img), &blobs);
        let ids = store.load(&src, None).unwrap();
        assert_eq!(ids, [img.config_digest.hex()]);
        let rec = store.lookup("app").unwrap();
        assert_eq!(rec.names, ["localhost/app:latest"]);
        assert_eq!(rec.labels.get("org.corral.test").map(String::as_str), Some("one"));
        let dirs = store.layer_dirs(&rec.id).unwrap();
        assert_eq!(dirs.len(), 2);
        assert_eq!(fs::read_to_string(dirs[0].join("srv/marker")).unwrap(), "one");
        assert_eq!(fs::read_link(dirs[1].join("bin/sh")).unwrap().to_str(), Some("tool"));

        // Save in all three formats and load each into a fresh store: same image ID.
        for out_format in [
            ArchiveFormat::OciDir,
            ArchiveFormat::OciArchive,
            ArchiveFormat::DockerArchive,
        ] {
            let out = dir.join(format!("out-{out_format:?}"));
            store.save(&["app"], out_format, &out).unwrap();
            let other_root = dir.join(format!("other-{out_format:?}"));
            let other = Store::open_with(&other_root, UnpackOptions::for_current_user()).unwrap();
            assert_eq!(
                other.load(&out, None).unwrap(),
                std::slice::from_ref(&rec.id),
                "{format:?} -> {out_format:?}"
            );
            assert_eq!(other.lookup("app").unwrap().names, ["localhost/app:latest"]);
            let d = other.layer_dirs("app").unwrap();
            assert_eq!(fs::read_to_string(d[0].join("srv/marker")).unwrap(), "one");
        }
    }
}

#[test]
fn multi_image_docker_archive_shares_layers_and_survives_removal() {
    let t = tempfile::tempdir().unwrap();
    let store = open(t.path());
    let (a, ba) = image("a", "A", Compression::Gzip);
    let (b, bb) = image("docker.io/library/b:1", "B", Compression::None);
    let blobs = merge(&[&ba, &bb], &[&a, &b]);
    let src = t.path().join("multi.tar");
    write(ArchiveFormat::DockerArchive, &src, &[a.clone(), b.clone()], &blobs);
    let ids = store.load(&src, Some(ArchiveFormat::DockerArchive)).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(store.layers().unwrap().len(), 3, "base layer must be stored once");
    let base = store.lookup("a").unwrap().layers[0].chain_id.clone();
    assert_eq!(store.layer_users(&base).unwrap().len(), 2);
    assert_eq!(store.lookup("b:1").unwrap().names, ["docker.io/library/b:1"]);

    // In use: refused; forced or unused: removed; the shared layer stays for b.
    let in_use = vec![ids[0].clone()];
    let err = store.remove("a", RemoveOptions::default(), &in_use).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ImageInUse);
    let report = store.remove("a", RemoveOptions { force: true }, &in_use).unwrap();
    assert_eq!(report.deleted.as_deref(), Some(ids[0].as_str()));
    assert_eq!(report.removed_layers.len(), 1);
    assert!(store.layer_dir(&base).join("bin/tool").is_file());
    assert_eq!(store.layer_users(&base).unwrap(), [ids[1].clone()]);
    assert!(!store.exists("a").unwrap());

    // Saving both into one docker archive and loading it elsewhere gives both back.
    store.tag("b:1", "again").unwrap();
    let out = t.path().join("both.tar");
    store
        .save(&["b:1", "again"], ArchiveFormat::DockerArchive, &out)
        .unwrap();
    let other = Store::open_with(&t.path().join("other"), UnpackOptions::for_current_user()).unwrap();
    assert_eq!(other.load(&out, None).unwrap(), [ids[1].clone()]);
    let mut names = other.lookup(&ids[1]).unwrap().names;
    names.sort();
    assert_eq!(names, ["docker.io/library/b:1", "localhost/again:latest"]);

    // Removing the last image removes every layer and blob.
    store.remove(&ids[1], RemoveOptions { force: true }, &[]).unwrap();
    let (blobs, layers, tmp, _) = store_state(&store);
    assert!(
        blobs.is_empty() && layers.is_empty() && tmp.is_empty(),
        "{blobs:?} {layers:?} {tmp:?}"
    );
}

#[test]
fn names_tags_lookup_and_prune() {
    let t = tempfile::tempdir().unwrap();
    let store = open(t.path());
    let (a, blobs) = image("busybox", "A", Compression::Gzip);
    let src = t.path().join("a.tar");
    write(ArchiveFormat::OciArchive, &src, &[a], &blobs);
    let id = store.load(&src, None).unwrap().remove(0);
    for r in [
        "busybox",
        "localhost/busybox",
        "localhost/busybox:latest",
        &id,
        &id[..12],
        &format!("sha256:{id}"),
    ] {
        assert_eq!(store.lookup(r).unwrap().id, id, "{r}");
    }
    assert_eq!(store.lookup("nope").unwrap_err().kind(), ErrorKind::NoSuchImage);

    store.tag("busybox", "quay.io/x/y:2").unwrap();
    let rec = store.lookup(&id).unwrap();
    assert_eq!(rec.names, ["quay.io/x/y:2", "localhost/busybox:latest"]);
    assert_eq!(rec.names_history[0], "quay.io/x/y:2");
    // By ID with two names: refused unless forced; by name: only untags.
    let err = store.remove(&id, RemoveOptions::default(), &[]).unwrap_err();
    assert!(matches!(err, StorageError::ImageHasManyNames { .. }), "{err}");
    let report = store.remove("quay.io/x/y:2", RemoveOptions::default(), &[]).unwrap();
    assert_eq!(
        (report.untagged, report.deleted),
        (vec!["quay.io/x/y:2".to_string()], None)
    );

    assert!(matches!(
        store.untag("busybox", Some("other")),
        Err(StorageError::TagNotSet { .. })
    ));
    assert_eq!(store.untag("busybox", None).unwrap(), ["localhost/busybox:latest"]);
    assert!(store.exists(&id).unwrap());
    assert_eq!(
        store.prune_dangling(std::slice::from_ref(&id)).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(store.prune_dangling(&[]).unwrap(), std::slice::from_ref(&id));
    assert!(store.list().unwrap().is_empty());
    assert!(store.layers().unwrap().is_empty());
}

#[test]
fn inspect_and_list_match_podman_shapes() {
    let t = tempfile::tempdir().unwrap();
    let store = open(t.path());
    let (a, blobs) = image("busybox", "A", Compression::Gzip);
    let src = t.path().join("a.tar");
    write(ArchiveFormat::OciArchive, &src, std::slice::from_ref(&a), &blobs);
    let id = store.load(&src, None).unwrap().remove(0);

    let sample: serde_json::Value =
        serde_json::from_str(&fs::read_to_string("/work/shared/podman-samples/inspect-image.json").unwrap()).unwrap();
    let ours = serde_json::to_value(vec![store.inspect("busybox").unwrap()]).unwrap();
    let keys = |v: &serde_json::Value| v[0].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&sample));
    let i = &ours[0];
    assert_eq!(i["Id"], id.as_str());
    assert_eq!(i["Digest"], a.manifest_digest.as_str());
    assert_eq!(i["RepoTags"][0], "localhost/busybox:latest");
    assert_eq!(i["RepoDigests"][0], format!("localhost/busybox@{}", a.manifest_digest));
    assert_eq!(i["Created"], "2026-01-01T00:00:00Z");
    assert_eq!(i["Config"]["Cmd"][0], "sh");
    assert_eq!(i["Labels"]["org.corral.test"], "A");
    assert_eq!(i["RootFS"]["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(i["ManifestType"], "application/vnd.oci.image.manifest.v1+json");
    assert!(
        i["GraphDriver"]["Data"]["LowerDir"]
            .as_str()
            .unwrap()
            .ends_with("/diff")
    );
    assert_eq!(i["History"][1]["empty_layer"], true);

    let sample: serde_json::Value =
        serde_json::from_str(&fs::read_to_string("/work/shared/podman-samples/images.json").unwrap()).unwrap();
    let ours = serde_json::to_value(store.summaries(&[id.clone(), id.clone()]).unwrap()).unwrap();
    assert_eq!(keys(&ours), keys(&sample));
    assert_eq!(ours[0]["Containers"], 2);
    assert_eq!(ours[0]["Created"], 1767225600);
    assert!(ours[0]["RepoTags"].is_null());

    let history = store.history("busybox").unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].id, id);
    assert_eq!(history[0].created_by, "marker A");
    assert!(history[0].size > 0);
    assert_eq!((history[1].id.as_str(), history[1].size), ("<missing>", 0));
    let tree = store.tree("busybox").unwrap();
    assert_eq!(tree.layers.len(), 2);
    assert_eq!(tree.layers[1].top_layer_of, ["localhost/busybox:latest"]);
    assert_eq!(tree.size, tree.layers.iter().map(|l| l.size).sum::<u64>());
}

/// An image whose second layer is poisoned in some way: loading fails and leaves nothing.
fn poisoned(dir: &Path, name: &str, poison: &dyn Fn(&mut Vec<u8>)) -> PathBuf {
    let good = common::base_layer();
    let mut bad = Vec::new();
    poison(&mut bad);
    let (img, blobs) = ImageBuilder::new(common::config("sh", None))
        .name(name)
        .unwrap()
        .layer(&good, Compression::Gzip)
        .unwrap()
        .layer(&bad, Compression::Gzip)
        .unwrap()
        .build()
        .unwrap();
    let path = dir.join(format!("{name}.tar"));
    write(ArchiveFormat::OciArchive, &path, &[img], &blobs);
    path
}

#[test]
fn failed_loads_leave_nothing_behind() {
    let t = tempfile::tempdir().unwrap();
    let store = open(t.path());
    // One good image first, so "nothing left" means "exactly as before".
    let (a, blobs) = image("keep", "K", Compression::Gzip);
    let good = t.path().join("good.tar");
    write(ArchiveFormat::OciArchive, &good, &[a], &blobs);
    store.load(&good, None).unwrap();
    let before = store_state(&store);

    let escape = poisoned(t.path(), "escape", &|v| {
        raw_entry(v, b"../../evil", tar::EntryType::Regular, b"", b"x");
        end(v);
    });
    let through = poisoned(t.path(), "through", &|v| {
        raw_entry(v, b"l", tar::EntryType::Symlink, b"/", b"");
        raw_entry(v, b"l/etc/evil", tar::EntryType::Regular, b"", b"x");
        end(v);
    });
    let truncated = t.path().join("truncated.tar");
    let bytes = fs::read(&good).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();

    // A blob whose content does not match its name.
    let mismatch = t.path().join("mismatch");
    let (m, mblobs) = image("mismatch", "M", Compression::Gzip);
    write(ArchiveFormat::OciDir, &mismatch, std::slice::from_ref(&m), &mblobs);
    let victim = mismatch.join("blobs/sha256").join(m.layers[1].blob.hex());
    let mut content = fs::read(&victim).unwrap();
    let last = content.len() - 1;
    content[last] ^= 0xff;
    fs::write(&victim, content).unwrap();

    // A layer whose diff ID differs from the config's.
    let wrong_diff = t.path().join("wrongdiff");
    let (mut w, wblobs) = image("wrongdiff", "W", Compression::Gzip);
    w.layers[1].diff_id = corral_storage::Digest::of_bytes(b"other");
    let mut cfg: corral_storage::spec::ImageConfig = serde_json::from_slice(&w.config).unwrap();
    cfg.rootfs.diff_ids[1] = w.layers[1].diff_id.clone();
    let (w2, w2blobs) = {
        let mut b = ImageBuilder::new(cfg.clone());
        for l in &w.layers {
            let tar_bytes = {
                let mut out = Vec::new();
                let (_, mut r) = corral_storage::archive::decompress(wblobs.get(&l.blob).unwrap()).unwrap();
                std::io::Read::read_to_end(&mut r, &mut out).unwrap();
                out
            };
            b = b.layer(&tar_bytes, Compression::Gzip).unwrap();
        }
        b.build().unwrap()
    };
    // Rebuilding recomputes diff IDs: splice the wrong one into the config by hand.
    let mut cfg2: corral_storage::spec::ImageConfig = serde_json::from_slice(&w2.config).unwrap();
    cfg2.rootfs.diff_ids[1] = corral_storage::Digest::of_bytes(b"other");
    let config_bytes = serde_json::to_vec(&cfg2).unwrap();
    let mut manifest: corral_storage::spec::Manifest = serde_json::from_slice(&w2.manifest).unwrap();
    let mut blobs2 = w2blobs.clone();
    manifest.config.digest = blobs2.insert(config_bytes.clone());
    manifest.config.size = config_bytes.len() as u64;
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let w3 = ExportImage {
        manifest_digest: blobs2.insert(manifest_bytes.clone()),
        manifest: manifest_bytes,
        config_digest: manifest.config.digest.clone(),
        config: config_bytes,
        ..w2
    };
    write(ArchiveFormat::OciDir, &wrong_diff, &[w3], &blobs2);
    drop(w);

    let malformed = t.path().join("malformed.tar");
    {
        let mut b = tar::Builder::new(File::create(&malformed).unwrap());
        let data = br#"[{"Config":"x.json","RepoTags":["a"],"Layers":["../../etc/passwd"]}]"#;
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "manifest.json", &data[..]).unwrap();
        b.finish().unwrap();
    }

    for (path, want) in [
        (&escape, "unsafe archive entry"),
        (&through, "symlink"),
        (&truncated, "corrupt"),
        (&mismatch, "digest mismatch"),
        (&wrong_diff, "diff ID"),
        (&malformed, "x.json"),
    ] {
        let err = store.load(path, None).unwrap_err();
        assert!(err.to_string().contains(want), "{}: {err}", path.display());
        assert_eq!(store_state(&store), before, "{} left something behind", path.display());
    }
    assert_eq!(store.list().unwrap().len(), 1);
}

/// Load and save report the bytes read and written, rising to the archive's size.
#[test]
fn load_and_save_report_progress() {
    use std::sync::Mutex;
    let t = tempfile::tempdir().unwrap();
    let store = open(t.path());
    let (a, blobs) = image("a", "A", Compression::Gzip);
    let src = t.path().join("a.tar");
    write(ArchiveFormat::DockerArchive, &src, &[a], &blobs);
    let seen = Mutex::new(Vec::new());
    let record = |n: u64| seen.lock().unwrap().push(n);
    store.load_with_progress(&src, None, &record).unwrap();
    let reads = std::mem::take(&mut *seen.lock().unwrap());
    assert!(reads.windows(2).all(|w| w[0] <= w[1]), "{reads:?}");
    assert_eq!(reads.last().copied(), Some(fs::metadata(&src).unwrap().len()));

    let dest = t.path().join("saved.tar");
    store
        .save_with_progress(&["a"], ArchiveFormat::OciArchive, &dest, &record)
        .unwrap();
    let writes = seen.into_inner().unwrap();
    assert!(writes.windows(2).all(|w| w[0] <= w[1]), "{writes:?}");
    assert_eq!(writes.last().copied(), Some(fs::metadata(&dest).unwrap().len()));
}

#[test]
fn reload_skips_existing_layers() {
    let t = tempfile::tempdir().unwrap();
    let store = open(t.path());
    let (a, blobs) = image("a", "A", Compression::Gzip);
    let src = t.path().join("a.tar");
    write(ArchiveFormat::OciArchive, &src, &[a], &blobs);
    store.load(&src, None).unwrap();
    let dir = store.layer_dirs("a").unwrap().remove(0);
    let inode = std::os::unix::fs::MetadataExt::ino(&fs::metadata(dir.join("srv/marker")).unwrap());
    store.load(&src, None).unwrap();
    let inode2 = std::os::unix::fs::MetadataExt::ino(&fs::metadata(dir.join("srv/marker")).unwrap());
    assert_eq!(inode, inode2, "layer was unpacked again");
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(tree(&store.root().join("tmp")).is_empty());
}

#[test]
fn concurrent_loads_and_removes_from_many_handles() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("store");
    let mut paths = Vec::new();
    for i in 0..4 {
        let (img, blobs) = image(&format!("img{i}"), &format!("M{i}"), Compression::Gzip);
        let p = t.path().join(format!("{i}.tar"));
        write(ArchiveFormat::DockerArchive, &p, &[img], &blobs);
        paths.push(p);
    }
    // Each thread has its own Store handle (its own lock file descriptor), like a process.
    std::thread::scope(|s| {
        for (i, p) in paths.iter().enumerate() {
            let root = root.clone();
            s.spawn(move || {
                let store = Store::open_with(&root, UnpackOptions::for_current_user()).unwrap();
                for _ in 0..3 {
                    store.load(p, None).unwrap();
                    if i % 2 == 0 {
                        store.remove(&format!("img{i}"), RemoveOptions::default(), &[]).unwrap();
                    }
                }
            });
        }
    });
    let store = Store::open_with(&root, UnpackOptions::for_current_user()).unwrap();
    let mut names: Vec<String> = store.list().unwrap().into_iter().flat_map(|i| i.names).collect();
    names.sort();
    assert_eq!(names, ["localhost/img1:latest", "localhost/img3:latest"]);
    // The shared base layer is still there and used by both.
    let base = store.lookup("img1").unwrap().layers[0].chain_id.clone();
    assert_eq!(store.layer_users(&base).unwrap().len(), 2);
    assert_eq!(store.layers().unwrap().len(), 3);
    assert!(tree(&store.root().join("tmp")).is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Load(usize),
    Tag(usize, usize),
    Untag(usize),
    Remove(usize),
    Prune,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize).prop_map(Op::Load),
        (0..3usize, 0..3usize).prop_map(|(a, b)| Op::Tag(a, b)),
        (0..3usize).prop_map(Op::Untag),
        (0..3usize).prop_map(Op::Remove),
        Just(Op::Prune),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Against a model (image ID -> names): after every operation the store lists the same
    /// images and names, every layer record is used and on disk, and no blob is orphaned.
    #[test]
    fn store_matches_model(ops in prop::collection::vec(op(), 1..12)) {
        let t = tempfile::tempdir().unwrap();
        let store = open(t.path());
        let images: Vec<(ExportImage, MemoryBlobs)> =
            (0..3).map(|i| image(&format!("i{i}"), &format!("m{i}"), Compression::Gzip)).collect();
        let archives: Vec<PathBuf> = images.iter().enumerate().map(|(i, (img, blobs))| {
            let p = t.path().join(format!("{i}.tar"));
            write(ArchiveFormat::OciArchive, &p, std::slice::from_ref(img), blobs);
            p
        }).collect();
        let ids: Vec<String> = images.iter().map(|(i, _)| i.config_digest.hex().to_string()).collect();
        let tag_name = |n: usize| format!("localhost/t{n}:latest");
        let mut model: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for op in ops {
            match op {
                Op::Load(i) => {
                    store.load(&archives[i], None).unwrap();
                    let name = format!("localhost/i{i}:latest");
                    for (id, names) in model.iter_mut() {
                        if *id != ids[i] { names.retain(|n| *n != name); }
                    }
                    let e = model.entry(ids[i].clone()).or_default();
                    if !e.contains(&name) { e.insert(0, name); }
                }
                Op::Tag(i, n) => {
                    let r = store.tag(&ids[i], &format!("t{n}"));
                    if model.contains_key(&ids[i]) {
                        r.unwrap();
                        for (id, names) in model.iter_mut() {
                            if *id != ids[i] { names.retain(|x| *x != tag_name(n)); }
                        }
                        let e = model.get_mut(&ids[i]).unwrap();
                        if !e.contains(&tag_name(n)) { e.insert(0, tag_name(n)); }
                    } else {
                        prop_assert_eq!(r.unwrap_err().kind(), ErrorKind::NoSuchImage);
                    }
                }
                Op::Untag(i) => {
                    let r = store.untag(&ids[i], None);
                    match model.get_mut(&ids[i]) {
                        Some(names) => { prop_assert_eq!(r.unwrap(), std::mem::take(names)); }
                        None => prop_assert!(r.is_err()),
                    }
                }
                Op::Remove(i) => {
                    let r = store.remove(&ids[i], RemoveOptions { force: true }, &[]);
                    prop_assert_eq!(r.is_ok(), model.remove(&ids[i]).is_some());
                }
                Op::Prune => {
                    let mut pruned = store.prune_dangling(&[]).unwrap();
                    pruned.sort();
                    let mut want: Vec<String> = model.iter().filter(|(_, n)| n.is_empty()).map(|(id, _)| id.clone()).collect();
                    want.sort();
                    model.retain(|_, n| !n.is_empty());
                    prop_assert_eq!(pruned, want);
                }
            }
            let listed: std::collections::BTreeMap<String, Vec<String>> =
                store.list().unwrap().into_iter().map(|i| (i.id, i.names)).collect();
            prop_assert_eq!(&listed, &model);
            let records = store.list().unwrap();
            let layers = store.layers().unwrap();
            for l in &layers {
                prop_assert!(!store.layer_users(&l.id).unwrap().is_empty(), "unused layer record");
                prop_assert!(store.layer_dir(&l.id).is_dir());
            }
            let wanted_blobs: std::collections::BTreeSet<String> = records.iter().flat_map(|r| {
                r.layers.iter().map(|l| l.blob.hex().to_string())
                    .chain([r.digest.hex().to_string(), r.config_digest.hex().to_string()])
                    .collect::<Vec<_>>()
            }).collect();
            let on_disk: std::collections::BTreeSet<String> = tree(&store.root().join("blobs/sha256")).into_iter().collect();
            prop_assert_eq!(on_disk, wanted_blobs);
        }
    }
}

/// Run by `concurrent_processes` in child processes: load, and for odd workers remove again.
#[test]
#[ignore = "child process of concurrent_processes"]
fn child_load_remove() {
    let (Ok(root), Ok(archive), Ok(name)) = (
        std::env::var("CORRAL_TEST_ROOT"),
        std::env::var("CORRAL_TEST_ARCHIVE"),
        std::env::var("CORRAL_TEST_NAME"),
    ) else {
        return;
    };
    let store = Store::open_with(Path::new(&root), UnpackOptions::for_current_user()).unwrap();
    for _ in 0..3 {
        store.load(Path::new(&archive), None).unwrap();
        if name.ends_with('1') || name.ends_with('3') {
            store.remove(&name, RemoveOptions::default(), &[]).unwrap();
        }
    }
}

#[test]
fn concurrent_processes() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("store");
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for i in 0..4 {
        let (img, blobs) = image(&format!("p{i}"), &format!("P{i}"), Compression::Gzip);
        let p = t.path().join(format!("{i}.tar"));
        write(ArchiveFormat::OciArchive, &p, &[img], &blobs);
        children.push(
            std::process::Command::new(&exe)
                .args(["--exact", "child_load_remove", "--ignored", "--quiet"])
                .env("CORRAL_TEST_ROOT", &root)
                .env("CORRAL_TEST_ARCHIVE", &p)
                .env("CORRAL_TEST_NAME", format!("p{i}"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a child process failed");
    }
    let store = Store::open_with(&root, UnpackOptions::for_current_user()).unwrap();
    let mut names: Vec<String> = store.list().unwrap().into_iter().flat_map(|i| i.names).collect();
    names.sort();
    assert_eq!(names, ["localhost/p0:latest", "localhost/p2:latest"]);
    assert_eq!(store.layers().unwrap().len(), 3, "shared base + two tops");
    assert!(tree(&store.root().join("tmp")).is_empty());
}
