//! `corral events` end to end: what the engine records as containers, images and
//! volumes change, read back through the binary with filters, time windows, formats
//! and streaming, each test in its own root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Env, IMAGE, TestImage};

/// The statuses of the events `filters` select, oldest first.
fn statuses(env: &Env, filters: &[&str]) -> Vec<String> {
    let mut args = vec!["events", "--stream=false", "--format", "{{.Status}}"];
    for filter in filters {
        args.extend(["--filter", filter]);
    }
    env.ok(&args).lines().map(str::to_owned).collect()
}

/// Waits (at most 20 s) until the container's events include `status`: the exit
/// command conmon runs records `cleanup` a moment after the process ended.
fn wait_for_status(env: &Env, container: &str, status: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = statuses(env, &[&format!("container={container}")]);
        if seen.iter().any(|s| s == status) || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_containers_life_is_recorded_in_order_with_podmans_lines() {
    let env = Env::new(TestImage::Plain);
    let (code, _, stderr) = env.run(&[
        "run", "--name", "short", "--label", "app=web", IMAGE, "sh", "-c", "exit 3",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(
        wait_for_status(&env, "short", "cleanup"),
        ["create", "init", "start", "attach", "died", "cleanup"]
    );

    // podman's line: time, type, status, full ID, then image, name and labels.
    let id = env.ok(&["inspect", "--format", "{{.Id}}", "short"]).trim().to_owned();
    let lines = env.ok(&["events", "--stream=false", "--filter", "event=create"]);
    let line = lines.lines().next().unwrap();
    let (date, rest) = line.split_at(10);
    assert!(date.chars().all(|c| c.is_ascii_digit() || c == '-'), "{line}");
    let after_time = rest
        .split_once(" UTC ")
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(
        after_time,
        format!("container create {id} (image={IMAGE}, name=short, app=web)")
    );
    let short = env.ok(&[
        "events",
        "--stream=false",
        "--no-trunc=false",
        "--filter",
        "event=create",
    ]);
    assert!(short.contains(&format!(" container create {} (", &id[..12])), "{short}");

    // The died event carries the exit code in JSON, under podman's field names.
    let json = env.ok(&["events", "--stream=false", "--format", "json", "--filter", "event=died"]);
    let died: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(died["ContainerExitCode"], 3);
    assert_eq!(died["ID"], id.as_str());
    assert_eq!(died["Name"], "short");
    assert_eq!(died["Image"], IMAGE);
    assert_eq!(died["Type"], "container");
    assert_eq!(died["Attributes"]["app"], "web");
    assert!(died["Time"].as_str().unwrap().ends_with('Z'), "{died}");

    // A detached container through every verb.
    let id = env.ok(&["run", "-d", "--name", "long", IMAGE, "sleep", "100"]);
    let id = id.trim();
    for args in [
        &["exec", "long", "sh", "-c", "exit 2"][..],
        &["pause", "long"],
        &["unpause", "long"],
        &["stop", "-t", "0", "long"],
        &["restart", "-t", "0", "long"],
        &["rename", "long", "renamed"],
        &["mount", "renamed"],
        &["unmount", "renamed"],
        &["commit", "-q", "renamed", "localhost/committed:1"],
    ] {
        let (code, _, stderr) = env.run(args);
        assert!(code == 0 || args[0] == "exec", "{args:?}: {stderr}");
    }
    env.ok(&["kill", "renamed"]);
    env.ok(&["wait", "renamed"]);
    wait_for_status(&env, id, "kill");
    let seen = statuses(&env, &[&format!("container={id}")]);
    // In this order, with maybe a second `cleanup` (conmon's exit command cleans up
    // after `stop` did) and the last `died` and `cleanup` in either process's turn.
    let expected = [
        "create",
        "init",
        "start",
        "exec",
        "exec_died",
        "pause",
        "unpause",
        "died",
        "stop",
        "cleanup",
        "restart",
        "init",
        "start",
        "rename",
        "mount",
        "unmount",
        "commit",
        "kill",
        "died",
    ];
    let mut unseen = expected.iter().peekable();
    for status in &seen {
        if unseen.peek().is_some_and(|e| *e == status) {
            unseen.next();
        } else {
            assert!(status == "cleanup", "unexpected {status} in {seen:?}");
        }
    }
    assert_eq!(unseen.next(), None, "missing from {seen:?}");
    let exec_died = env.ok(&[
        "events",
        "--stream=false",
        "--format",
        "{{.ContainerExitCode}}",
        "--filter",
        "event=exec_died",
    ]);
    assert_eq!(exec_died, "2\n");
    env.ok(&["rm", "-f", "renamed"]);
    assert_eq!(
        statuses(&env, &[&format!("container={id}"), "event=remove"]),
        ["remove"]
    );
}

#[test]
fn filters_select_as_podmans_do() {
    let env = Env::new(TestImage::Plain);
    env.ok(&["create", "--name", "one", "--label", "tier=front", IMAGE, "true"]);
    env.ok(&["create", "--name", "two", IMAGE, "true"]);
    env.ok(&["rm", "one"]);
    let archive = env.dir.path().join("busybox.tar");
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    env.ok(&["tag", IMAGE, "extra:1"]);
    env.ok(&["volume", "create", "data1"]);
    env.ok(&["volume", "rm", "data1"]);

    assert_eq!(statuses(&env, &["container=one"]), ["create", "remove"]);
    // Values of one key are alternatives; different keys must all match.
    assert_eq!(statuses(&env, &["event=create", "event=remove"]).len(), 5);
    assert_eq!(statuses(&env, &["container=two", "event=remove"]), Vec::<String>::new());
    assert_eq!(statuses(&env, &["label=tier=front"]), ["create", "remove"]);
    assert_eq!(statuses(&env, &["status=remove", "type=container"]), ["remove"]);
    assert_eq!(statuses(&env, &["type=image"]), ["loadfromarchive", "tag"]);
    assert_eq!(statuses(&env, &["image=localhost/extra:1"]), ["tag"]);
    assert_eq!(statuses(&env, &["type=volume"]), ["create", "remove"]);
    assert_eq!(statuses(&env, &["volume=data"]), ["create", "remove"]);

    let images = env.ok(&["events", "--stream=false", "--filter", "type=image"]);
    let mut lines = images.lines();
    let load = lines.next().unwrap();
    assert!(
        load.ends_with(&format!(" UTC image loadfromarchive  {}", archive.display())),
        "{load}"
    );
    let tag = lines.next().unwrap();
    assert!(
        tag.contains(" UTC image tag ") && tag.ends_with(" localhost/extra:1"),
        "{tag}"
    );
    let volume = env.ok(&[
        "events",
        "--stream=false",
        "--filter",
        "type=volume",
        "--filter",
        "event=create",
    ]);
    assert!(volume.trim_end().ends_with(" UTC volume create data1"), "{volume}");
}

#[test]
fn since_and_until_cut_the_log() {
    let env = Env::new(TestImage::Plain);
    env.ok(&["create", "--name", "before", IMAGE, "true"]);
    std::thread::sleep(Duration::from_millis(1100));
    let middle = chrono::Utc::now();
    std::thread::sleep(Duration::from_millis(1100));
    env.ok(&["create", "--name", "after", IMAGE, "true"]);
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec![
            "events",
            "--stream=false",
            "--format",
            "{{.Name}}",
            "--filter",
            "type=container",
        ];
        all.extend(args);
        env.ok(&all).lines().map(str::to_owned).collect()
    };
    let rfc3339 = middle.to_rfc3339();
    let unix = middle.timestamp().to_string();
    assert_eq!(names(&["--since", &rfc3339]), ["after"]);
    assert_eq!(names(&["--until", &rfc3339]), ["before"]);
    assert_eq!(names(&["--since", &unix]), ["after"]);
    assert_eq!(names(&["--since", "1s"]), ["after"]);
    assert_eq!(names(&["--since", "1h"]), ["before", "after"]);
    // A duration for `until` counts forward from now, as podman's does.
    assert_eq!(names(&["--until", "1s"]), ["before", "after"]);
    assert_eq!(names(&["--since", "1h", "--until", &unix]), ["before"]);
}

#[test]
fn templates_and_json_show_podmans_fields() {
    let env = Env::new(TestImage::Plain);
    let id = env.ok(&["create", "--name", "fmt", IMAGE, "true"]);
    let id = id.trim();
    let out = env.ok(&[
        "events",
        "--stream=false",
        "--format",
        "{{.Type}}|{{.ID}}|{{.Name}}|{{.Image}}|{{.ContainerExitCode}}|{{.Attributes}}",
    ]);
    assert_eq!(out, format!("system||||0|map[]\ncontainer|{id}|fmt|{IMAGE}|0|map[]\n"));
    let time = env.ok(&[
        "events",
        "--stream=false",
        "--format",
        "{{.Time}}",
        "--filter",
        "type=container",
    ]);
    assert!(time.trim_end().ends_with(" +0000 UTC"), "{time}");

    for format in ["json", "{{json .}}"] {
        let line = env.ok(&[
            "events",
            "--stream=false",
            "--format",
            format,
            "--filter",
            "type=container",
        ]);
        assert!(
            line.starts_with(&format!(
                "{{\"ID\":\"{id}\",\"Image\":\"{IMAGE}\",\"Name\":\"fmt\",\"Status\":\"create\",\"Time\":\""
            )),
            "{line}"
        );
        assert!(line.ends_with("\"Type\":\"container\",\"Attributes\":{}}\n"), "{line}");
    }
}

/// A running `corral events` whose stdout lines arrive on a channel; killed on drop.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Follower {
    fn start(env: &Env, args: &[&str]) -> Follower {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("corral"))
            .arg("--root")
            .arg(&env.root)
            .arg("--runroot")
            .arg(&env.runroot)
            .arg("events")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Follower { child, lines }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_stream_shows_what_other_processes_do_until_killed() {
    let env = Env::new(TestImage::Plain);
    env.ok(&["create", "--name", "old", IMAGE, "true"]);
    let follower = Follower::start(
        &env,
        &["--filter", "type=container", "--format", "{{.Status}} {{.Name}}"],
    );
    // The follower starts at the end of the log; make events until it sees one.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut made = 0;
    let first = loop {
        made += 1;
        env.ok(&["create", "--name", &format!("new{made}"), IMAGE, "true"]);
        if let Ok(line) = follower.lines.recv_timeout(Duration::from_millis(500)) {
            break line;
        }
        assert!(Instant::now() < deadline, "the stream showed nothing");
    };
    assert!(first.starts_with("create new"), "{first}");
    env.ok(&["rm", "old"]);
    let mut seen = Vec::new();
    while let Ok(line) = follower.lines.recv_timeout(Duration::from_secs(5)) {
        let done = line == "remove old";
        seen.push(line);
        if done {
            break;
        }
    }
    assert_eq!(seen.last().map(String::as_str), Some("remove old"), "{seen:?}");
    assert!(
        !seen.iter().any(|l| l == "create old"),
        "an event from before the stream: {seen:?}"
    );
    drop(follower);

    // With `until`, a stream ends by itself once that time passes.
    let started = Instant::now();
    let mut bounded = Follower::start(
        &env,
        &[
            "--since",
            "1m",
            "--until",
            "1s",
            "--format",
            "{{.Name}}",
            "--filter",
            "type=container",
        ],
    );
    let status = loop {
        if let Some(status) = bounded.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the stream did not end");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let names: Vec<String> = bounded.lines.try_iter().collect();
    assert!(names.contains(&"old".to_owned()), "{names:?}");
}

#[test]
fn the_none_backend_records_nothing_and_reads_nothing() {
    let env = Env::new(TestImage::Plain);
    let (code, _, stderr) = env.run(&["--events-backend", "none", "run", "--name", "quiet", IMAGE, "true"]);
    assert_eq!(code, 0, "{stderr}");
    // The exit command conmon runs inherits the backend: no cleanup event either.
    std::thread::sleep(Duration::from_millis(500));
    env.ok(&["--events-backend", "none", "rm", "quiet"]);
    assert_eq!(env.ok(&["events", "--stream=false", "--filter", "type=container"]), "");

    let (code, _, stderr) = env.run(&["--events-backend", "none", "events", "--stream=false"]);
    assert_eq!(
        (code, stderr.as_str()),
        (125, "Error: cannot read events with the \"none\" backend\n")
    );
}

#[test]
fn bad_input_is_refused_with_podmans_words() {
    let env = Env::new(TestImage::Plain);
    for (args, message) in [
        (
            &["events", "--stream=false", "--filter", "nonsense"][..],
            "Error: failed to parse event filters: nonsense is an invalid filter\n",
        ),
        (
            &["events", "--stream=false", "--filter", "color=red"],
            "Error: failed to parse event filters: color is an invalid filter\n",
        ),
        (
            &["events", "--stream=false", "--since", "yesterday"],
            "Error: failed to parse event filters: unable to convert since time of yesterday: unable to interpret time value\n",
        ),
        (
            &["events", "--stream=false", "--until", "soon"],
            "Error: failed to parse event filters: unable to convert until time of soon: unable to interpret time value\n",
        ),
        (
            &["events", "--stream=false", "--format", "{{.Oops"],
            "Error: template: events:1: unclosed action\n",
        ),
        (
            &["--events-backend", "bogus", "events"],
            "Error: configuring runtime: \"bogus\" is not a valid events backend: invalid argument\n",
        ),
        (&["events", "extra"], "Error: `corral events` takes no arguments\n"),
    ] {
        let (code, stdout, stderr) = env.run(args);
        assert_eq!((code, stdout.as_str(), stderr.as_str()), (125, "", message), "{args:?}");
    }
    // `{{.Foo}}` fails only on an event, as podman's template does.
    env.ok(&["create", IMAGE, "true"]);
    let (code, _, stderr) = env.run(&["events", "--stream=false", "--format", "{{.Foo}}"]);
    assert_eq!(code, 125);
    assert!(
        stderr.contains("can't evaluate field Foo in type *events.Event"),
        "{stderr}"
    );
    let (code, _, stderr) = env.run(&["--events-backend", "journald", "events", "--stream=false"]);
    assert_eq!(code, 125);
    assert!(stderr.starts_with("Error: ") && stderr.contains("journald"), "{stderr}");
    // `system events` is the same command.
    assert_eq!(
        env.ok(&["system", "events", "--stream=false", "--format", "{{.Status}}"]),
        "refresh\ncreate\n",
        "the first use of a runroot records a refresh"
    );
}
