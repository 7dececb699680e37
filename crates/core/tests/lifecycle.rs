//! The container lifecycle through real conmon and crun on the busybox image.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{TestEnv, log_text, wait};
use corral_core::{LogOptions, RemoveOptions, RestartPolicy};
use corral_define::{ContainerStatus, ErrorKind, HasKind};
use corral_storage::ContainerFsStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_output_reaches_the_log() {
    let env = TestEnv::new();
    let c = env.run(&["echo", "hi"], |_| {}).await;
    assert_eq!(wait(&c).await, 0);
    assert_eq!(log_text(&c), "hi\n");
    let lines = c.logs(&LogOptions::default()).unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].display(true).ends_with(" hi"));
    let st = c.state().await.unwrap();
    assert_eq!(st.state, ContainerStatus::Stopped);
    assert!(st.finished_time.is_some() && st.started_time.is_some());
    env.rt.cleanup_container(c.id()).await.unwrap();
    let st = c.state().await.unwrap();
    assert_eq!(st.state, ContainerStatus::Exited);
    assert!(!st.mounted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_and_restart_of_an_exited_container() {
    let env = TestEnv::new();
    let c = env.run(&["sh", "-c", "echo run; exit 3"], |_| {}).await;
    assert_eq!(wait(&c).await, 3);
    c.start().await.unwrap();
    assert_eq!(wait(&c).await, 3);
    assert_eq!(log_text(&c), "run\nrun\n");
    let ok = env.run(&["true"], |_| {}).await;
    assert_eq!(wait(&ok).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_timeouts() {
    let env = TestEnv::new();
    let c = env.run(&["sleep", "100"], |_| {}).await;
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Running);
    let t = Instant::now();
    c.stop(Some(0)).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let st = c.state().await.unwrap();
    assert_eq!((st.state, st.exit_code), (ContainerStatus::Exited, 137));
    assert!(!st.mounted && st.stopped_by_user);

    // PID 1 ignores SIGTERM: after the 1s timeout comes SIGKILL.
    c.start().await.unwrap();
    let t = Instant::now();
    c.stop(Some(1)).await.unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(c.state().await.unwrap().exit_code, 137);

    // With an init, SIGTERM reaches sleep and ends it.
    let c = env.run(&["sleep", "100"], |s| s.init = true).await;
    // A SIGTERM that comes before the init has started sleep is lost: wait for it.
    let args = ["-o".to_string(), "args".to_string()];
    let started = Instant::now();
    while !c.top(&args).await.unwrap().iter().any(|l| l.trim() == "sleep 100") {
        assert!(started.elapsed() < Duration::from_secs(30), "sleep never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.stop(Some(30)).await.unwrap();
    assert_eq!(c.state().await.unwrap().exit_code, 143);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_unpause_kill_and_invalid_moves() {
    let env = TestEnv::new();
    let c = env.create(&["sleep", "100"], |_| {});
    let err = c.pause().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    c.start().await.unwrap();
    let err = c.unpause().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    let err = c.start().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");

    c.pause().await.unwrap();
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Paused);
    let err = c.pause().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    c.unpause().await.unwrap();
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Running);

    let err = c.remove(RemoveOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Running);

    c.kill(9).await.unwrap();
    assert_eq!(wait(&c).await, 137);

    // Paused containers stop too.
    c.start().await.unwrap();
    c.pause().await.unwrap();
    c.stop(Some(0)).await.unwrap();
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Exited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_takes_everything_away() {
    let env = TestEnv::new();
    let c = env.run(&["sleep", "100"], |s| s.name = Some("doomed".into())).await;
    let bundle = env.rt.bundle_dir(c.id());
    let static_dir = env.rt.container_static_dir(c.id());
    assert!(bundle.join("config.json").exists());
    c.remove(RemoveOptions {
        force: true,
        timeout: Some(0),
    })
    .await
    .unwrap();
    assert_eq!(
        env.rt.lookup_container("doomed").unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
    assert!(!bundle.exists() && !static_dir.exists());
    assert!(env.rt.storage().unwrap().containers().unwrap().is_empty());
    // The name is free again.
    let again = env.create(&["true"], |s| s.name = Some("doomed".into()));
    again.remove(RemoveOptions::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_policy_and_auto_remove() {
    let env = TestEnv::new();
    let c = env
        .run(&["sh", "-c", "echo run; exit 1"], |s| {
            s.restart = RestartPolicy::OnFailure { max_retries: 2 }
        })
        .await;
    // What conmon's exit command would do after each exit.
    for _ in 0..3 {
        assert_eq!(wait(&c).await, 1);
        env.rt.cleanup_container(c.id()).await.unwrap();
    }
    let st = c.state().await.unwrap();
    assert_eq!((st.state, st.restart_count), (ContainerStatus::Exited, 2));
    assert_eq!(log_text(&c), "run\nrun\nrun\n");

    let gone = env.run(&["true"], |s| s.auto_remove = true).await;
    assert_eq!(wait(&gone).await, 0);
    env.rt.cleanup_container(gone.id()).await.unwrap();
    assert_eq!(
        env.rt.lookup_container(gone.id()).unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_env_workdir_hostname_and_read_only() {
    let env = TestEnv::new();
    let c = env
        .run(
            &["sh", "-c", "id -u; id -g; echo $HOME; echo $FOO; pwd; hostname"],
            |s| {
                s.user = Some("corral".into());
                s.env.insert("FOO".into(), "bar".into());
                s.workdir = Some("/var/www".into());
                s.hostname = Some("box".into());
            },
        )
        .await;
    assert_eq!(wait(&c).await, 0);
    assert_eq!(log_text(&c), "1000\n1000\n/home/corral\nbar\n/var/www\nbox\n");

    let ro = env
        .run(
            &[
                "sh",
                "-c",
                "touch /x 2>/dev/null && echo rw || echo ro; touch /tmp/x && echo tmp-ok",
            ],
            |s| s.read_only = true,
        )
        .await;
    assert_eq!(wait(&ro).await, 0);
    assert_eq!(log_text(&ro), "ro\ntmp-ok\n");

    let rw = env.run(&["sh", "-c", "touch /x && echo rw"], |_| {}).await;
    assert_eq!(wait(&rw).await, 0);
    assert_eq!(log_text(&rw), "rw\n");
}
