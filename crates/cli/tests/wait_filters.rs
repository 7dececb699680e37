//! `wait --condition/--interval`, `ps --filter` through the core's filters,
//! `container prune --filter`, and commands over several containers acting in
//! dependency order, end to end with real conmon and crun.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Env, TestImage};

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn wait_for_conditions() {
    let env = Env::new(TestImage::Plain);
    env.ok(&["create", "--name", "fresh", "busybox", "sleep", "100"]);
    // Never ran: "exited" with 0 at once; `created` is reached already.
    assert_eq!(env.ok(&["wait", "fresh"]), "0\n");
    assert_eq!(env.ok(&["wait", "--condition", "created", "fresh"]), "-1\n");

    env.ok(&["start", "fresh"]);
    assert_eq!(
        env.ok(&["wait", "--condition", "running", "--interval", "50ms", "fresh"]),
        "-1\n"
    );
    assert_eq!(env.ok(&["wait", "--condition", "paused,running", "fresh"]), "-1\n");

    // A waiter for `paused` returns once the pause happens, not before.
    let waiter = {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("corral"));
        cmd.arg("--root").arg(&env.root).arg("--runroot").arg(&env.runroot);
        cmd.args(["wait", "--condition", "paused", "-i", "20", "fresh"]);
        cmd.stdout(std::process::Stdio::piped()).spawn().unwrap()
    };
    std::thread::sleep(Duration::from_millis(500));
    env.ok(&["pause", "fresh"]);
    let output = waiter.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "-1\n");
    env.ok(&["unpause", "fresh"]);

    env.ok(&["kill", "fresh"]);
    let start = Instant::now();
    assert_eq!(
        env.ok(&["wait", "--condition", "exited", "-i", "100ms", "fresh"]),
        "137\n"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(
        env.ok(&["container", "wait", "--condition", "stopped", "fresh"]),
        "137\n"
    );

    let (code, _, stderr) = env.run(&["wait", "--condition", "bogus", "fresh"]);
    assert_eq!(
        (code, stderr.as_str()),
        (125, "Error: unknown container state: bogus: invalid argument\n")
    );
    let (code, _, stderr) = env.run(&["wait", "--condition", "healthy", "fresh"]);
    assert_eq!(code, 125);
    assert!(stderr.contains("no health checks"), "{stderr}");
    let (code, _, stderr) = env.run(&["wait", "-i", "bogus", "fresh"]);
    assert_eq!(
        (code, stderr.as_str()),
        (125, "Error: time: invalid duration \"bogus\"\n")
    );
}

#[test]
fn ps_filters_from_the_core() {
    let env = Env::new(TestImage::Plain);
    env.ok(&[
        "create",
        "--name",
        "first",
        "--label",
        "tier=db",
        "-v",
        "data:/data",
        "busybox",
        "true",
    ]);
    env.ok(&["create", "--name", "second", "busybox", "true"]);
    env.ok(&[
        "run", "-d", "--name", "third", "--label", "tier=web", "busybox", "sleep", "100",
    ]);
    let ps = |filters: &[&str]| {
        let mut args = vec!["ps", "-a", "--format", "{{.Names}}"];
        for f in filters {
            args.extend(["--filter", f]);
        }
        env.ok(&args)
    };
    assert_eq!(lines(&ps(&["since=first"])), ["third", "second"]);
    assert_eq!(lines(&ps(&["before=second"])), ["first"]);
    assert_eq!(lines(&ps(&["volume=data"])), ["first"]);
    assert_eq!(lines(&ps(&["volume=data:/data"])), ["first"]);
    assert_eq!(lines(&ps(&["label=tier"])), ["third", "first"]);
    assert_eq!(lines(&ps(&["label=tier", "label=tier=web"])), ["third"]);
    assert_eq!(lines(&ps(&["status=created"])), ["second", "first"]);
    assert_eq!(lines(&ps(&["name=^sec", "name=ird$"])), ["third", "second"]);
    assert_eq!(
        env.ok(&["ps", "--format", "{{.Names}}", "--filter", "status=created"]),
        "second\nfirst\n"
    );

    for (filter, message) in [
        ("bogus=1", "Error: bogus is an invalid filter\n"),
        ("name", "Error: invalid filter \"name\"\n"),
        (
            "status=bogus",
            "Error: unknown container state: bogus: invalid argument\n",
        ),
        (
            "since=nosuch",
            "Error: no container with name or ID \"nosuch\" found: no such container\n",
        ),
    ] {
        let (code, _, stderr) = env.run(&["ps", "--filter", filter]);
        assert_eq!((code, stderr.as_str()), (125, message), "{filter}");
    }
}

#[test]
fn prune_and_many_containers_in_dependency_order() {
    let env = Env::new(TestImage::Plain);
    let base = env.ok(&["create", "--name", "base", "busybox", "sleep", "100"]);
    let mid = env.ok(&[
        "create",
        "--name",
        "mid",
        "--requires",
        "base",
        "busybox",
        "sleep",
        "100",
    ]);
    let top = env.ok(&[
        "create",
        "--name",
        "top",
        "--requires",
        "mid",
        "--label",
        "keep=yes",
        "busybox",
        "sleep",
        "100",
    ]);
    // Several at once: dependencies start first, dependents stop first.
    assert_eq!(lines(&env.ok(&["start", "top", "base", "mid"])), ["base", "mid", "top"]);
    assert_eq!(
        lines(&env.ok(&["stop", "-t", "0", "base", "top", "mid"])),
        ["top", "mid", "base"]
    );
    let (code, _, stderr) = env.run(&["container", "prune", "-f", "--filter", "bogus=1"]);
    assert_eq!((code, stderr.as_str()), (125, "Error: bogus is an invalid filter\n"));

    // Only the labelled one, then the rest (dependent first, so each removal works).
    assert_eq!(
        env.ok(&["container", "prune", "-f", "--filter", "label=keep=yes"]),
        top.clone()
    );
    let other = env.ok(&["run", "-d", "--name", "other", "busybox", "sleep", "100"]);
    assert_eq!(
        env.ok(&["container", "prune", "-f", "--filter", "label!=keep"]),
        format!("{}{}", mid, base)
    );
    assert_eq!(env.ok(&["ps", "-a", "-q", "--no-trunc"]), other);

    // rm -a -f of a dependency chain removes dependents before their dependencies.
    env.ok(&["run", "-d", "--name", "b2", "busybox", "sleep", "100"]);
    env.ok(&[
        "run",
        "-d",
        "--name",
        "m2",
        "--requires",
        "b2",
        "busybox",
        "sleep",
        "100",
    ]);
    env.ok(&["create", "--name", "t2", "--requires", "m2", "busybox", "true"]);
    let removed = env.ok(&["rm", "-a", "-f", "-t", "0"]);
    assert_eq!(removed.lines().count(), 4, "{removed}");
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "");
}

/// `ps --size`: podman's SIZE column (writable layer, then with the image) and
/// its JSON `Size` object, measured from the container's real upper layer.
#[test]
fn ps_size_reports_the_writable_layer() {
    let env = Env::new(TestImage::Plain);
    env.ok(&[
        "run",
        "--name",
        "writer",
        "busybox",
        "sh",
        "-c",
        "head -c 100000 /dev/zero > /big",
    ]);
    env.ok(&["create", "--name", "idle", "busybox", "true"]);

    let table = env.ok(&["ps", "-a", "--size"]);
    let header = table.lines().next().unwrap();
    assert!(header.ends_with("NAMES       SIZE"), "{table}");
    let row = |name: &str| table.lines().find(|l| l.contains(name)).unwrap().to_owned();
    assert!(row("writer").ends_with("100kB (virtual 2.23MB)"), "{table}");
    assert!(row("idle").ends_with("0B (virtual 2.13MB)"), "{table}");

    let json: serde_json::Value = serde_json::from_str(&env.ok(&["ps", "-a", "-s", "--format", "json"])).unwrap();
    let size_of = |name: &str| json.as_array().unwrap().iter().find(|c| c["Names"][0] == name).unwrap()["Size"].clone();
    let writer = size_of("writer");
    assert_eq!(writer["rwSize"], 100_000);
    let idle = size_of("idle");
    assert_eq!(idle["rwSize"], 0);
    assert_eq!(
        writer["rootFsSize"].as_u64().unwrap() - idle["rootFsSize"].as_u64().unwrap(),
        100_000
    );
    // Without --size there is no size at all.
    let plain: serde_json::Value = serde_json::from_str(&env.ok(&["ps", "-a", "--format", "json"])).unwrap();
    assert!(plain[0]["Size"].is_null());
    assert_eq!(
        env.ok(&[
            "ps",
            "-a",
            "-s",
            "--format",
            "{{.Names}}={{.Size}}",
            "--filter",
            "name=idle"
        ]),
        "idle=0B (virtual 2.13MB)\n"
    );
}
