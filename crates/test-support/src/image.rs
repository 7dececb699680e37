//! The busybox test image: one layer with Debian's busybox-static and every applet as a
//! symlink to it at the path `busybox --list-full` gives, `/etc/passwd` and `/etc/group`,
//! and the usual top-level directories. Entries have mtime 0 and owner 0:0 unless said
//! otherwise, and are sorted; gzip runs with fixed settings; so two builds are identical.

use std::fs::File;
use std::path::Path;
use std::process::Command;

use corral_storage::archive::{
    Compression, ExportImage, ImageBuilder, LayerBuilder, MemoryBlobs, write_docker_archive,
};
use corral_storage::spec::{ContainerSettings, History, ImageConfig, host_architecture};

use crate::{Error, Result};

/// The name the image is stored under.
pub const IMAGE_NAME: &str = "localhost/busybox:latest";
/// Debian's busybox-static binary, the image's only program.
pub const BUSYBOX: &str = "/usr/bin/busybox";

/// The fixed creation time of a published image (its config, history).
const CREATED: &str = "2026-01-01T00:00:00Z";
const PATH_ENV: &str = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
const HISTORY: &str = "cargo xtask test-image: busybox-static + applet links + /etc/passwd,group";

/// The directories every tree has, with their modes.
const BASE_DIRS: [(&str, u32); 12] = [
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("dev", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("run", 0o755),
    ("tmp", 0o1777),
    ("root", 0o700),
];

/// Which root filesystem the layer holds besides busybox and its applets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// Users root, `corral` (1000:1000, owning `/home/corral`) and nobody, their groups,
    /// and `/var/www`: the published image, which `--user corral` and the demo rely on.
    Full,
    /// Only root in `/etc/passwd` and `/etc/group`, no `/home` or `/var`: the tree the cli
    /// tests were written against (they compare `/etc/passwd` to the letter).
    RootOnly,
}

impl Tree {
    fn passwd(self) -> &'static str {
        match self {
            Tree::Full => {
                "root:x:0:0:root:/root:/bin/sh\n\
                 corral:x:1000:1000:corral:/home/corral:/bin/sh\n\
                 nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
            }
            Tree::RootOnly => "root:x:0:0:root:/root:/bin/sh\n",
        }
    }

    fn group(self) -> &'static str {
        match self {
            Tree::Full => "root:x:0:\ncorral:x:1000:\nnogroup:x:65534:\n",
            Tree::RootOnly => "root:x:0:\n",
        }
    }
}

/// A variant of the busybox test image, built in memory or written as a docker archive.
///
/// [`BusyboxImage::published`] is the image `cargo xtask test-image` writes;
/// [`BusyboxImage::bare`] the same tree with a bare config (what corral-core's tests load);
/// [`BusyboxImage::tree`] and [`BusyboxImage::with_data_volume`] vary either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyboxImage {
    tree: Tree,
    data_volume: bool,
    stamped: bool,
}

impl BusyboxImage {
    /// The published image: the [`Tree::Full`] tree, and a config with a fixed created
    /// time, the label `org.corral.test=1` and a history entry.
    pub fn published() -> Self {
        Self {
            tree: Tree::Full,
            data_volume: false,
            stamped: true,
        }
    }

    /// The [`Tree::Full`] tree with a bare config: no created time, label or history, so a
    /// container's labels are only its own.
    pub fn bare() -> Self {
        Self {
            stamped: false,
            ..Self::published()
        }
    }

    /// The same image with `tree` as its root filesystem.
    pub fn tree(self, tree: Tree) -> Self {
        Self { tree, ..self }
    }

    /// The same image also declaring `VOLUME /data`, whose directory holds `/data/seed`
    /// (`seeded\n`), so a new volume is seeded from the image.
    pub fn with_data_volume(self) -> Self {
        Self {
            data_volume: true,
            ..self
        }
    }

    /// The image's single layer, as an uncompressed tar.
    pub fn layer(&self) -> Result<Vec<u8>> {
        let busybox = std::fs::read(BUSYBOX).map_err(Error::io("reading busybox-static", BUSYBOX))?;
        let mut layer = LayerBuilder::new();
        for (dir, mode) in BASE_DIRS {
            layer.dir(dir, mode);
        }
        if self.tree == Tree::Full {
            layer
                .dir("home", 0o755)
                .dir("home/corral", 0o755)
                .owner("home/corral", 1000, 1000)
                .dir("var", 0o755)
                .dir("var/www", 0o755);
        }
        layer.file("bin/busybox", 0o755, busybox);
        for applet in applets()? {
            layer.symlink(&applet, "/bin/busybox");
        }
        layer
            .file("etc/passwd", 0o644, self.tree.passwd())
            .file("etc/group", 0o644, self.tree.group());
        if self.data_volume {
            layer.dir("data", 0o755).file("data/seed", 0o644, "seeded\n");
        }
        Ok(layer.to_tar()?)
    }

    /// The image config: `sh` in `/` with a standard `PATH`.
    pub fn config(&self) -> ImageConfig {
        let stamp = self.stamped.then_some(CREATED.to_string());
        ImageConfig {
            created: stamp.clone(),
            architecture: host_architecture().into(),
            os: "linux".into(),
            config: Some(ContainerSettings {
                env: Some(vec![PATH_ENV.into()]),
                cmd: Some(vec!["sh".into()]),
                working_dir: Some("/".into()),
                labels: self
                    .stamped
                    .then(|| [("org.corral.test".to_string(), "1".to_string())].into()),
                volumes: self
                    .data_volume
                    .then(|| [("/data".to_string(), serde_json::json!({}))].into()),
                ..Default::default()
            }),
            history: match stamp {
                Some(created) => vec![History {
                    created: Some(created),
                    created_by: Some(HISTORY.into()),
                    ..Default::default()
                }],
                None => Vec::new(),
            },
            ..Default::default()
        }
    }

    /// The image named [`IMAGE_NAME`], with its blobs, in memory.
    pub fn build(&self) -> Result<(ExportImage, MemoryBlobs)> {
        Ok(ImageBuilder::new(self.config())
            .name(IMAGE_NAME)?
            .layer(&self.layer()?, Compression::Gzip)?
            .build()?)
    }

    /// Writes the image as a docker archive (what `load -i` takes) at `path`.
    pub fn write_docker_archive(&self, path: &Path) -> Result<()> {
        let (image, blobs) = self.build()?;
        let file = File::create(path).map_err(Error::io("creating the image archive", path))?;
        write_docker_archive(file, &[image], &blobs)?;
        Ok(())
    }
}

/// The applet paths busybox knows, relative (`bin/sh`, `usr/bin/env`, ...), sorted.
fn applets() -> Result<Vec<String>> {
    let out = Command::new(BUSYBOX)
        .arg("--list-full")
        .output()
        .map_err(|e| Error::Applets(e.to_string()))?;
    if !out.status.success() {
        return Err(Error::Applets(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let list = String::from_utf8(out.stdout).map_err(|_| Error::Applets("the list is not UTF-8".into()))?;
    let mut applets: Vec<String> = list
        .lines()
        .map(|l| l.trim().trim_start_matches('/').to_string())
        .filter(|l| !l.is_empty() && l != "bin/busybox")
        .collect();
    applets.sort();
    applets.dedup();
    Ok(applets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(tar: &[u8]) -> Vec<(String, u64, u64, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar);
        let mut out = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let (uid, gid) = (entry.header().uid().unwrap(), entry.header().gid().unwrap());
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            out.push((path, uid, gid, data));
        }
        out
    }

    fn find<'a>(entries: &'a [(String, u64, u64, Vec<u8>)], path: &str) -> Option<&'a (String, u64, u64, Vec<u8>)> {
        entries.iter().find(|e| e.0 == path)
    }

    #[test]
    fn the_full_tree_knows_corral_and_the_root_only_tree_only_root() {
        let full = entries(&BusyboxImage::bare().layer().unwrap());
        let home = find(&full, "home/corral/").unwrap();
        assert_eq!((home.1, home.2), (1000, 1000));
        assert!(find(&full, "var/www/").is_some());
        assert!(String::from_utf8_lossy(&find(&full, "etc/passwd").unwrap().3).contains("corral:x:1000:1000"));
        assert!(find(&full, "bin/sh").is_some(), "applet links");

        let root_only = entries(&BusyboxImage::bare().tree(Tree::RootOnly).layer().unwrap());
        assert_eq!(
            find(&root_only, "etc/passwd").unwrap().3,
            b"root:x:0:0:root:/root:/bin/sh\n"
        );
        assert_eq!(find(&root_only, "etc/group").unwrap().3, b"root:x:0:\n");
        assert!(find(&root_only, "home/").is_none() && find(&root_only, "var/").is_none());
        assert!(find(&root_only, "data/seed").is_none());
    }

    #[test]
    fn the_data_volume_is_declared_and_seeded() {
        let image = BusyboxImage::bare().tree(Tree::RootOnly).with_data_volume();
        let layer = entries(&image.layer().unwrap());
        assert_eq!(find(&layer, "data/seed").unwrap().3, b"seeded\n");
        let volumes = image.config().config.unwrap().volumes.unwrap();
        assert_eq!(volumes.keys().collect::<Vec<_>>(), ["/data"]);
    }

    #[test]
    fn only_the_published_image_is_stamped() {
        let published = BusyboxImage::published().config();
        assert_eq!(published.created.as_deref(), Some(CREATED));
        assert_eq!(published.history.len(), 1);
        assert_eq!(published.config.unwrap().labels.unwrap()["org.corral.test"], "1");

        let bare = BusyboxImage::bare().config();
        assert_eq!(bare.created, None);
        assert!(bare.history.is_empty());
        assert_eq!(bare.config.unwrap().labels, None);
    }

    #[test]
    fn a_docker_archive_is_written_and_rebuilt_identically() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tar"), dir.path().join("b.tar"));
        let image = BusyboxImage::bare().with_data_volume();
        image.write_docker_archive(&a).unwrap();
        image.write_docker_archive(&b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

        let missing = dir.path().join("no/such/dir/c.tar");
        let err = image.write_docker_archive(&missing).unwrap_err().to_string();
        assert!(
            err.contains("creating the image archive") && err.contains("no/such/dir"),
            "{err}"
        );
    }
}
