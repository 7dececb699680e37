//! Checkpoint and restore through the runtime and CRIU, where this kernel
//! and runtime allow it; otherwise the test shows the clear error and says
//! why it skips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{env, eventually, run, wait_log, wait_stopped};
use corral_define::{ContainerStatus, ErrorKind, HasKind};
use corral_oci::{CheckpointOptions, OciError, OciRuntime, RestoreOptions};

async fn checkpoint_restore(runtime: &str) {
    let (env, rt) = env(runtime);
    let counter = "i=0; while :; do i=$((i+1)); echo n$i; sleep 0.1; done";
    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", counter]).await;
    wait_log(&ctr, "n2").await;

    let opts = CheckpointOptions::default();
    if !rt.supports_checkpoint() {
        let err = rt.checkpoint_container(&ctr, &mut state, &opts).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotImplemented);
        assert!(err.to_string().contains(runtime), "{err}");
        println!("SKIP checkpoint/restore with {runtime}: {err}");
        return;
    }
    match rt.checkpoint_container(&ctr, &mut state, &opts).await {
        Err(err @ OciError::Runtime { .. }) => {
            // CRIU cannot work on every kernel (this one's vDSO, for one).
            assert!(err.to_string().starts_with(runtime), "{err}");
            assert_eq!(
                state.state,
                ContainerStatus::Running,
                "a failed checkpoint changes nothing"
            );
            println!("SKIP checkpoint/restore with {runtime}: CRIU failed here: {err}");
        }
        Err(other) => panic!("unexpected checkpoint error: {other}"),
        Ok(_) => {
            assert!(state.checkpointed);
            assert_eq!(state.state, ContainerStatus::Stopped);
            wait_stopped(&rt, &ctr, &mut state).await;
            rt.delete_container(&ctr).await.unwrap();
            let before = common::log(&ctr).lines().count();
            rt.create_container(&ctr, &mut state, Some(&RestoreOptions::default()))
                .await
                .unwrap();
            assert_eq!(state.state, ContainerStatus::Running);
            eventually("the restored counter to go on", || {
                common::log(&ctr).lines().count() > before + 2
            })
            .await;
            rt.stop_container(&ctr, &state, 0, true).await.unwrap();
            wait_stopped(&rt, &ctr, &mut state).await;
        }
    }
}

both_runtimes!(checkpoint_restore);
