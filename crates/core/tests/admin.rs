//! The engine-wide verbs over real containers (conmon, crun, runc): renumber,
//! migrate to another OCI runtime, reset, shutdown, and the engine lock that keeps
//! new processes out while they work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::process::Command;
use std::time::Duration;

use common::{TestEnv, wait};
use corral_core::{CoreError, RemoveOptions, Runtime, VolumeFilters, VolumeSpec};
use corral_define::{ContainerStatus, ErrorKind, HasKind};
use corral_storage::ImageStore;

const KILL: RemoveOptions = RemoveOptions {
    force: true,
    timeout: Some(0),
};

fn lock_files(runroot: &std::path::Path) -> BTreeSet<u32> {
    std::fs::read_dir(runroot.join("locks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renumber_gives_fresh_distinct_locks_and_containers_keep_working() {
    let mut env = TestEnv::new();
    let a = env.create(&["sleep", "100"], |s| s.name = Some("a".into()));
    let gone = env.create(&["true"], |s| s.name = Some("gone".into()));
    let c = env.create(&["true"], |s| s.name = Some("c".into()));
    let volume = env
        .rt
        .new_volume(VolumeSpec {
            name: Some("v".into()),
            ..Default::default()
        })
        .unwrap();
    gone.remove(RemoveOptions::default()).await.unwrap();
    // Two records claiming one number: the damage renumber repairs.
    let mut config = c.config().clone();
    config.lock_id = a.config().lock_id;
    env.rt.state().rewrite_container_config(&config).unwrap();
    let runroot = env.rt.options().runroot.clone();

    env.rt.renumber().await.unwrap();
    assert!(env.rt.is_shut_down(), "renumber shuts its runtime down, as podman's");
    let err = env.rt.lookup_container("a").unwrap_err();
    assert!(matches!(err, CoreError::RuntimeStopped), "{err}");

    let rt = Runtime::new(env.rt.options().clone()).unwrap();
    env.rt = rt.clone();
    let ids: Vec<u32> = vec![
        rt.lookup_container("a").unwrap().config().lock_id,
        rt.lookup_container("c").unwrap().config().lock_id,
        rt.lookup_volume(volume.name()).unwrap().config().lock_id,
    ];
    let distinct: BTreeSet<u32> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), 3, "one lock each: {ids:?}");
    assert_eq!(
        lock_files(&runroot),
        distinct,
        "exactly the numbers in use are allocated"
    );
    let events = rt.events(&["type=system".to_string()], None, None).unwrap();
    assert!(events.iter().any(|e| e.status == "renumber"), "{events:?}");

    let a = rt.lookup_container("a").unwrap();
    a.start().await.unwrap();
    assert_eq!(a.status().await.unwrap(), ContainerStatus::Running);
    a.stop(Some(0)).await.unwrap();
    assert_eq!(a.status().await.unwrap(), ContainerStatus::Exited);
    let c = rt.lookup_container("c").unwrap();
    c.start().await.unwrap();
    assert_eq!(wait(&c).await, 0);
    for ctr in [a, c] {
        ctr.remove(RemoveOptions::default()).await.unwrap();
    }
    rt.remove_volume(&rt.lookup_volume("v").unwrap(), false).await.unwrap();
    assert!(lock_files(&runroot).is_empty(), "removals free the new numbers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renumber_refuses_while_a_container_runs() {
    let env = TestEnv::new();
    let a = env.run(&["sleep", "100"], |s| s.name = Some("a".into())).await;
    let before = a.config().lock_id;
    let err = env.rt.renumber().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(err.to_string().contains("is running: stop every container"), "{err}");
    assert!(!env.rt.is_shut_down());
    assert_eq!(env.rt.lookup_container("a").unwrap().config().lock_id, before);
    a.remove(KILL).await.unwrap();
}

fn runtime_knows(runtime: &str, id: &str) -> bool {
    Command::new(runtime)
        .args(["state", id])
        .output()
        .unwrap()
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_containers_to_runc_which_then_runs_them() {
    let env = TestEnv::new();
    // sleep as PID 1 ignores SIGTERM: migrate's stop (the container's own timeout) kills it after 1 s.
    let running = env
        .run(&["sleep", "100"], |s| {
            s.name = Some("running".into());
            s.stop_timeout = Some(1);
        })
        .await;
    let idle = env.create(&["sh", "-c", "echo ran"], |s| s.name = Some("idle".into()));
    assert_eq!(running.config().oci_runtime, "crun");
    assert!(runtime_knows("crun", running.id()));

    let err = env.rt.migrate(Some("no-such-runtime")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArg);
    assert_eq!(
        running.status().await.unwrap(),
        ContainerStatus::Running,
        "refused before anything"
    );

    let report = env.rt.migrate(Some("runc")).await.unwrap();
    assert_eq!(report.stopped, [running.id()]);
    let rewritten: BTreeSet<&str> = report.rewritten.iter().map(String::as_str).collect();
    assert_eq!(rewritten, BTreeSet::from([running.id(), idle.id()]));
    assert_eq!(running.status().await.unwrap(), ContainerStatus::Exited);
    assert!(!runtime_knows("crun", running.id()), "stopping deleted it from crun");

    let running = env.rt.lookup_container("running").unwrap();
    assert_eq!(running.config().oci_runtime, "runc");
    running.start().await.unwrap();
    assert_eq!(running.status().await.unwrap(), ContainerStatus::Running);
    assert!(runtime_knows("runc", running.id()), "runc runs it now");
    assert!(!runtime_knows("crun", running.id()));
    running.stop(Some(0)).await.unwrap();

    let idle = env.rt.lookup_container("idle").unwrap();
    assert_eq!(idle.config().oci_runtime, "runc");
    idle.start().await.unwrap();
    assert_eq!(wait(&idle).await, 0);
    assert_eq!(common::log_text(&idle), "ran\n");

    let again = env.rt.migrate(Some("runc")).await.unwrap();
    assert!(again.stopped.is_empty() && again.rewritten.is_empty(), "{again:?}");
    for ctr in [running, idle] {
        ctr.remove(KILL).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_leaves_an_empty_engine_that_works() {
    let env = TestEnv::new();
    let options = env.rt.options().clone();
    env.run(&["sleep", "100"], |s| {
        s.name = Some("web".into());
        s.volumes = vec![corral_core::VolumeMount {
            name: Some("data".into()),
            destination: "/data".into(),
            options: Vec::new(),
        }];
    })
    .await;
    // A container another requires goes after it.
    env.create(&["true"], |s| {
        s.name = Some("dep".into());
        s.requires = vec!["web".into()];
    });
    let idle = env.create(&["true"], |s| s.name = Some("idle".into()));
    idle.init().await.unwrap();

    env.rt.reset().await.unwrap();
    assert!(env.rt.is_shut_down());
    assert!(!options.root.exists(), "the root is gone");
    assert!(!options.runroot.exists(), "the runroot is gone");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = options.root.to_string_lossy();
    assert!(!mounts.contains(&*root), "nothing stays mounted under the root");

    let rt = Runtime::new(options.clone()).unwrap();
    assert!(rt.get_containers().unwrap().is_empty());
    assert!(rt.volumes(&VolumeFilters::default()).unwrap().is_empty());
    assert!(rt.storage().unwrap().list().unwrap().is_empty());
    assert!(lock_files(&options.runroot).is_empty());

    // Usable: an image loads again and a container runs.
    let fresh = TestEnv::with(|o| *o = options.clone());
    let ctr = fresh.run(&["sh", "-c", "echo again"], |_| {}).await;
    assert_eq!(wait(&ctr).await, 0);
    assert_eq!(common::log_text(&ctr), "again\n");
    ctr.remove(RemoveOptions::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_shutdown_stops_containers_and_a_new_runtime_sees_them_stopped() {
    let mut env = TestEnv::new();
    let running = env
        .run(&["sleep", "100"], |s| {
            s.name = Some("running".into());
            s.stop_timeout = Some(0);
        })
        .await;
    env.rt.shutdown(true).await.unwrap();
    let err = running.status().await.unwrap_err();
    assert_eq!(err.to_string(), "runtime has already been stopped");
    assert!(env.rt.info().await.is_err());
    env.rt.shutdown(false).await.unwrap();

    env.rt = Runtime::new(env.rt.options().clone()).unwrap();
    let running = env.rt.lookup_container("running").unwrap();
    assert_eq!(running.status().await.unwrap(), ContainerStatus::Exited);
    running.remove(RemoveOptions::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_counts_containers_by_status() {
    let env = TestEnv::new();
    let running = env.run(&["sleep", "100"], |_| {}).await;
    env.create(&["true"], |_| {});
    let info = env.rt.info().await.unwrap();
    let store = info.store.container_store;
    assert_eq!((store.number, store.running, store.paused, store.stopped), (2, 1, 0, 1));
    assert_eq!(info.store.image_store.number, 1);
    assert_eq!(info.store.graph_root, env.rt.storage().unwrap().root());
    assert_eq!(info.host.oci_runtime.name, "crun");
    assert_eq!(info.host.conmon.path, "/usr/bin/conmon");
    assert_eq!(info.version.version, env!("CARGO_PKG_VERSION"));
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["host"]["ociRuntime"]["name"], "crun");
    assert_eq!(json["store"]["containerStore"]["running"], 1);
    assert_eq!(json["version"]["OsArch"], info.version.os_arch);
    running.remove(KILL).await.unwrap();
}

/// The engine lock: held exclusively (as renumber, migrate and reset hold it), it
/// keeps a new runtime from opening until it is let go.
#[test]
fn a_new_runtime_waits_for_the_engine_lock() {
    let env = TestEnv::new();
    let options = env.rt.options().clone();
    let lock = File::open(options.runroot.join("alive.lck")).unwrap();
    lock.lock().unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    let opener = std::thread::spawn(move || {
        let opened = Runtime::new(options).map(|_| ());
        done.send(()).unwrap();
        opened
    });
    assert!(
        finished.recv_timeout(Duration::from_millis(500)).is_err(),
        "opened while the lock was held"
    );
    lock.unlock().unwrap();
    finished.recv_timeout(Duration::from_secs(30)).unwrap();
    opener.join().unwrap().unwrap();
}
