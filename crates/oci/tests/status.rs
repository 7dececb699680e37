//! pause, the runtime's own state, and a conmon that dies, through real
//! conmon with crun and runc.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{env, eventually, run, wait_log, wait_stopped};
use corral_define::ContainerStatus;
use corral_oci::{CONMON_DIED_MESSAGE, OciRuntime};

/// Prints an increasing count ten times a second.
const COUNTER: &str = "i=0; while :; do i=$((i+1)); echo n$i; sleep 0.1; done";

fn count_lines(ctr: &corral_oci::ContainerHandle) -> usize {
    common::log(ctr).lines().filter(|l| l.contains(" n")).count()
}

async fn pause_freezes(runtime: &str) {
    let (env, rt) = env(runtime);
    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", COUNTER]).await;
    wait_log(&ctr, "n3").await;

    rt.pause_container(&ctr, &mut state).await.unwrap();
    assert_eq!(state.state, ContainerStatus::Paused);
    let mut asked = state.clone();
    rt.sync_container_status(&ctr, &mut asked).await.unwrap();
    assert_eq!(asked.state, ContainerStatus::Paused, "the runtime agrees");
    // Output already in flight may still land; after that, nothing moves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let frozen = count_lines(&ctr);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count_lines(&ctr), frozen, "a paused container kept counting");
    rt.update_container_status(&ctr, &mut state).await.unwrap();
    assert_eq!(state.state, ContainerStatus::Paused);

    rt.unpause_container(&ctr, &mut state).await.unwrap();
    assert_eq!(state.state, ContainerStatus::Running);
    eventually("counting to resume", || count_lines(&ctr) > frozen + 2).await;
    let mut asked = state.clone();
    rt.sync_container_status(&ctr, &mut asked).await.unwrap();
    assert_eq!(asked.state, ContainerStatus::Running);

    rt.stop_container(&ctr, &state, 0, true).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    let mut asked = state.clone();
    rt.sync_container_status(&ctr, &mut asked).await.unwrap();
    assert_eq!(asked.state, ContainerStatus::Stopped);
    assert_eq!(asked.exit_code, 137, "the exit file completes the runtime's answer");

    rt.delete_container(&ctr).await.unwrap();
    let mut asked = state.clone();
    rt.sync_container_status(&ctr, &mut asked).await.unwrap();
    assert_eq!((asked.state, asked.exit_code), (ContainerStatus::Exited, -1));
}

async fn killed_conmon_is_noticed(runtime: &str) {
    let (env, rt) = env(runtime);
    let (ctr, mut state) = run(&env, &rt, &["sleep", "1000"]).await;
    assert!(rt.check_conmon_running(&ctr, &state).unwrap());
    let container_pid = state.pid;
    let conmon = rustix::process::Pid::from_raw(state.conmon_pid).unwrap();
    rustix::process::kill_process(conmon, rustix::process::Signal::KILL).unwrap();
    eventually("conmon to be gone", || !rt.check_conmon_running(&ctr, &state).unwrap()).await;

    rt.update_container_status(&ctr, &mut state).await.unwrap();
    assert_eq!(state.state, ContainerStatus::Stopped);
    assert_eq!(state.exit_code, -1);
    assert_eq!(state.error, CONMON_DIED_MESSAGE);
    assert!(state.exited);
    // The orphaned container process was ended.
    eventually("the container process to die", || {
        rustix::process::test_kill_process(rustix::process::Pid::from_raw(container_pid).unwrap()).is_err()
    })
    .await;
}

async fn info_and_flags(runtime: &str) {
    let (_env, rt) = env(runtime);
    let info = rt.runtime_info().await.unwrap();
    assert_eq!(info.runtime.name, runtime);
    assert!(info.runtime.version.contains(runtime), "{info:?}");
    let conmon = info.conmon.unwrap();
    assert!(conmon.version.starts_with("conmon version"), "{conmon:?}");
    assert!(rt.supports_json_errors());
    assert!(!rt.supports_kvm());
    assert_eq!(rt.supports_no_cgroups(), runtime == "crun");
}

both_runtimes!(pause_freezes, killed_conmon_is_noticed, info_and_flags);
