//! kill and stop through real conmon with crun and runc.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{env, run, wait_log, wait_stopped};
use corral_define::{ContainerStatus, ErrorKind, HasKind};
use corral_oci::OciRuntime;

/// Reports each trapped signal on stdout; INT and TERM end it.
const TRAPS: &str = "trap 'echo got-HUP' HUP; trap 'echo got-USR1' USR1; \
    trap 'echo got-INT; exit 12' INT; trap 'echo got-TERM; exit 13' TERM; \
    echo ready; while :; do sleep 0.1; done";

async fn kill_signals(runtime: &str) {
    let (env, rt) = env(runtime);

    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", TRAPS]).await;
    wait_log(&ctr, "ready").await;
    rt.kill_container(&ctr, &state, 1, false).await.unwrap();
    wait_log(&ctr, "got-HUP").await;
    rt.kill_container(&ctr, &state, 10, false).await.unwrap();
    wait_log(&ctr, "got-USR1").await;
    rt.update_container_status(&ctr, &mut state).await.unwrap();
    assert_eq!(state.state, ContainerStatus::Running, "HUP and USR1 are survived");
    rt.kill_container(&ctr, &state, 15, false).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 13);
    assert!(common::log(&ctr).contains("got-TERM"));

    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", TRAPS]).await;
    wait_log(&ctr, "ready").await;
    rt.kill_container(&ctr, &state, 2, false).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 12);

    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", "sleep 1000 & sleep 1000"]).await;
    let pid = state.pid;
    rt.kill_container(&ctr, &state, 9, true).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 137);
    // The container is gone: signalling it again is an invalid state.
    let gone = corral_define::ContainerState { pid, ..state.clone() };
    let err = rt.kill_container(&ctr, &gone, 15, false).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
}

/// Ignores TERM: only SIGKILL ends it.
const STUBBORN: &str = "trap '' TERM; echo ready; while :; do sleep 0.1; done";

async fn stop_with_timeouts(runtime: &str) {
    let (env, rt) = env(runtime);

    // TERM is ignored: SIGKILL after the one-second timeout.
    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", STUBBORN]).await;
    wait_log(&ctr, "ready").await;
    let began = Instant::now();
    rt.stop_container(&ctr, &state, 1, false).await.unwrap();
    assert!(
        began.elapsed() >= Duration::from_secs(1),
        "SIGKILL came before the timeout"
    );
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 137);

    // TERM is handled: the container ends well within the timeout.
    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", TRAPS]).await;
    wait_log(&ctr, "ready").await;
    let began = Instant::now();
    rt.stop_container(&ctr, &state, 50, false).await.unwrap();
    assert!(began.elapsed() < Duration::from_secs(50));
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 13);

    // Timeout 0: SIGKILL at once, the TERM trap never runs.
    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", TRAPS]).await;
    wait_log(&ctr, "ready").await;
    rt.stop_container(&ctr, &state, 0, false).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 137);
    assert!(!common::log(&ctr).contains("got-TERM"));

    // A custom stop signal.
    let mut ctr = env.container(&["sh", "-c", TRAPS]).unwrap();
    ctr.stop_signal = 2;
    let mut state = corral_define::ContainerState::default();
    rt.create_container(&ctr, &mut state, None).await.unwrap();
    rt.start_container(&ctr, &mut state).await.unwrap();
    wait_log(&ctr, "ready").await;
    rt.stop_container(&ctr, &state, 30, false).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 12);

    // Stopping a stopped container is a no-op.
    rt.stop_container(&ctr, &state, 0, false).await.unwrap();
    rt.delete_container(&ctr).await.unwrap();
}

both_runtimes!(kill_signals, stop_with_timeouts);
