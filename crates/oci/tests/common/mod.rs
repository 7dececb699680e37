//! Shared helpers of the integration tests: run real containers through
//! conmon with crun or runc.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use corral_define::{ContainerState, ContainerStatus};
use corral_oci::testutil::TestEnv;
use corral_oci::{ConmonRuntime, ContainerHandle, OciRuntime};

/// Generous: the machine is shared and loaded.
pub const WAIT: Duration = Duration::from_secs(60);

/// Generates a `crun` and a `runc` test calling `$name(runtime_name)`.
#[macro_export]
macro_rules! both_runtimes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn crun() {
                super::$name("crun").await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn runc() {
                super::$name("runc").await
            }
        }
    )*};
}

pub fn env(runtime: &str) -> (TestEnv, ConmonRuntime) {
    let mut env = TestEnv::new(runtime).expect("test environment");
    let rt = env.runtime().expect("runtime found");
    (env, rt)
}

/// Creates and starts a container running `args`.
pub async fn run(env: &TestEnv, rt: &ConmonRuntime, args: &[&str]) -> (ContainerHandle, ContainerState) {
    let ctr = env.container(args).expect("bundle");
    let mut state = ContainerState::default();
    rt.create_container(&ctr, &mut state, None).await.expect("create");
    assert_eq!(state.state, ContainerStatus::Created);
    assert!(state.pid > 0 && state.conmon_pid > 0, "{state:?}");
    rt.start_container(&ctr, &mut state).await.expect("start");
    assert_eq!(state.state, ContainerStatus::Running);
    (ctr, state)
}

/// Polls the exit file until the container is seen stopped.
pub async fn wait_stopped(rt: &ConmonRuntime, ctr: &ContainerHandle, state: &mut ContainerState) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        rt.update_container_status(ctr, state).await.expect("update status");
        if state.state == ContainerStatus::Stopped {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "container never stopped: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls until `cond` holds, failing after [`WAIT`].
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut cond: F) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The container's k8s-file log so far ("" before it exists).
pub fn log(ctr: &ContainerHandle) -> String {
    std::fs::read_to_string(&ctr.log_path).unwrap_or_default()
}

/// Waits until the container's log holds `needle`.
pub async fn wait_log(ctr: &ContainerHandle, needle: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !log(ctr).contains(needle) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "log never showed {needle:?}; log:\n{}",
            log(ctr)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
