//! `cargo xtask test-image`: the busybox image every test runs, built offline from
//! Debian's busybox-static, reproducible byte for byte, written as an oci-archive and a
//! docker-archive.
//!
//! The image is corral-test-support's `BusyboxImage::published()`: one layer with
//! `/bin/busybox` and every applet linked to it, `/etc/passwd` and `/etc/group` (root,
//! nobody, and `corral` 1000:1000 with home `/home/corral`), `/tmp` (1777), `/root`,
//! `/var/www`; fixed mtimes, owners, order, gzip settings and created time, so two builds
//! give identical archives.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use corral_storage::archive::{write_docker_archive, write_oci_archive};
use corral_test_support::{BusyboxImage, IMAGE_NAME};

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
    let (image, blobs) = BusyboxImage::published().build()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use corral_storage::{ImageStore, Store, UnpackOptions};
    use std::process::Command;

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
