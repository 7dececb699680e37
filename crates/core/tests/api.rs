//! The Container and Runtime API beyond the plain lifecycle, with real conmon and
//! crun: wait conditions, sync, batch, exec sessions, filtered listing, prune,
//! evict and the dependency graph.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{TestEnv, WAIT, wait};
use corral_core::{AttachOptions, AttachStreams, ContainerFilters, ContainerGraph, ExecRequest};
use corral_define::{ContainerStatus, ErrorKind, ExecStatus, HasKind};
use corral_storage::ContainerFsStore;

const FAST: Duration = Duration::from_millis(50);

fn cmd(args: &[&str]) -> ExecRequest {
    ExecRequest {
        command: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    }
}

fn filters(f: &[&str]) -> ContainerFilters {
    ContainerFilters::parse(&f.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_conditions_and_intervals() {
    let env = TestEnv::new();
    let c = env.create(&["sleep", "100"], |_| {});
    // A container that never ran has "exited" with 0, as podman says.
    assert_eq!(c.wait_with_interval(FAST).await.unwrap(), 0);
    assert_eq!(
        c.wait_for_condition(&[ContainerStatus::Configured], FAST)
            .await
            .unwrap(),
        -1
    );
    let err = c.wait_for_condition(&[], FAST).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArg);

    c.start().await.unwrap();
    assert_eq!(
        c.wait_for_condition(&[ContainerStatus::Running], FAST).await.unwrap(),
        -1
    );

    // Waiting for paused sees the pause made meanwhile.
    let waiter = {
        let c = c.clone();
        tokio::spawn(async move { c.wait_for_condition(&[ContainerStatus::Paused], FAST).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "paused before the pause");
    c.pause().await.unwrap();
    let reached = tokio::time::timeout(WAIT, waiter).await.unwrap().unwrap().unwrap();
    assert_eq!(reached, -1);
    c.unpause().await.unwrap();

    // Running or exited: whichever comes first; running is already true.
    let code = c
        .wait_for_condition(&[ContainerStatus::Running, ContainerStatus::Exited], FAST)
        .await
        .unwrap();
    assert_eq!(code, -1);
    c.kill(9).await.unwrap();
    let code = tokio::time::timeout(WAIT, c.wait_with_interval(FAST))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code, 137);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reads_the_runtimes_view() {
    let env = TestEnv::new();
    let c = env.create(&["sleep", "100"], |_| {});
    assert_eq!(c.sync().await.unwrap().state, ContainerStatus::Configured);
    c.start().await.unwrap();
    let state = c.sync().await.unwrap();
    assert_eq!(state.state, ContainerStatus::Running);
    // The process dies behind corral's back: crun's state says so.
    let killed = std::process::Command::new("kill")
        .args(["-9", &state.pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + WAIT;
    loop {
        let state = c.sync().await.unwrap();
        if state.state != ContainerStatus::Running {
            assert!(
                matches!(state.state, ContainerStatus::Stopped | ContainerStatus::Exited),
                "{state:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "still running after kill");
        tokio::time::sleep(FAST).await;
    }
    assert_eq!(wait(&c).await, 137);
}

/// A `stopping` record left by a stop that was killed midway (the stop holds the
/// lock throughout, so nobody else can be stopping it): the next operation asks
/// the runtime and finds the container running again, or gone with its code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_killed_midway_is_repaired_from_the_runtime() {
    let env = TestEnv::new();
    let c = env.create(&["sleep", "100"], |_| {});
    c.start().await.unwrap();
    let mut rec = env.rt.state().container(c.id()).unwrap();
    rec.state.state = ContainerStatus::Stopping;
    env.rt.state().save_container(&rec).unwrap();
    assert_eq!(c.sync().await.unwrap().state, ContainerStatus::Running);
    assert_eq!(
        env.rt.state().container(c.id()).unwrap().state.state,
        ContainerStatus::Running,
        "the repair is saved"
    );

    // Left stopping with its process already killed: exited, with the kill's code.
    let mut rec = env.rt.state().container(c.id()).unwrap();
    std::process::Command::new("kill")
        .args(["-9", &rec.state.pid.to_string()])
        .status()
        .unwrap();
    rec.state.state = ContainerStatus::Stopping;
    env.rt.state().save_container(&rec).unwrap();
    let deadline = Instant::now() + WAIT;
    while c.status().await.unwrap().is_active() {
        assert!(Instant::now() < deadline, "still stopping");
        tokio::time::sleep(FAST).await;
    }
    assert_eq!(wait(&c).await, 137);
    c.start().await.unwrap();
    c.stop(Some(0)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_runs_operations_under_one_lock() {
    let env = TestEnv::new();
    let c = env.run(&["sleep", "100"], |_| {}).await;
    let other_handle = env.rt.lookup_container(c.id()).unwrap();
    let started = Instant::now();
    let (look, held_until) = c
        .batch(async |b| {
            assert_eq!(b.status(), ContainerStatus::Running);
            b.pause().await?;
            assert_eq!(b.status(), ContainerStatus::Paused);
            // Another operation waits for the batch to end.
            let other = other_handle.clone();
            let look = tokio::spawn(async move { (other.status().await, Instant::now()) });
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!look.is_finished(), "an operation ran inside the batch");
            b.unpause().await?;
            b.kill(9).await?;
            let code = b.wait_for_exit(WAIT).await?;
            assert_eq!(code, 137);
            Ok((look, Instant::now()))
        })
        .await
        .unwrap();
    let (seen, seen_at) = look.await.unwrap();
    assert!(seen_at >= held_until, "the other operation ran before the batch ended");
    assert!(matches!(
        seen.unwrap(),
        ContainerStatus::Stopped | ContainerStatus::Exited
    ));
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Errors inside a batch come out of it; earlier steps stay done.
    let err = c.batch(async |b| b.pause().await).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_sessions_move_as_podmans() {
    let env = TestEnv::new();
    let c = env.create(&["sleep", "100"], |_| {});
    let err = c.exec_create(&cmd(&["true"])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState);
    assert!(
        err.to_string()
            .contains("can only create exec sessions on running containers")
    );
    c.start().await.unwrap();

    // Created, then started detached: its exit code is recorded.
    let quick = c.exec_create(&cmd(&["sh", "-c", "exit 3"])).await.unwrap();
    let inspect = c.exec_inspect(&quick).await.unwrap();
    assert!(!inspect.running && inspect.can_remove);
    assert_eq!(inspect.container_id, c.id());
    let json = serde_json::to_value(&inspect).unwrap();
    assert_eq!(json["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(json["ProcessConfig"]["arguments"], serde_json::json!(["-c", "exit 3"]));
    assert_eq!(json["OpenStdout"], true);
    assert_eq!(json["ID"], quick.as_str());
    c.exec_start(&quick).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while c.exec_inspect(&quick).await.unwrap().running {
        assert!(Instant::now() < deadline, "exec session never ended");
        tokio::time::sleep(FAST).await;
    }
    assert_eq!(c.exec_inspect(&quick).await.unwrap().exit_code, 3);
    let err = c.exec_start(&quick).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ExecSessionStateInvalid, "{err}");
    assert!(
        err.to_string()
            .ends_with("state is \"stopped\": exec session state improper"),
        "{err}"
    );

    // A running session: not removed without force, stopped on request.
    let long = c.exec_create(&cmd(&["sleep", "100"])).await.unwrap();
    let err = c
        .exec_resize(&long, corral_oci::WindowSize { rows: 10, cols: 20 })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ExecSessionStateInvalid, "{err}");
    c.exec_start(&long).await.unwrap();
    let running = c.exec_inspect(&long).await.unwrap();
    assert!(running.running && running.pid > 0 && !running.can_remove);
    let err = c.exec_remove(&long, false).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ExecSessionStateInvalid);
    assert!(err.to_string().contains("is still running, cannot remove"), "{err}");
    c.exec_stop(&long, Some(0)).await.unwrap();
    let stopped = c.exec_inspect(&long).await.unwrap();
    assert!(!stopped.running);
    assert_eq!(stopped.exit_code, 137);
    let err = c.exec_stop(&long, Some(0)).await.unwrap_err();
    assert!(err.to_string().contains("can only stop running sessions"), "{err}");
    c.exec_remove(&long, false).await.unwrap();
    let err = c.exec_inspect(&long).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchExecSession);

    // Force removes a running one.
    let forced = c.exec_create(&cmd(&["sleep", "100"])).await.unwrap();
    c.exec_start(&forced).await.unwrap();
    c.exec_remove(&forced, true).await.unwrap();

    // Attached: output on the streams, the exit code returned and recorded.
    let attached = c.exec_create(&cmd(&["sh", "-c", "echo hi; exit 4"])).await.unwrap();
    assert_eq!(env.rt.exec_session_container(&attached).unwrap().id(), c.id());
    let mut out = Vec::new();
    let code = c
        .exec_start_and_attach(
            &attached,
            AttachStreams::new().stdout(&mut out),
            AttachOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!((code, String::from_utf8(out).unwrap().as_str()), (4, "hi\n"));
    let sessions = c.exec_sessions().await.unwrap();
    let ids: Vec<(&str, ExecStatus, i32)> = sessions.iter().map(|s| (s.id.as_str(), s.state, s.exit_code)).collect();
    assert!(ids.contains(&(attached.as_str(), ExecStatus::Stopped, 4)), "{ids:?}");
    assert!(ids.contains(&(quick.as_str(), ExecStatus::Stopped, 3)), "{ids:?}");
    assert_eq!(ids.len(), 2, "{ids:?}");
    c.exec_remove(&attached, false).await.unwrap();
    c.exec_remove(&quick, false).await.unwrap();

    // The one-call forms leave nothing behind.
    let mut out = Vec::new();
    let code = c
        .exec(
            &cmd(&["echo", "x"]),
            AttachStreams::new().stdout(&mut out),
            AttachOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert!(c.exec_sessions().await.unwrap().is_empty());
    c.kill(9).await.unwrap();
    wait(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_listing_and_prune() {
    let env = TestEnv::new();
    let base = env.create(&["sh", "-c", "head -c 100000 /dev/zero > /big"], |s| {
        s.name = Some("base".into());
        s.labels.insert("tier".into(), "db".into());
    });
    base.start().await.unwrap();
    assert_eq!(wait(&base).await, 0);
    let dependent = env.create(&["true"], |s| {
        s.name = Some("dependent".into());
        s.requires = vec!["base".into()];
    });
    let running = env
        .run(&["sleep", "100"], |s| {
            s.name = Some("running".into());
            s.labels.insert("tier".into(), "web".into());
        })
        .await;

    let names = |listed: Vec<(corral_core::Container, corral_define::ContainerState)>| {
        listed.iter().map(|(c, _)| c.name().to_string()).collect::<Vec<_>>()
    };
    let rt = &env.rt;
    assert_eq!(
        names(rt.get_containers_filtered(&filters(&[])).await.unwrap()),
        ["running", "dependent", "base"]
    );
    assert_eq!(
        names(rt.get_containers_filtered(&filters(&["status=running"])).await.unwrap()),
        ["running"]
    );
    assert_eq!(
        names(rt.get_containers_filtered(&filters(&["status=created"])).await.unwrap()),
        ["dependent"]
    );
    assert_eq!(
        names(rt.get_containers_filtered(&filters(&["label=tier"])).await.unwrap()),
        ["running", "base"]
    );
    assert_eq!(
        names(rt.get_containers_filtered(&filters(&["since=base"])).await.unwrap()),
        ["running", "dependent"]
    );
    assert_eq!(
        names(
            rt.get_containers_filtered(&filters(&["before=dependent"]))
                .await
                .unwrap()
        ),
        ["base"]
    );
    let err = rt
        .get_containers_filtered(&filters(&["since=nosuch"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchContainer);

    // The graph orders them: base before dependent.
    let graph = ContainerGraph::of_containers([&dependent, &running, &base]).unwrap();
    assert_eq!(graph.start_order(), [base.id(), dependent.id(), running.id()]);
    assert_eq!(graph.stop_order(), [running.id(), dependent.id(), base.id()]);
    assert_eq!(rt.container_graph().unwrap().dependents(base.id()), [dependent.id()]);

    // A label filter keeps the rest.
    let pruned = rt
        .prune_containers(&ContainerFilters::parse_prune(&["label=tier=nothing".into()]).unwrap())
        .await
        .unwrap();
    assert!(pruned.is_empty());
    // Dependent first, so base can go too; the running one stays.
    let pruned = rt.prune_containers(&ContainerFilters::default()).await.unwrap();
    let ids: Vec<&str> = pruned.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [dependent.id(), base.id()]);
    assert!(pruned.iter().all(|r| r.error.is_none()), "{pruned:?}");
    assert!(pruned[1].size >= 100_000, "{pruned:?}");
    assert_eq!(
        names(rt.get_containers_filtered(&filters(&[])).await.unwrap()),
        ["running"]
    );
    running.kill(9).await.unwrap();
    wait(&running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evict_removes_broken_containers() {
    let env = TestEnv::new();
    let rt = &env.rt;
    // Storage gone behind corral's back.
    let no_storage = env.create(&["true"], |s| s.name = Some("no-storage".into()));
    rt.storage().unwrap().remove_container(no_storage.id(), true).unwrap();
    assert_eq!(rt.evict_container("no-storage", false).await.unwrap(), no_storage.id());
    assert_eq!(
        rt.lookup_container("no-storage").unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
    assert!(!rt.bundle_dir(no_storage.id()).exists());

    // Its lock file gone: no handle can be made, evict still removes it all.
    let no_lock = env.run(&["sleep", "100"], |s| s.name = Some("no-lock".into())).await;
    let lock_file = env.path().join("run/locks").join(no_lock.config().lock_id.to_string());
    std::fs::remove_file(&lock_file).unwrap();
    assert!(rt.lookup_container("no-lock").is_err());
    assert_eq!(rt.evict_container("no-lock", true).await.unwrap(), no_lock.id());
    assert!(!rt.state().has_container(no_lock.id()).unwrap());
    assert!(rt.storage().unwrap().container(no_lock.id()).is_err());

    // A healthy one is removed the normal way, forced.
    let healthy = env.run(&["sleep", "100"], |s| s.stop_timeout = Some(0)).await;
    rt.evict_container(healthy.id(), false).await.unwrap();
    assert!(rt.get_containers().unwrap().is_empty());
    let err = rt.evict_container("nosuch", false).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchContainer);
}
