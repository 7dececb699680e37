//! Exec sessions in real containers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestEnv, wait};
use corral_core::{AttachOptions, AttachStreams, Container, ExecRequest};
use corral_define::{ErrorKind, HasKind};

async fn exec(c: &Container, req: ExecRequest) -> (String, String, i32) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let streams = AttachStreams::new().stdout(&mut out).stderr(&mut err);
    let code = c.exec(&req, streams, AttachOptions::default()).await.unwrap();
    (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap(), code)
}

fn cmd(args: &[&str]) -> ExecRequest {
    ExecRequest {
        command: args.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_output_codes_users_and_states() {
    let env = TestEnv::new();
    let c = env.create(&["sleep", "100"], |_| {});
    let err = c
        .exec(&cmd(&["true"]), AttachStreams::new(), AttachOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
    c.start().await.unwrap();

    let (out, err, code) = exec(&c, cmd(&["sh", "-c", "echo out; echo err >&2; exit 3"])).await;
    assert_eq!((out.as_str(), err.as_str(), code), ("out\n", "err\n", 3));

    let mut req = cmd(&["sh", "-c", "id -u; echo $X; pwd"]);
    req.user = Some("corral".into());
    req.env.insert("X".into(), "y".into());
    req.workdir = Some("/tmp".into());
    let (out, _, code) = exec(&c, req).await;
    assert_eq!((out.as_str(), code), ("1000\ny\n/tmp\n", 0));

    let mut missing = Vec::new();
    let code = c
        .exec(
            &cmd(&["/no/such/cmd"]),
            AttachStreams::new().stderr(&mut missing),
            AttachOptions::default(),
        )
        .await;
    match code {
        Ok(code) => assert_eq!(code, 127),
        Err(e) => assert_eq!(e.kind(), ErrorKind::CommandNotFound, "{e}"),
    }
    assert!(c.state().await.unwrap().exec_sessions.is_empty());
    c.kill(9).await.unwrap();
    assert_eq!(wait(&c).await, 137);
}
