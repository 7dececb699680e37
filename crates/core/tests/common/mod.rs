//! Shared helpers of the end-to-end tests: a temporary root and runroot with the
//! busybox test image loaded, and a guard that removes every container (stopping it,
//! unmounting its filesystem) even when a test fails.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use corral_core::{Container, ContainerSpec, LogOptions, RemoveOptions, Runtime, RuntimeOptions};
use corral_storage::ImageStore;
use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive};
use corral_storage::spec::{ContainerSettings, ImageConfig, host_architecture};

pub const IMAGE: &str = "localhost/busybox:latest";
const BUSYBOX: &str = "/usr/bin/busybox";
/// Generous: the machine is shared and loaded.
pub const WAIT: Duration = Duration::from_secs(60);

/// The busybox test image (as `cargo xtask test-image` builds it): busybox with its
/// applets, /etc/passwd and /etc/group with root, `corral` (1000:1000) and nobody.
fn image_archive(path: &Path) {
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
    l.file(
        "bin/busybox",
        0o755,
        std::fs::read(BUSYBOX).expect("busybox-static is installed"),
    );
    let list = Command::new(BUSYBOX).arg("--list-full").output().unwrap();
    let mut applets: Vec<String> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|a| a.trim().trim_start_matches('/').to_string())
        .filter(|a| !a.is_empty() && a != "bin/busybox")
        .collect();
    applets.sort();
    applets.dedup();
    for a in &applets {
        l.symlink(a, "/bin/busybox");
    }
    l.file(
        "etc/passwd",
        0o644,
        "root:x:0:0:root:/root:/bin/sh\ncorral:x:1000:1000:corral:/home/corral:/bin/sh\n\
         nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .file("etc/group", 0o644, "root:x:0:\ncorral:x:1000:\nnogroup:x:65534:\n");
    let config = ImageConfig {
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (image, blobs) = ImageBuilder::new(config)
        .name(IMAGE)
        .unwrap()
        .layer(&l.to_tar().unwrap(), Compression::Gzip)
        .unwrap()
        .build()
        .unwrap();
    write_docker_archive(std::fs::File::create(path).unwrap(), &[image], &blobs).unwrap();
}

/// A runtime in a temporary root/runroot with the busybox image loaded.
#[derive(Debug)]
pub struct TestEnv {
    pub rt: Runtime,
    root: PathBuf,
    runroot: PathBuf,
    // Last, so the directory outlives the cleanup above it.
    dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        Self::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut RuntimeOptions)) -> TestEnv {
        let dir = tempfile::Builder::new().prefix("corral-core-").tempdir().unwrap();
        let root = dir.path().join("root");
        let runroot = dir.path().join("run");
        let mut options = RuntimeOptions::with_roots(&root, &runroot);
        tweak(&mut options);
        let rt = Runtime::new(options).unwrap();
        let archive = dir.path().join("busybox.tar");
        image_archive(&archive);
        rt.storage().load(&archive, None).unwrap();
        TestEnv { rt, root, runroot, dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a container running `args`.
    pub fn create(&self, args: &[&str], tweak: impl FnOnce(&mut ContainerSpec)) -> Container {
        let mut spec = ContainerSpec::new("busybox");
        spec.command = Some(args.iter().map(|a| a.to_string()).collect());
        tweak(&mut spec);
        self.rt.new_container(spec).unwrap()
    }

    /// Creates and starts a container running `args`.
    pub async fn run(&self, args: &[&str], tweak: impl FnOnce(&mut ContainerSpec)) -> Container {
        let c = self.create(args, tweak);
        c.start().await.unwrap();
        c
    }
}

/// The container's whole log as text, one line per output line.
pub fn log_text(c: &Container) -> String {
    c.logs(&LogOptions::default())
        .unwrap()
        .iter()
        .map(|l| format!("{}\n", l.text))
        .collect()
}

/// Waits for the container's exit, failing after [`WAIT`].
pub async fn wait(c: &Container) -> i32 {
    tokio::time::timeout(WAIT, c.wait())
        .await
        .expect("container never exited")
        .unwrap()
}

fn quiet(cmd: &mut Command) {
    let _ = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let rt = self.rt.clone();
        // The test's own tokio runtime may be the caller: clean up on a thread of our own.
        let _ = std::thread::spawn(move || {
            let Ok(tokio_rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            tokio_rt.block_on(async {
                for c in rt.get_containers().unwrap_or_default() {
                    let opts = RemoveOptions {
                        force: true,
                        timeout: Some(0),
                    };
                    if let Err(e) = tokio::time::timeout(WAIT, c.remove(opts)).await {
                        eprintln!("removing {}: {e}", c.id());
                    }
                }
            });
        })
        .join();
        // Whatever survived: kill conmon, delete from crun, unmount.
        if let Ok(entries) = std::fs::read_dir(self.runroot.join("containers")) {
            for e in entries.flatten() {
                let id = e.file_name().to_string_lossy().to_string();
                if let Ok(pid) = std::fs::read_to_string(e.path().join("userdata/conmon.pid")) {
                    quiet(Command::new("kill").args(["-9", pid.trim()]));
                }
                quiet(Command::new("crun").args(["delete", "--force", &id]));
            }
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|p| p.starts_with(&*self.root.to_string_lossy()))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            quiet(Command::new("umount").args(["-l", p]));
        }
    }
}
