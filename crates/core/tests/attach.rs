//! Attaching to containers' main processes under real conmon and crun.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestEnv, WAIT, wait};
use corral_core::{AttachEnd, AttachOptions, AttachStreams};
use corral_define::{ContainerStatus, ErrorKind, HasKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_and_attach_gets_all_output_and_the_exit_code() {
    let env = TestEnv::new();
    let c = env.create(&["sh", "-c", "echo hi; echo err >&2; exit 4"], |_| {});
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let streams = AttachStreams::new().stdout(&mut out).stderr(&mut err);
    let code = tokio::time::timeout(WAIT, c.start_and_attach(streams, AttachOptions::default()))
        .await
        .expect("attach never ended")
        .unwrap();
    assert_eq!(code, Some(4));
    assert_eq!(String::from_utf8(out).unwrap(), "hi\n");
    assert_eq!(String::from_utf8(err).unwrap(), "err\n");
    assert_eq!(c.status().await.unwrap(), ContainerStatus::Stopped);

    // Attaching to a stopped container is refused; starting it again attaches again.
    let err = c
        .attach(AttachStreams::new().stdout(Vec::new()), AttachOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    let mut out = Vec::new();
    let code = c
        .start_and_attach(AttachStreams::new().stdout(&mut out), AttachOptions::default())
        .await
        .unwrap();
    assert_eq!((code, out.as_slice()), (Some(4), b"hi\n".as_slice()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_reaches_the_process_only_when_kept_open() {
    let env = TestEnv::new();
    let c = env.create(&["sh", "-c", "cat; echo done"], |s| s.stdin = true);
    let mut out = Vec::new();
    let streams = AttachStreams::new().stdin(&b"hello\nworld\n"[..]).stdout(&mut out);
    let code = tokio::time::timeout(WAIT, c.start_and_attach(streams, AttachOptions::default()))
        .await
        .expect("attach never ended")
        .unwrap();
    assert_eq!(code, Some(0));
    assert_eq!(String::from_utf8(out).unwrap(), "hello\nworld\ndone\n");

    // Without -i the container's stdin is closed and the caller's is ignored.
    let c = env.create(&["sh", "-c", "cat; echo done"], |_| {});
    let mut out = Vec::new();
    let streams = AttachStreams::new().stdin(&b"ignored\n"[..]).stdout(&mut out);
    let code = c.start_and_attach(streams, AttachOptions::default()).await.unwrap();
    assert_eq!((code, String::from_utf8(out).unwrap().as_str()), (Some(0), "done\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_to_a_running_container() {
    let env = TestEnv::new();
    let c = env
        .run(&["sh", "-c", "read line; echo got $line; exit 2"], |s| s.stdin = true)
        .await;
    let mut out = Vec::new();
    let streams = AttachStreams::new().stdin(&b"x\n"[..]).stdout(&mut out);
    let end = tokio::time::timeout(WAIT, c.attach(streams, AttachOptions::default()))
        .await
        .expect("attach never ended")
        .unwrap();
    assert_eq!(end, AttachEnd::OutputEnded);
    assert_eq!(String::from_utf8(out).unwrap(), "got x\n");
    assert_eq!(wait(&c).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_code_of_a_container_removed_at_exit() {
    let env = TestEnv::new();
    let c = env.create(&["sh", "-c", "echo bye; exit 5"], |s| s.auto_remove = true);
    // Plays conmon's exit command, which removes the container as soon as it exits.
    let rt = env.rt.clone();
    let id = c.id().to_string();
    let exit_command = tokio::spawn(async move {
        while let Ok(c) = rt.lookup_container(&id) {
            if c.status().await.is_ok_and(|s| s == ContainerStatus::Stopped) {
                c.cleanup().await.unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    let mut out = Vec::new();
    let code = tokio::time::timeout(
        WAIT,
        c.start_and_attach(AttachStreams::new().stdout(&mut out), AttachOptions::default()),
    )
    .await
    .expect("attach never ended")
    .unwrap();
    assert_eq!((code, out.as_slice()), (Some(5), b"bye\n".as_slice()));
    tokio::time::timeout(WAIT, exit_command).await.unwrap().unwrap();
    assert_eq!(
        env.rt.lookup_container(c.id()).unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
}
