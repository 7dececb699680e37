//! What the end-to-end tests of the `corral` binary share: the busybox test
//! image and an [`Env`] with a root and runroot of its own that cleans up
//! every container, mount and directory it made, even when a test fails.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a part

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use corral_cli::cli::GlobalOptions;
use corral_storage::ImageStore;
use corral_test_support::{BusyboxImage, Scratch, Tree};

pub const IMAGE: &str = corral_test_support::IMAGE_NAME;

/// Which busybox image an [`Env`] loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestImage {
    Plain,
    /// Also declares `VOLUME /data`, holding `/data/seed`.
    WithDataVolume,
}

impl TestImage {
    /// The busybox test image with only root in `/etc/passwd` and `/etc/group`.
    fn image(self) -> BusyboxImage {
        let image = BusyboxImage::bare().tree(Tree::RootOnly);
        match self {
            TestImage::Plain => image,
            TestImage::WithDataVolume => image.with_data_volume(),
        }
    }
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
        let Scratch {
            root,
            runroot,
            archive,
            dir,
        } = Scratch::new("corral-cli-", &image.image()).unwrap();
        let global = GlobalOptions {
            root: Some(root.clone()),
            runroot: Some(runroot.clone()),
            ..GlobalOptions::default()
        };
        let runtime = corral_cli::engine::runtime(&global).unwrap();
        runtime.storage().unwrap().load(&archive, None).unwrap();
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

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.corral().args(["rm", "-af", "-t", "0"]).output();
        corral_test_support::remove_leftovers(&self.runroot, self.dir.path());
    }
}
