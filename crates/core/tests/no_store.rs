//! A runtime made with `RuntimeOptions::no_store` (libpod's WithNoStore): it reads and
//! acts on the state of containers a normal runtime made, refuses whatever needs images
//! or root filesystems, and never creates the image store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestEnv;
use corral_core::{ContainerSpec, CoreError, RemoveOptions, Runtime, RuntimeOptions, VolumeFilters};
use corral_define::{ContainerStatus, ErrorKind, HasKind};

const NO_STORAGE: &str = "runtime has no container storage: invalid argument";

fn assert_no_store(err: CoreError) {
    assert!(matches!(err, CoreError::NoStore(_)), "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidArg);
    assert!(err.to_string().ends_with(NO_STORAGE), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_stops_containers_but_refuses_storage() {
    let env = TestEnv::new();
    let running = env.run(&["sleep", "100"], |s| s.name = Some("running".into())).await;
    let created = env.create(&["true"], |s| s.name = Some("created".into()));
    let mut options = env.rt.options().clone();
    options.no_store = true;
    let rt = Runtime::new(options).unwrap();

    let mut listed: Vec<String> = rt
        .get_containers()
        .unwrap()
        .iter()
        .map(|c| c.id().to_string())
        .collect();
    listed.sort();
    let mut expected = vec![running.id().to_string(), created.id().to_string()];
    expected.sort();
    assert_eq!(listed, expected);
    let inspected = rt.lookup_container("running").unwrap().inspect().await.unwrap();
    assert_eq!(inspected["Id"], running.id());
    assert_eq!(inspected["State"]["Status"], "running");
    assert!(rt.volumes(&VolumeFilters::default()).unwrap().is_empty());

    assert_no_store(rt.storage().unwrap_err());
    assert_no_store(rt.new_container(ContainerSpec::new("busybox")).unwrap_err());
    // Starting needs the root filesystem mounted.
    assert_no_store(rt.lookup_container("created").unwrap().start().await.unwrap_err());
    assert_eq!(created.status().await.unwrap(), ContainerStatus::Configured);
    assert_no_store(rt.lookup_container("running").unwrap().mount().await.unwrap_err());
    let found = rt.lookup_container("created").unwrap();
    assert_no_store(found.remove(RemoveOptions::default()).await.unwrap_err());
    assert_eq!(rt.lookup_container("created").unwrap().id(), created.id());

    rt.lookup_container("running").unwrap().stop(Some(0)).await.unwrap();
    assert_eq!(running.status().await.unwrap(), ContainerStatus::Exited);
    assert!(!rt.has_store());
    assert!(env.rt.has_store());
}

#[test]
fn never_creates_the_image_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = RuntimeOptions::with_roots(dir.path().join("root"), dir.path().join("run"));
    options.no_store = true;
    let storage_root = options.storage_root();
    let storage_run_root = options.storage_run_root();
    let rt = Runtime::new(options).unwrap();
    assert!(dir.path().join("root").is_dir());
    assert!(!storage_root.exists(), "{} was created", storage_root.display());
    assert!(!storage_run_root.exists(), "{} was created", storage_run_root.display());
    assert!(rt.get_containers().unwrap().is_empty());
    assert_no_store(rt.new_container(ContainerSpec::new("busybox")).unwrap_err());
    assert!(!storage_root.exists());
}
