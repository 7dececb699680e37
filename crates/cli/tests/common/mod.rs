//! What the end-to-end tests of the `corral` binary share: the busybox test
//! image and an [`Env`] with a root and runroot of its own that cleans up
//! every container, mount and directory it made, even when a test fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use assert_cmd::Command;
use corral_cli::cli::GlobalOptions;
use corral_storage::ImageStore;
use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive};
use corral_storage::spec::{ContainerSettings, ImageConfig, host_architecture};

pub const IMAGE: &str = "localhost/busybox:latest";
const BUSYBOX: &str = "/usr/bin/busybox";

/// Which busybox image an [`Env`] loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestImage {
    Plain,
    /// Also declares `VOLUME /data`, holding `/data/seed`.
    WithDataVolume,
}

/// The busybox test image (as `cargo xtask test-image` builds it) as a docker
/// archive; with `data_volume`, it also declares `VOLUME /data` holding `/data/seed`.
fn write_image(path: &Path, data_volume: bool) {
    let mut layer = LayerBuilder::new();
    for (dir, mode) in [
        ("bin", 0o755),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("usr/sbin", 0o755),
        ("sbin", 0o755),
        ("etc", 0o755),
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("root", 0o700),
    ] {
        layer.dir(dir, mode);
    }
    layer.file(
        "bin/busybox",
        0o755,
        std::fs::read(BUSYBOX).expect("busybox-static is installed"),
    );
    let list = StdCommand::new(BUSYBOX).arg("--list-full").output().unwrap();
    let mut applets: Vec<String> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|a| a.trim().trim_start_matches('/').to_owned())
        .filter(|a| !a.is_empty() && a != "bin/busybox")
        .collect();
    applets.sort();
    applets.dedup();
    for applet in &applets {
        layer.symlink(applet, "/bin/busybox");
    }
    layer
        .file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/group", 0o644, "root:x:0:\n");
    if data_volume {
        layer.dir("data", 0o755).file("data/seed", 0o644, "seeded\n");
    }
    let config = ImageConfig {
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/".into()),
            volumes: data_volume.then(|| [("/data".to_owned(), serde_json::json!({}))].into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (image, blobs) = ImageBuilder::new(config)
        .name(IMAGE)
        .unwrap()
        .layer(&layer.to_tar().unwrap(), Compression::Gzip)
        .unwrap()
        .build()
        .unwrap();
    write_docker_archive(std::fs::File::create(path).unwrap(), &[image], &blobs).unwrap();
}

/// A root and runroot of their own with the image loaded; dropping it
/// removes every container (`rm -af`), whatever survived that, and the dirs.
pub struct Env {
    pub root: PathBuf,
    pub runroot: PathBuf,
    // Last, so the directory outlives the cleanup above it.
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new(image: TestImage) -> Env {
        let dir = tempfile::Builder::new().prefix("corral-cli-").tempdir().unwrap();
        let root = dir.path().join("root");
        let runroot = dir.path().join("run");
        let archive = dir.path().join("busybox.tar");
        write_image(&archive, image == TestImage::WithDataVolume);
        let global = GlobalOptions {
            root: Some(root.clone()),
            runroot: Some(runroot.clone()),
            ..GlobalOptions::default()
        };
        let runtime = corral_cli::engine::runtime(&global).unwrap();
        runtime.storage().load(&archive, None).unwrap();
        Env { root, runroot, dir }
    }

    pub fn corral(&self) -> Command {
        let mut cmd = Command::cargo_bin("corral").unwrap();
        cmd.arg("--root").arg(&self.root).arg("--runroot").arg(&self.runroot);
        cmd.timeout(Duration::from_secs(60));
        cmd
    }

    /// Runs `args`, returning exit code, stdout and stderr.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.corral().args(args).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs `args`, which must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "corral {args:?} failed: {stderr}");
        stdout
    }
}

fn quiet(cmd: &mut StdCommand) {
    let _ = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.corral().args(["rm", "-af", "-t", "0"]).output();
        if let Ok(entries) = std::fs::read_dir(self.runroot.join("containers")) {
            for entry in entries.flatten() {
                let id = entry.file_name().to_string_lossy().into_owned();
                if let Ok(pid) = std::fs::read_to_string(entry.path().join("userdata/conmon.pid")) {
                    quiet(StdCommand::new("kill").args(["-9", pid.trim()]));
                }
                quiet(StdCommand::new("crun").args(["delete", "--force", &id]));
            }
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let dir = self.dir.path().to_string_lossy().into_owned();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|p| p.starts_with(&dir))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for point in points {
            quiet(StdCommand::new("umount").args(["-l", point]));
        }
    }
}
