//! Lifecycle rules against the fake runtime: moves, invalid moves, restart policies,
//! auto-removal, dependencies, and a property test over random operation sequences.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use corral_define::{ContainerStatus, ErrorKind, HasKind};
use proptest::prelude::*;

use super::{Container, RemoveOptions};
use crate::container_spec::{ContainerSpec, RestartPolicy};
use crate::testing::FakeEnv;

fn spec(name: &str) -> ContainerSpec {
    let mut s = ContainerSpec::new("busybox");
    s.name = Some(name.into());
    s
}

async fn status(c: &Container) -> ContainerStatus {
    c.status().await.unwrap()
}

#[tokio::test]
async fn full_lifecycle() {
    let env = FakeEnv::new();
    let c = env.rt.new_container(spec("web")).unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Configured);
    assert_eq!(c.config().image.command, ["sh"]);
    assert!(c.config().misc.exit_command.is_empty());

    c.start().await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Running);
    assert_eq!(env.mount_count(c.id()), 1);
    let bundle = env.rt.bundle_dir(c.id());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"], serde_json::json!(["sh"]));
    assert!(config["root"]["path"].as_str().unwrap().ends_with(c.id()));
    assert!(std::fs::read_to_string(bundle.join("hosts")).unwrap().contains("web"));

    c.pause().await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Paused);
    c.unpause().await.unwrap();
    c.stop(Some(0)).await.unwrap();
    let st = c.state().await.unwrap();
    assert_eq!(
        (st.state, st.exit_code, st.stopped_by_user),
        (ContainerStatus::Exited, 137, true)
    );
    assert_eq!(env.mount_count(c.id()), 0);
    assert!(env.oci.deleted.lock().unwrap().contains(&c.id().to_string()));

    c.start().await.unwrap();
    env.oci.exit(c.id(), 3);
    assert_eq!(c.wait().await.unwrap(), 3);
    assert_eq!(status(&c).await, ContainerStatus::Stopped);
    env.rt.cleanup_container("web").await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Exited);
    assert_eq!(env.mount_count(c.id()), 0);

    c.restart(None).await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Running);
    c.remove(RemoveOptions {
        force: true,
        timeout: Some(0),
    })
    .await
    .unwrap();
    assert_eq!(
        env.rt.lookup_container("web").unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
    assert!(!bundle.exists());
    assert_eq!(env.mount_count(c.id()), 0);
    assert!(env.rt.get_containers().unwrap().is_empty());
}

#[tokio::test]
async fn invalid_moves_change_nothing() {
    let env = FakeEnv::new();
    let c = env.rt.new_container(spec("c")).unwrap();
    let before = c.record().unwrap();
    for err in [
        c.pause().await.unwrap_err(),
        c.unpause().await.unwrap_err(),
        c.kill(15).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    }
    let err = c.kill(15).await.unwrap_err();
    assert!(err.to_string().contains("is in state created"), "{err}");
    assert_eq!(c.record().unwrap(), before);

    c.start().await.unwrap();
    let running = c.record().unwrap();
    for err in [
        c.init().await.unwrap_err(),
        c.cleanup().await.unwrap_err(),
        c.remove(RemoveOptions::default()).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
        assert!(err.to_string().contains("running"), "{err}");
    }
    // podman's wording for these does not name the status.
    for err in [c.start().await.unwrap_err(), c.unpause().await.unwrap_err()] {
        assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    }
    assert_eq!(c.record().unwrap(), running);
    c.remove(RemoveOptions {
        force: true,
        timeout: Some(0),
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn failed_init_is_undone() {
    let env = FakeEnv::new();
    let c = env.rt.new_container(spec("c")).unwrap();
    *env.oci.fail_create.lock().unwrap() = true;
    let err = c.start().await.unwrap_err();
    assert!(err.to_string().contains("fake create failure"), "{err}");
    let st = c.state().await.unwrap();
    assert_eq!(st.state, ContainerStatus::Configured);
    assert!(st.error.contains("fake create failure"));
    assert_eq!(env.mount_count(c.id()), 0);
    *env.oci.fail_create.lock().unwrap() = false;
    c.start().await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Running);
}

#[tokio::test]
async fn restart_policy_on_failure_counts_retries() {
    let env = FakeEnv::new();
    let mut s = spec("c");
    s.restart = RestartPolicy::OnFailure { max_retries: 2 };
    let c = env.rt.new_container(s).unwrap();
    c.start().await.unwrap();
    for round in 1..=2 {
        env.oci.exit(c.id(), 1);
        c.cleanup().await.unwrap();
        let st = c.state().await.unwrap();
        assert_eq!((st.state, st.restart_count), (ContainerStatus::Running, round));
    }
    env.oci.exit(c.id(), 1);
    c.cleanup().await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Exited);
    assert_eq!(env.mount_count(c.id()), 0);

    // Success does not restart; a user's start resets the count.
    c.start().await.unwrap();
    assert_eq!(c.state().await.unwrap().restart_count, 0);
    env.oci.exit(c.id(), 0);
    c.cleanup().await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Exited);
}

#[tokio::test]
async fn always_restarts_unless_stopped_by_user() {
    let env = FakeEnv::new();
    let mut s = spec("c");
    s.restart = RestartPolicy::Always;
    let c = env.rt.new_container(s).unwrap();
    c.start().await.unwrap();
    env.oci.exit(c.id(), 0);
    c.cleanup().await.unwrap();
    assert_eq!(status(&c).await, ContainerStatus::Running);
    c.stop(Some(1)).await.unwrap();
    c.cleanup().await.unwrap();
    let st = c.state().await.unwrap();
    assert_eq!((st.state, st.exit_code), (ContainerStatus::Exited, 143));
}

#[tokio::test]
async fn auto_remove_on_cleanup() {
    let env = FakeEnv::new();
    let mut s = spec("gone");
    s.auto_remove = true;
    let c = env.rt.new_container(s).unwrap();
    c.start().await.unwrap();
    env.oci.exit(c.id(), 0);
    env.rt.cleanup_container(c.id()).await.unwrap();
    assert_eq!(
        env.rt.lookup_container("gone").unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
    assert_eq!(env.mount_count(c.id()), 0);
}

/// `rm` after the exit command's cleanup does not ask the runtime to delete the
/// container a second time; `rm` of a stopped container it did not clean up does.
#[tokio::test]
async fn remove_deletes_from_the_runtime_only_what_it_may_hold() {
    let env = FakeEnv::new();
    let deletes = |c: &Container| {
        env.oci
            .deleted
            .lock()
            .unwrap()
            .iter()
            .filter(|id| *id == c.id())
            .count()
    };
    let cleaned = env.rt.new_container(spec("cleaned")).unwrap();
    cleaned.start().await.unwrap();
    env.oci.exit(cleaned.id(), 0);
    cleaned.wait().await.unwrap();
    env.rt.cleanup_container("cleaned").await.unwrap();
    assert_eq!(deletes(&cleaned), 1);
    cleaned.remove(RemoveOptions::default()).await.unwrap();
    assert_eq!(deletes(&cleaned), 1);
    assert_eq!(env.mount_count(cleaned.id()), 0);

    let stopped = env.rt.new_container(spec("stopped")).unwrap();
    stopped.start().await.unwrap();
    env.oci.exit(stopped.id(), 0);
    stopped.wait().await.unwrap();
    assert_eq!(status(&stopped).await, ContainerStatus::Stopped);
    stopped.remove(RemoveOptions::default()).await.unwrap();
    assert_eq!(deletes(&stopped), 1);
    assert_eq!(env.mount_count(stopped.id()), 0);
    assert!(!env.rt.bundle_dir(stopped.id()).exists());
}

#[tokio::test]
async fn dependencies_start_first_and_block_removal() {
    let env = FakeEnv::new();
    let a = env.rt.new_container(spec("a")).unwrap();
    let b = env.rt.new_container(spec("b")).unwrap();
    let mut s = spec("c");
    s.requires = vec!["b".into()];
    let c = env.rt.new_container(s).unwrap();
    let mut s = spec("d");
    s.requires = vec!["c".into(), "a".into()];
    let d = env.rt.new_container(s).unwrap();
    d.start().await.unwrap();
    for x in [&a, &b, &c, &d] {
        assert_eq!(status(x).await, ContainerStatus::Running, "{}", x.name());
    }
    let err = c
        .remove(RemoveOptions {
            force: true,
            timeout: Some(0),
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DependencyExists, "{err}");
    assert_eq!(status(&c).await, ContainerStatus::Running);
    let mut s = spec("e");
    s.requires = vec!["nope".into()];
    assert_eq!(env.rt.new_container(s).unwrap_err().kind(), ErrorKind::NoSuchContainer);
}

#[tokio::test]
async fn names_and_lookups() {
    let env = FakeEnv::new();
    let a = env.rt.new_container(ContainerSpec::new("busybox")).unwrap();
    assert!(a.name().contains('_'));
    let b = env.rt.new_container(spec("b")).unwrap();
    assert_eq!(env.rt.latest().unwrap().id(), b.id());
    assert_eq!(env.rt.lookup_container(&a.id()[..10]).unwrap().id(), a.id());
    assert_eq!(
        env.rt.new_container(spec("b")).unwrap_err().kind(),
        ErrorKind::ContainerExists
    );
    assert_eq!(
        env.rt.new_container(spec("-bad")).unwrap_err().kind(),
        ErrorKind::InvalidArg
    );
    assert_eq!(
        env.rt.new_container(ContainerSpec::new("nope")).unwrap_err().kind(),
        ErrorKind::NoSuchImage
    );
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Init,
    Start,
    Stop,
    Kill,
    Pause,
    Unpause,
    Cleanup,
    Exit(i32),
    Restart,
}

fn any_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Init),
        Just(Op::Start),
        Just(Op::Stop),
        Just(Op::Kill),
        Just(Op::Pause),
        Just(Op::Unpause),
        Just(Op::Cleanup),
        (0i32..3).prop_map(Op::Exit),
        Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the order of operations: a success is a move the status machine allows
    /// (or none), a failure is InvalidState and leaves the record as it was, and the
    /// root filesystem is mounted exactly while the container is created or alive.
    #[test]
    fn operations_follow_the_status_machine(ops in proptest::collection::vec(any_op(), 1..14)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let env = FakeEnv::new();
            let c = env.rt.new_container(spec("p")).unwrap();
            for op in ops {
                let before = c.record().unwrap();
                let result = match op {
                    Op::Init => c.init().await,
                    Op::Start => c.start().await,
                    Op::Stop => c.stop(Some(0)).await,
                    Op::Kill => c.kill(9).await,
                    Op::Pause => c.pause().await,
                    Op::Unpause => c.unpause().await,
                    Op::Cleanup => c.cleanup().await,
                    Op::Restart => c.restart(Some(0)).await,
                    Op::Exit(code) => {
                        if before.state.state.is_active() {
                            env.oci.exit(c.id(), code);
                        }
                        Ok(())
                    }
                };
                let after = c.state().await.unwrap();
                match result {
                    Ok(()) => {}
                    Err(e) => {
                        prop_assert_eq!(e.kind(), ErrorKind::InvalidState, "{:?}: {}", op, e);
                        prop_assert_eq!(c.record().unwrap().state.state, after.state);
                        if !matches!(op, Op::Exit(_)) {
                            let mut expected = before.state.clone();
                            // An exit noticed while looking is not a change by the operation.
                            if expected.state != after.state {
                                expected = after.clone();
                            }
                            prop_assert_eq!(&after, &expected, "{:?}", op);
                        }
                    }
                }
                let mounted = matches!(
                    after.state,
                    ContainerStatus::Created | ContainerStatus::Running | ContainerStatus::Paused | ContainerStatus::Stopped
                );
                prop_assert_eq!(env.mount_count(c.id()), u32::from(mounted), "{:?} -> {}", op, after.state);
                prop_assert_eq!(after.mounted, mounted);
            }
            Ok(())
        })?;
    }
}

/// The CLI (and a future service) runs operations on spawned tasks.
#[test]
fn handles_and_operations_are_send() {
    fn send<T: Send + Sync>(_: &T) {}
    fn send_future<T: std::future::Future + Send>(_: T) {}
    let env = FakeEnv::new();
    let c = env.rt.new_container(spec("s")).unwrap();
    send(&env.rt);
    send(&c);
    send_future(c.start());
    send_future(c.stop(None));
    send_future(c.wait());
    send_future(c.remove(RemoveOptions::default()));
    send_future(env.rt.cleanup_container("s"));
    send_future(c.exec(
        &super::ExecRequest::default(),
        corral_attach::AttachStreams::new(),
        corral_attach::AttachOptions::default(),
    ));
}
