//! Following logs, events, rename and top with real containers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestEnv, WAIT, wait};
use corral_core::{LogOptions, LogStream, RemoveOptions};
use corral_define::{ErrorKind, HasKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_logs_until_exit() {
    let env = TestEnv::new();
    let c = env
        .run(
            &["sh", "-c", "echo one; sleep 1; echo two >&2; sleep 1; echo three"],
            |_| {},
        )
        .await;
    let mut lines = Vec::new();
    tokio::time::timeout(
        WAIT,
        c.follow_logs(&LogOptions::default(), |l| {
            lines.push((l.stream, l.text));
            Ok(())
        }),
    )
    .await
    .expect("following never ended")
    .unwrap();
    assert_eq!(
        lines,
        [
            (LogStream::Stdout, "one".to_string()),
            (LogStream::Stderr, "two".to_string()),
            (LogStream::Stdout, "three".to_string())
        ]
    );
    // An exited container's log is given whole (tail applied) and the follow ends.
    let mut last = Vec::new();
    let options = LogOptions {
        tail: Some(1),
        ..Default::default()
    };
    c.follow_logs(&options, |l| {
        last.push(l.text);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(last, ["three"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_a_run_and_a_stop() {
    let env = TestEnv::new();
    let c = env.run(&["sh", "-c", "exit 3"], |s| s.name = Some("evt".into())).await;
    assert_eq!(wait(&c).await, 3);
    // What conmon's exit command would run.
    env.rt.cleanup_container("evt").await.unwrap();
    c.remove(RemoveOptions::default()).await.unwrap();
    let d = env.run(&["sleep", "100"], |_| {}).await;
    d.pause().await.unwrap();
    d.unpause().await.unwrap();
    d.stop(Some(0)).await.unwrap();

    let statuses = |filters: &[&str]| -> Vec<String> {
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        env.rt
            .events(&filters, None, None)
            .unwrap()
            .into_iter()
            .map(|e| e.status)
            .collect()
    };
    assert_eq!(
        statuses(&["container=evt"]),
        ["create", "init", "start", "died", "cleanup", "remove"]
    );
    assert_eq!(
        statuses(&[&format!("container={}", d.id())]),
        ["create", "init", "start", "pause", "unpause", "died", "stop", "cleanup"]
    );
    let died = env.rt.events(&["event=died".into()], None, None).unwrap();
    assert_eq!(died.len(), 2);
    assert_eq!(died[0].container_exit_code, 3);
    assert_eq!(
        (died[0].name.as_str(), died[0].image.as_str()),
        ("evt", "localhost/busybox:latest")
    );
    assert_eq!(died[0].event_type, "container");
    assert_eq!(died[1].container_exit_code, 137);
    let later = env.rt.events(&[], Some(died[1].time), None).unwrap();
    assert!(later.iter().all(|e| e.time >= died[1].time) && later.len() >= 3);
    assert_eq!(
        env.rt.events(&["nope=1".into()], None, None).unwrap_err().kind(),
        ErrorKind::InvalidArg
    );
    // The log is podman's JSON, one event a line.
    let log = std::fs::read_to_string(env.rt.events_log_path()).unwrap();
    let lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The runroot's first use is a refresh, then the container's own events.
    assert_eq!(
        (&lines[0]["Type"], &lines[0]["Status"]),
        (&"system".into(), &"refresh".into())
    );
    assert_eq!(lines[1]["Status"], "create");
    assert_eq!(lines[1]["Name"], "evt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_and_top() {
    let env = TestEnv::new();
    let c = env.run(&["sleep", "100"], |s| s.name = Some("before".into())).await;
    let other = env.create(&["true"], |s| s.name = Some("taken".into()));
    let renamed = c.rename("after").await.unwrap();
    assert_eq!(renamed.name(), "after");
    assert_eq!(env.rt.lookup_container("after").unwrap().id(), c.id());
    assert_eq!(
        env.rt.lookup_container("before").unwrap_err().kind(),
        ErrorKind::NoSuchContainer
    );
    assert_eq!(
        renamed.rename("taken").await.unwrap_err().kind(),
        ErrorKind::ContainerExists
    );
    assert_eq!(
        renamed.rename("bad/name").await.unwrap_err().kind(),
        ErrorKind::InvalidArg
    );
    // The stale handle renames from the stored name.
    assert_eq!(c.rename("again").await.unwrap().name(), "again");
    let names: Vec<String> = env
        .rt
        .events(&["event=rename".into()], None, None)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["after", "again"]);

    let lines = c.top(&["-o".into(), "pid,args".into()]).await.unwrap();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["PID", "COMMAND"]);
    assert!(lines.iter().any(|l| l.trim() == "1 sleep 100"), "{lines:?}");
    let err = other.top(&[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidState, "{err}");
}
