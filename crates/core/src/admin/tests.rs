//! The engine-wide verbs against the fake runtime: what they refuse, and that a
//! runtime shut down stays shut. Renumber, migrate and reset over real containers are
//! in the crate's `tests/admin.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;

use corral_define::{ContainerStatus, ErrorKind, HasKind};

use super::{ENGINE_LOCK_FILE, EngineLock};
use crate::container_spec::ContainerSpec;
use crate::error::CoreError;
use crate::testing::FakeEnv;

fn spec(name: &str) -> ContainerSpec {
    let mut s = ContainerSpec::new("busybox");
    s.name = Some(name.into());
    s
}

/// A fake engine whose runroot exists (the engine lock lives there).
fn env() -> FakeEnv {
    let env = FakeEnv::new();
    std::fs::create_dir_all(&env.rt.options().runroot).unwrap();
    env
}

#[test]
fn exclusive_excludes_shared_and_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let a = EngineLock::shared(dir.path()).unwrap();
    let b = EngineLock::shared(dir.path()).unwrap();
    let file = File::open(dir.path().join(ENGINE_LOCK_FILE)).unwrap();
    assert!(file.try_lock().is_err(), "shared holders keep an exclusive locker out");
    drop((a, b));
    let held = EngineLock::exclusive(dir.path()).unwrap();
    assert!(
        file.try_lock_shared().is_err(),
        "the exclusive holder keeps everyone out"
    );
    drop(held);
    assert!(file.try_lock_shared().is_ok());
}

#[tokio::test]
async fn shutdown_makes_every_later_call_fail() {
    let env = env();
    let c = env.rt.new_container(spec("a")).unwrap();
    let clone = env.rt.clone();
    assert!(!env.rt.is_shut_down());
    env.rt.shutdown(false).await.unwrap();
    assert!(clone.is_shut_down());
    for err in [
        clone.lookup_container("a").unwrap_err(),
        clone.get_containers().unwrap_err(),
        clone.latest().unwrap_err(),
        c.start().await.unwrap_err(),
        c.status().await.unwrap_err(),
        env.rt.renumber().await.unwrap_err(),
        env.rt.migrate(None).await.unwrap_err(),
        env.rt.reset().await.unwrap_err(),
        env.rt.info().await.unwrap_err(),
    ] {
        assert!(matches!(err, CoreError::RuntimeStopped), "{err}");
        assert_eq!(err.to_string(), "runtime has already been stopped");
        assert_eq!(err.kind(), ErrorKind::DbClosed);
    }
    let err = env.rt.new_container(spec("b")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DbClosed, "the store is closed: {err}");
    env.rt.shutdown(true).await.unwrap();
}

#[tokio::test]
async fn forced_shutdown_stops_running_containers() {
    let env = env();
    let c = env.rt.new_container(spec("a")).unwrap();
    c.start().await.unwrap();
    let idle = env.rt.new_container(spec("b")).unwrap();
    env.rt.shutdown(true).await.unwrap();
    // The state is gone with the in-memory store; the fake runtime saw the stop.
    assert!(env.oci.deleted.lock().unwrap().contains(&c.id().to_string()));
    assert!(!env.oci.deleted.lock().unwrap().contains(&idle.id().to_string()));
    assert_eq!(env.mount_count(c.id()), 0);
}

#[tokio::test]
async fn renumber_refuses_while_a_container_runs_and_changes_nothing() {
    let env = env();
    let running = env.rt.new_container(spec("running")).unwrap();
    let idle = env.rt.new_container(spec("idle")).unwrap();
    running.start().await.unwrap();
    let err = env.rt.renumber().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(
        err.to_string()
            .contains(&format!("container {} is running: stop every container", running.id())),
        "{err}"
    );
    assert!(!env.rt.is_shut_down());
    let ids = [running.config().lock_id, idle.config().lock_id];
    for name in ["running", "idle"] {
        let now = env.rt.lookup_container(name).unwrap();
        assert!(ids.contains(&now.config().lock_id));
    }
    running.stop(Some(0)).await.unwrap();
    assert_eq!(running.status().await.unwrap(), ContainerStatus::Exited);
}

#[tokio::test]
async fn renumber_refuses_a_lock_held_elsewhere() {
    let env = env();
    let c = env.rt.new_container(spec("a")).unwrap();
    let lock = env.rt.inner.locks.retrieve_lock(c.config().lock_id).unwrap();
    let held = lock.lock().unwrap();
    let owner = [("container", c.id(), c.config().lock_id)];
    let err = env
        .rt
        .take_every_lock(owner.into_iter(), std::time::Duration::from_millis(50))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(
        err.to_string()
            .contains(&format!("lock {} of container {} is held", c.config().lock_id, c.id())),
        "{err}"
    );
    // A holder that lets go within the wait (a cleanup under way) is waited for.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    env.rt.renumber().await.unwrap();
    assert!(env.rt.is_shut_down());
    releaser.join().unwrap();
}

#[tokio::test]
async fn renumber_gives_two_records_sharing_a_number_one_each() {
    let env = env();
    let a = env.rt.new_container(spec("a")).unwrap();
    let b = env.rt.new_container(spec("b")).unwrap();
    let mut config = b.config().clone();
    config.lock_id = a.config().lock_id;
    env.rt.state().rewrite_container_config(&config).unwrap();
    let locks = env.rt.inner.locks.clone();
    env.rt.renumber().await.unwrap();
    assert_eq!(locks.allocated_locks().unwrap().len(), 2);
}

#[tokio::test]
async fn migrate_refuses_an_unknown_runtime_before_anything_changes() {
    let env = env();
    let c = env.rt.new_container(spec("a")).unwrap();
    c.start().await.unwrap();
    let err = env.rt.migrate(Some("surely-no-such-runtime")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArg);
    assert_eq!(
        err.to_string(),
        "change to runtime \"surely-no-such-runtime\" requested but no such runtime is defined: invalid argument"
    );
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Running);
    assert_eq!(env.rt.lookup_container("a").unwrap().config().oci_runtime, "fake");
}

#[tokio::test]
async fn migrate_stops_running_containers_and_keeps_the_runtime_without_a_new_one() {
    let env = env();
    let running = env.rt.new_container(spec("running")).unwrap();
    running.start().await.unwrap();
    let idle = env.rt.new_container(spec("idle")).unwrap();
    let report = env.rt.migrate(Some("")).await.unwrap();
    assert_eq!(report.stopped, [running.id()]);
    assert!(report.rewritten.is_empty());
    assert_eq!(running.status().await.unwrap(), ContainerStatus::Exited);
    assert_eq!(idle.status().await.unwrap(), ContainerStatus::Configured);
    assert!(!env.rt.is_shut_down());
}
