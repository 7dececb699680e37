//! `cargo xtask test-image`: the busybox image every test runs, built offline from
//! Debian's busybox-static, reproducible byte for byte.
//!
//! One layer: `/bin/busybox` with every applet as a symlink to it at the path
//! `busybox --list-full` gives, `/etc/passwd` and `/etc/group` (root, nobody, and
//! `corral` 1000:1000 with home `/home/corral`), `/tmp` (1777), `/root`, `/var/www`.
//! Every entry has mtime 0 and owner 0:0 (except `/home/corral`, owned by corral),
//! entries are sorted, gzip runs at a fixed level with no timestamp, and the config's
//! created time is fixed, so two builds give identical archives.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use corral_storage::archive::{
    Compression, ExportImage, ImageBuilder, LayerBuilder, MemoryBlobs, write_docker_archive, write_oci_archive,
};
use corral_storage::spec::{ContainerSettings, History, ImageConfig, host_architecture};

/// The name the image is stored under.
pub const IMAGE_NAME: &str = "localhost/busybox:latest";
/// Debian's busybox-static binary.
pub const BUSYBOX: &str = "/usr/bin/busybox";
const CREATED: &str = "2026-01-01T00:00:00Z";
const PATH_ENV: &str = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
corral:x:1000:1000:corral:/home/corral:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\ncorral:x:1000:\nnogroup:x:65534:\n";

/// Where [`build`] wrote the image, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestImagePaths {
    pub oci_archive: PathBuf,
    pub docker_archive: PathBuf,
    /// `localhost/busybox:latest`.
    pub name: String,
    /// The image ID (config digest hex) a store will give it.
    pub image_id: String,
}

/// Builds the image and writes `busybox-oci.tar` and `busybox-docker.tar` into `out_dir`.
pub fn build(out_dir: &Path) -> Result<TestImagePaths> {
    let (image, blobs) = image()?;
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let oci_archive = out_dir.join("busybox-oci.tar");
    let docker_archive = out_dir.join("busybox-docker.tar");
    let images = std::slice::from_ref(&image);
    write_atomic(&oci_archive, &write_oci_archive(Vec::new(), images, &blobs)?)?;
    write_atomic(&docker_archive, &write_docker_archive(Vec::new(), images, &blobs)?)?;
    Ok(TestImagePaths {
        oci_archive,
        docker_archive,
        name: IMAGE_NAME.to_string(),
        image_id: image.config_digest.hex().to_string(),
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", path.display()))
}

/// The applet paths busybox knows, relative (`bin/sh`, `usr/bin/env`, ...).
fn applets() -> Result<Vec<String>> {
    let out = Command::new(BUSYBOX)
        .arg("--list-full")
        .output()
        .with_context(|| format!("running {BUSYBOX} --list-full (is busybox-static installed?)"))?;
    if !out.status.success() {
        bail!("{BUSYBOX} --list-full failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut list: Vec<String> = String::from_utf8(out.stdout)
        .context("busybox applet list is not UTF-8")?
        .lines()
        .map(|l| l.trim().trim_start_matches('/').to_string())
        .filter(|l| !l.is_empty() && l != "bin/busybox")
        .collect();
    list.sort();
    list.dedup();
    Ok(list)
}

fn layer() -> Result<Vec<u8>> {
    let busybox = fs::read(BUSYBOX).with_context(|| format!("reading {BUSYBOX} (is busybox-static installed?)"))?;
    let mut l = LayerBuilder::new();
    for (dir, mode) in [
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
        ("home", 0o755),
        ("home/corral", 0o755),
        ("var", 0o755),
        ("var/www", 0o755),
    ] {
        l.dir(dir, mode);
    }
    l.owner("home/corral", 1000, 1000);
    l.file("bin/busybox", 0o755, busybox);
    for applet in applets()? {
        l.symlink(&applet, "/bin/busybox");
    }
    l.file("etc/passwd", 0o644, PASSWD).file("etc/group", 0o644, GROUP);
    Ok(l.to_tar()?)
}

/// The image in memory.
pub fn image() -> Result<(ExportImage, MemoryBlobs)> {
    let config = ImageConfig {
        created: Some(CREATED.into()),
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec![PATH_ENV.into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/".into()),
            labels: Some([("org.corral.test".to_string(), "1".to_string())].into()),
            ..Default::default()
        }),
        history: vec![History {
            created: Some(CREATED.into()),
            created_by: Some("cargo xtask test-image: busybox-static + applet links + /etc/passwd,group".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    Ok(ImageBuilder::new(config)
        .name(IMAGE_NAME)?
        .layer(&layer()?, Compression::Gzip)?
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_storage::{ImageStore, Store, UnpackOptions};

    #[test]
    fn reproducible_loadable_and_accepted_by_skopeo() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let pa = build(a.path()).unwrap();
        let pb = build(b.path()).unwrap();
        assert_eq!(fs::read(&pa.oci_archive).unwrap(), fs::read(&pb.oci_archive).unwrap());
        assert_eq!(
            fs::read(&pa.docker_archive).unwrap(),
            fs::read(&pb.docker_archive).unwrap()
        );
        assert_eq!(pa.image_id, pb.image_id);

        for archive in [&pa.oci_archive, &pa.docker_archive] {
            let root = tempfile::tempdir().unwrap();
            let store = Store::open_with(root.path(), UnpackOptions::for_current_user()).unwrap();
            assert_eq!(store.load(archive, None).unwrap(), std::slice::from_ref(&pa.image_id));
            let rec = store.lookup("busybox").unwrap();
            assert_eq!(rec.names, [IMAGE_NAME]);
            let dir = store.layer_dirs("busybox").unwrap().remove(0);
            assert!(dir.join("bin/busybox").is_file());
            assert_eq!(fs::read_link(dir.join("bin/sh")).unwrap(), Path::new("/bin/busybox"));
            assert!(
                fs::read_to_string(dir.join("etc/passwd"))
                    .unwrap()
                    .contains("corral:x:1000:1000")
            );
            let config = store.config("busybox").unwrap();
            assert_eq!(config.config.unwrap().cmd.unwrap(), ["sh"]);
        }

        if Command::new("skopeo").arg("--version").output().is_err() {
            eprintln!("skipped skopeo check: skopeo is not installed");
            return;
        }
        for transport in [
            format!("oci-archive:{}", pa.oci_archive.display()),
            format!("docker-archive:{}", pa.docker_archive.display()),
        ] {
            let out = Command::new("skopeo").args(["inspect", &transport]).output().unwrap();
            assert!(
                out.status.success(),
                "skopeo inspect {transport}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.contains(r#""org.corral.test": "1""#), "{transport}: {stdout}");
            assert!(stdout.contains(r#""Architecture": ""#), "{transport}: {stdout}");
        }
    }
}
