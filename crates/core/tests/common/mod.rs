//! Shared helpers of the end-to-end tests: a temporary root and runroot with the
//! busybox test image loaded, and a guard that removes every container (stopping it,
//! unmounting its filesystem) even when a test fails.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use corral_core::{Container, ContainerSpec, LogOptions, RemoveOptions, Runtime, RuntimeOptions};
use corral_storage::ImageStore;
use corral_test_support::{BusyboxImage, Scratch};

pub const IMAGE: &str = corral_test_support::IMAGE_NAME;
/// Generous: the machine is shared and loaded.
pub const WAIT: Duration = Duration::from_secs(60);

/// A runtime in a temporary root/runroot with the busybox image loaded.
#[derive(Debug)]
pub struct TestEnv {
    pub rt: Runtime,
    runroot: PathBuf,
    // Last, so the directory outlives the cleanup above it.
    dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        Self::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut RuntimeOptions)) -> TestEnv {
        // The busybox test image with root, `corral` (1000:1000) and nobody, and a bare config.
        let Scratch {
            root,
            runroot,
            archive,
            dir,
        } = Scratch::new("corral-core-", &BusyboxImage::bare()).unwrap();
        let mut options = RuntimeOptions::with_roots(&root, &runroot);
        tweak(&mut options);
        let rt = Runtime::new(options).unwrap();
        rt.storage().unwrap().load(&archive, None).unwrap();
        TestEnv { rt, runroot, dir }
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
        corral_test_support::remove_leftovers(&self.runroot, self.dir.path());
    }
}
