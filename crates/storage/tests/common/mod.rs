//! Helpers shared by the integration tests: raw tar building (names the tar crate's safe API
//! refuses), a sandbox with a victim file outside the unpack root, small test images.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use corral_storage::archive::{Compression, ExportImage, ImageBuilder, LayerBuilder, MemoryBlobs};
use corral_storage::spec::{ContainerSettings, History, ImageConfig};

/// Appends one entry with a raw name and link name (no validation at all).
pub fn raw_entry(out: &mut Vec<u8>, name: &[u8], kind: tar::EntryType, link: &[u8], data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        gnu.linkname[..link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(0);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    let pad = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

pub fn raw_device(out: &mut Vec<u8>, name: &[u8], major: u32, minor: u32) {
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(tar::EntryType::Char);
    h.set_device_major(major).unwrap();
    h.set_device_minor(minor).unwrap();
    h.set_size(0);
    h.set_mode(0o600);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
}

pub fn end(out: &mut Vec<u8>) {
    out.extend(std::iter::repeat_n(0u8, 1024));
}

/// `<tmp>/outside/victim` (content "orig") beside an empty `<tmp>/dest`.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("outside")).unwrap();
        fs::write(dir.path().join("outside/victim"), "orig").unwrap();
        fs::create_dir(dir.path().join("dest")).unwrap();
        Self { dir }
    }

    pub fn dest(&self) -> PathBuf {
        self.dir.path().join("dest")
    }

    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// Everything outside `dest` is as it was made.
    pub fn assert_outside_untouched(&self) {
        let mut names: Vec<String> = Vec::new();
        walk(self.dir.path(), self.dir.path(), &mut names, &self.dest());
        names.sort();
        assert_eq!(
            names,
            ["dest", "outside", "outside/victim"],
            "something escaped the layer"
        );
        assert_eq!(fs::read_to_string(self.outside().join("victim")).unwrap(), "orig");
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>, skip: &Path) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        out.push(p.strip_prefix(root).unwrap().display().to_string());
        if p != skip && e.file_type().unwrap().is_dir() {
            walk(root, &p, out, skip);
        }
    }
}

/// Every path under `dir` (relative), sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out, Path::new("/nonexistent"));
    }
    out.sort();
    out
}

pub fn config(cmd: &str, label: Option<(&str, &str)>) -> ImageConfig {
    ImageConfig {
        created: Some("2026-01-01T00:00:00Z".into()),
        architecture: "amd64".into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/bin".into()]),
            cmd: Some(vec![cmd.into()]),
            labels: label.map(|(k, v)| [(k.to_string(), v.to_string())].into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A base layer shared by the test images.
pub fn base_layer() -> Vec<u8> {
    let mut l = LayerBuilder::new();
    l.dir("bin", 0o755)
        .file("bin/tool", 0o755, "#!/bin/sh\necho tool\n")
        .dir("etc", 0o755)
        .file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n")
        .symlink("bin/sh", "tool")
        .hard_link("bin/tool2", "bin/tool");
    l.to_tar().unwrap()
}

/// An image on the shared base layer with one layer of its own holding `marker`.
pub fn image(name: &str, marker: &str, compression: Compression) -> (ExportImage, MemoryBlobs) {
    let mut top = LayerBuilder::new();
    top.dir("srv", 0o755).file("srv/marker", 0o644, marker);
    let mut cfg = config("sh", Some(("org.corral.test", marker)));
    cfg.history = vec![
        History {
            created_by: Some("base".into()),
            ..Default::default()
        },
        History {
            created_by: Some("ENV x".into()),
            empty_layer: true,
            ..Default::default()
        },
        History {
            created_by: Some(format!("marker {marker}")),
            ..Default::default()
        },
    ];
    ImageBuilder::new(cfg)
        .name(name)
        .unwrap()
        .layer(&base_layer(), Compression::Gzip)
        .unwrap()
        .layer(&top.to_tar().unwrap(), compression)
        .unwrap()
        .build()
        .unwrap()
}

/// Merges blob sets.
pub fn merge(sets: &[&MemoryBlobs], images: &[&ExportImage]) -> MemoryBlobs {
    let mut out = MemoryBlobs::default();
    for (s, i) in sets.iter().zip(images) {
        for d in std::iter::once(&i.manifest_digest)
            .chain(std::iter::once(&i.config_digest))
            .chain(i.layers.iter().map(|l| &l.blob))
        {
            out.insert(s.get(d).unwrap().to_vec());
        }
    }
    out
}

/// Debian's busybox-static, which the container tests put in their image.
pub use corral_test_support::BUSYBOX;

/// A two-layer busybox image: the base has busybox with a few applet links, `/etc/passwd`,
/// `/etc/old` and `/opt/{a,b}`; the top layer deletes `/etc/old` (whiteout), makes `/opt`
/// opaque with only `/opt/c`, and adds `/srv/marker`.
pub fn busybox_image(name: &str) -> (ExportImage, MemoryBlobs) {
    let mut base = LayerBuilder::new();
    base.dir("bin", 0o755)
        .file(
            "bin/busybox",
            0o755,
            fs::read(BUSYBOX).expect("busybox-static is installed"),
        )
        .dir("etc", 0o755)
        .file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/old", 0o644, "to be deleted\n")
        .dir("opt", 0o755)
        .file("opt/a", 0o644, "a")
        .file("opt/b", 0o644, "b")
        .dir("tmp", 0o1777)
        .dir("home", 0o755)
        .dir("home/user", 0o750)
        .owner("home/user", 1000, 1000);
    for applet in ["sh", "ls", "cat", "echo"] {
        base.symlink(&format!("bin/{applet}"), "busybox");
    }
    let mut top = LayerBuilder::new();
    top.dir("etc", 0o755)
        .file("etc/.wh.old", 0o644, "")
        .dir("opt", 0o755)
        .file("opt/.wh..wh..opq", 0o644, "")
        .file("opt/c", 0o644, "c")
        .dir("srv", 0o755)
        .file("srv/marker", 0o644, "top");
    let mut cfg = config("sh", Some(("org.corral.test", "busybox")));
    cfg.history = vec![
        History {
            created_by: Some("busybox base".into()),
            ..Default::default()
        },
        History {
            created_by: Some("whiteouts".into()),
            ..Default::default()
        },
    ];
    ImageBuilder::new(cfg)
        .name(name)
        .unwrap()
        .layer(&base.to_tar().unwrap(), Compression::Gzip)
        .unwrap()
        .layer(&top.to_tar().unwrap(), Compression::None)
        .unwrap()
        .build()
        .unwrap()
}

/// Unmounts (detaching) everything mounted below `dir`, deepest first. Test guards call it
/// on drop so a failed assertion leaves no mount behind.
pub fn unmount_all_below(dir: &Path) {
    corral_test_support::unmount_all_below(dir);
}

/// True when running as root (mount tests need it; they skip otherwise).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}
