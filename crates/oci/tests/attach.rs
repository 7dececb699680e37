//! A container's attach socket and terminal through real conmon with crun
//! and runc, streamed with corral-attach.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{WAIT, env, wait_log, wait_stopped};
use corral_attach::{AttachEnd, AttachOptions, AttachStreams};
use corral_define::ContainerState;
use corral_oci::{OciRuntime, WindowSize};

async fn attach_stdio(runtime: &str) {
    let (env, rt) = env(runtime);
    let mut ctr = env
        .container(&["sh", "-c", "echo started >&2; cat; echo done"])
        .unwrap();
    ctr.stdin = true;
    let mut state = ContainerState::default();
    rt.create_container(&ctr, &mut state, None).await.unwrap();
    let socket = rt.attach_socket_path(&ctr).unwrap();
    assert_eq!(socket, ctr.bundle_dir.join("attach"));
    let conn = corral_attach::AttachSocket::connect(&socket).unwrap();
    rt.start_container(&ctr, &mut state).await.unwrap();

    let (mut out, mut err) = (Vec::new(), Vec::new());
    let streams = AttachStreams::new()
        .stdin(&b"ping\n"[..])
        .stdout(&mut out)
        .stderr(&mut err);
    let end = tokio::time::timeout(
        WAIT,
        corral_attach::attach_connected(&conn, streams, AttachOptions::default()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    assert_eq!(String::from_utf8(out).unwrap(), "ping\ndone\n");
    assert_eq!(String::from_utf8(err).unwrap(), "started\n");
    wait_stopped(&rt, &ctr, &mut state).await;
    assert_eq!(state.exit_code, 0);
}

async fn terminal_resize(runtime: &str) {
    let (env, rt) = env(runtime);
    let script = "while :; do echo size=$(stty size); sleep 0.1; done";
    let ctr = env.container_with(&["sh", "-c", script], true).unwrap();
    let mut state = ContainerState::default();
    rt.create_container(&ctr, &mut state, None).await.unwrap();
    rt.start_container(&ctr, &mut state).await.unwrap();
    wait_log(&ctr, "size=").await;
    rt.attach_resize(&ctr, WindowSize { rows: 30, cols: 100 })
        .await
        .unwrap();
    wait_log(&ctr, "size=30 100").await;
    rt.stop_container(&ctr, &state, 0, true).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
}

both_runtimes!(attach_stdio, terminal_resize);
