//! Exec sessions through real conmon with crun and runc.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{WAIT, env, eventually, run, wait_log, wait_stopped};
use corral_attach::{AttachEnd, AttachOptions, AttachStreams};
use corral_define::{ErrorKind, ExecSession, HasKind};
use corral_oci::{ConmonRuntime, ContainerHandle, ExecOptions, OciRuntime, WindowSize, wait_for_exit_file};

fn cmd(args: &[&str]) -> ExecOptions {
    ExecOptions {
        command: args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Runs an attached exec session to its end: (stdout, stderr, exit code).
async fn exec_attached(
    rt: &ConmonRuntime,
    ctr: &ContainerHandle,
    id: &str,
    opts: &ExecOptions,
    stdin: Option<&[u8]>,
    size: Option<WindowSize>,
) -> (String, String, i32) {
    let session = rt.exec_container(ctr, id, opts, stdin.is_some(), size).await.unwrap();
    assert!(session.pid > 0);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut streams = AttachStreams::new().stdout(&mut out).stderr(&mut err);
    if let Some(input) = stdin {
        streams = streams.stdin(input);
    }
    let end = session.attach(streams, AttachOptions::default()).await.unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    let code = session.wait(WAIT).await.unwrap();
    (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap(), code)
}

async fn detached_exec(runtime: &str) {
    let (env, rt) = env(runtime);
    let (ctr, mut state) = run(&env, &rt, &["sh", "-c", "echo ready; sleep 1000"]).await;
    wait_log(&ctr, "ready").await;

    let mut opts = cmd(&["sh", "-c", "echo $GREETING > /tmp/out; exit 3"]);
    opts.env.insert("GREETING".into(), "hello".into());
    let pid = rt.exec_container_detached(&ctr, "s1", &opts, false).await.unwrap();
    assert!(pid > 0);
    let exit = wait_for_exit_file(&ctr.exec_exit_file("s1"), WAIT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code, 3);
    assert_eq!(rt.exec_exit_code(&ctr, "s1").unwrap(), Some(3));
    let written = std::fs::read_to_string(format!("/proc/{}/root/tmp/out", state.pid)).unwrap();
    assert_eq!(written, "hello\n");
    rt.exec_container_cleanup(&ctr, "s1").await.unwrap();
    assert!(!ctr.exec_bundle_dir("s1").exists());

    // A long session: alive until stopped (SIGKILL at once with timeout 0).
    let pid = rt
        .exec_container_detached(&ctr, "s2", &cmd(&["sleep", "1000"]), false)
        .await
        .unwrap();
    let session = ExecSession {
        id: "s2".into(),
        pid,
        ..Default::default()
    };
    assert!(rt.exec_update_status(&ctr, &session).unwrap());
    rt.exec_stop_container(&ctr, &session, 0).await.unwrap();
    eventually("the session to end", || !rt.exec_update_status(&ctr, &session).unwrap()).await;
    let exit = wait_for_exit_file(&ctr.exec_exit_file("s2"), WAIT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code, 137);

    // A session that handles TERM ends with its own code. It says when its
    // trap is set, so the signal cannot come first.
    let trap = "trap 'exit 7' TERM; touch /tmp/trapped; while :; do sleep 0.1; done";
    let pid = rt
        .exec_container_detached(&ctr, "s3", &cmd(&["sh", "-c", trap]), false)
        .await
        .unwrap();
    let session = ExecSession {
        id: "s3".into(),
        pid,
        ..Default::default()
    };
    let marker = format!("/proc/{}/root/tmp/trapped", state.pid);
    eventually("the session's trap", || std::path::Path::new(&marker).exists()).await;
    rt.exec_stop_container(&ctr, &session, 30).await.unwrap();
    let exit = wait_for_exit_file(&ctr.exec_exit_file("s3"), WAIT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit.code, 7);

    // Exec errors carry the runtime's message and podman's kinds.
    let err = rt
        .exec_container_detached(&ctr, "s4", &cmd(&["/no/such/thing"]), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CommandNotFound, "{err}");
    let err = rt
        .exec_container_detached(&ctr, "s5", &cmd(&["/etc/passwd"]), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = rt
        .exec_container_detached(&ctr, "s6", &cmd(&[]), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArg);

    rt.stop_container(&ctr, &state, 0, true).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
}

async fn attached_exec(runtime: &str) {
    let (env, rt) = env(runtime);
    let (ctr, mut state) = run(&env, &rt, &["sleep", "1000"]).await;

    let script = "echo out-1; echo err-1 >&2; echo out-2; exit 42";
    let got = exec_attached(&rt, &ctr, "a1", &cmd(&["sh", "-c", script]), None, None).await;
    assert_eq!(got, ("out-1\nout-2\n".into(), "err-1\n".into(), 42));

    // Stdin reaches the process; its end is the process's end of input.
    let got = exec_attached(&rt, &ctr, "a2", &cmd(&["cat"]), Some(b"hello\nworld\n"), None).await;
    assert_eq!(got, ("hello\nworld\n".into(), String::new(), 0));

    // A terminal of the requested size. runc sizes it before the process
    // starts (consoleSize); crun 1.8 leaves that to conmon's resize, which
    // can land just after the start, so the script waits for it. The last
    // sleep keeps the session alive while conmon drains the terminal: a tty
    // session that exits at once can lose its last output in conmon 2.1.6.
    let script = "for i in $(seq 200); do s=$(stty size 2>/dev/null); [ \"$s\" = '40 120' ] && break; sleep 0.05; done; \
        echo size=$s; sleep 0.3";
    let mut tty = cmd(&["sh", "-c", script]);
    tty.terminal = true;
    let size = WindowSize { rows: 40, cols: 120 };
    let (out, err, code) = exec_attached(&rt, &ctr, "a3", &tty, None, Some(size)).await;
    assert_eq!((out.trim_end(), err.as_str(), code), ("size=40 120", "", 0));

    // Quick exits lose no output.
    for i in 0..3 {
        let id = format!("q{i}");
        let got = exec_attached(&rt, &ctr, &id, &cmd(&["echo", &id]), None, None).await;
        assert_eq!(got, (format!("{id}\n"), String::new(), 0));
        rt.exec_container_cleanup(&ctr, &id).await.unwrap();
    }

    // A missing command fails before anything is attached.
    let err = rt
        .exec_container(&ctr, "a4", &cmd(&["/no/such/thing"]), false, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CommandNotFound, "{err}");

    rt.stop_container(&ctr, &state, 0, true).await.unwrap();
    wait_stopped(&rt, &ctr, &mut state).await;
}

both_runtimes!(detached_exec, attached_exec);
