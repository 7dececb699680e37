//! Container lifecycle through real conmon with crun and runc.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{env, run, wait_stopped};

async fn exit_codes(runtime: &str) {
    let (env, rt) = env(runtime);
    for (script, code) in [
        ("exit 0", 0),
        ("exit 1", 1),
        ("sh -c 'kill -KILL $$'; exit $?", 137),
        ("sh -c 'kill -TERM $$'; exit $?", 143),
    ] {
        let (ctr, mut state) = run(&env, &rt, &["sh", "-c", script]).await;
        wait_stopped(&rt, &ctr, &mut state).await;
        assert_eq!(state.exit_code, code, "{script} under {runtime}");
        assert!(state.exited && state.finished_time.is_some());
        assert_eq!((state.pid, state.conmon_pid), (0, 0));
    }
}

both_runtimes!(exit_codes);

async fn missing_command_is_127(runtime: &str) {
    use corral_define::{ContainerState, ErrorKind, HasKind};
    use corral_oci::OciRuntime;
    let (env, rt) = env(runtime);
    let ctr = env.container(&["/no/such/command"]).unwrap();
    let mut state = ContainerState::default();
    let err = match rt.create_container(&ctr, &mut state, None).await {
        Err(e) => e,
        Ok(_) => rt.start_container(&ctr, &mut state).await.unwrap_err(),
    };
    println!("{runtime}: {err}");
    assert_eq!(err.kind(), ErrorKind::CommandNotFound, "{err}");
    assert!(err.to_string().starts_with(runtime), "{err}");

    std::fs::write(env.rootfs().join("etc/not-executable"), "").ok();
    let ctr = env.container(&["/etc/not-executable"]).unwrap();
    let mut state = ContainerState::default();
    let err = match rt.create_container(&ctr, &mut state, None).await {
        Err(e) => e,
        Ok(_) => rt.start_container(&ctr, &mut state).await.unwrap_err(),
    };
    println!("{runtime}: {err}");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
}

both_runtimes!(missing_command_is_127);

async fn exit_command_and_log_limit(runtime: &str) {
    use corral_define::ContainerState;
    use corral_oci::OciRuntime;
    let (env, rt) = env(runtime);
    let script = "i=0; while [ $i -lt 200 ]; do echo line-$i-padding-padding; i=$((i+1)); done";
    let mut ctr = env.container(&["sh", "-c", script]).unwrap();
    let marker = env.path().join("cleaned");
    ctr.exit_command = vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("echo \"$0 $1\" > {}", marker.display()),
        "cleanup".into(),
        ctr.id.clone(),
    ];
    ctr.log_size_max = 1000;
    let mut state = ContainerState::default();
    rt.create_container(&ctr, &mut state, None).await.unwrap();
    rt.start_container(&ctr, &mut state).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 0);
    common::eventually("the exit command to run", || marker.exists()).await;
    common::eventually("the exit command to finish", || {
        std::fs::read_to_string(&marker).is_ok_and(|t| t.ends_with('\n'))
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        format!("cleanup {}\n", ctr.id)
    );
    let log = common::log(&ctr);
    assert!(log.len() <= 1000, "log of {} bytes exceeds its limit", log.len());
    assert!(log.contains("line-199-padding"), "the last lines are kept: {log}");
    let persist = rt.persist_directory_path(&ctr).unwrap();
    assert_eq!(std::fs::read_to_string(persist.join("exit")).unwrap(), "0");
}

both_runtimes!(exit_command_and_log_limit);

async fn missing_bundle_is_named(runtime: &str) {
    use corral_define::{ContainerState, ErrorKind, HasKind};
    use corral_oci::OciRuntime;
    let (env, rt) = env(runtime);
    let mut ctr = env.container(&["true"]).unwrap();
    ctr.bundle_dir = env.path().join("no-such-bundle");
    let mut state = ContainerState::default();
    let err = rt.create_container(&ctr, &mut state, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("no-such-bundle/config.json"), "{err}");
}

both_runtimes!(missing_bundle_is_named);
