//! The container commands end to end: the `corral` binary with real conmon
//! and crun on the busybox test image, each test in its own root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Env, IMAGE, TestImage};

/// A name no other test uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", std::process::id())
}

#[test]
fn run_prints_output_and_exits_with_the_containers_code() {
    let env = Env::new(TestImage::Plain);
    let name = unique("hi");
    let (code, stdout, stderr) = env.run(&["run", "--rm", "--name", &name, "busybox", "echo", "hi"]);
    assert_eq!((code, stdout.as_str()), (0, "hi\n"), "{stderr}");
    assert_eq!(
        env.ok(&["ps", "-a", "-q"]),
        "",
        "--rm removes the container after it exits"
    );

    let (code, stdout, _) = env.run(&["run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!((code, stdout.as_str()), (3, "out\n"));

    let (code, _, stderr) = env.run(&["run", "--rm", "busybox", "/nonexistent"]);
    assert_eq!(code, 127, "{stderr}");
    assert!(stderr.starts_with("Error: "), "{stderr}");
    assert!(stderr.contains("/nonexistent"), "{stderr}");
    // Only the `exit 3` container is left.
    assert_eq!(env.ok(&["ps", "-a", "-q"]).lines().count(), 1);
}

#[test]
fn detached_container_lifecycle() {
    let env = Env::new(TestImage::Plain);
    let name = unique("web");
    let id = env.ok(&["run", "-d", "--name", &name, "busybox", "sleep", "100"]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));

    let table = env.ok(&["ps"]);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("CONTAINER ID  IMAGE"), "{header}");
    assert!(header.ends_with("NAMES"), "{header}");
    let row = lines.next().unwrap();
    assert!(row.starts_with(&id[..12]), "{row}");
    assert!(
        row.contains(IMAGE) && row.contains("sleep 100") && row.contains(" ago  Up "),
        "{row}"
    );
    assert!(row.ends_with(&name), "{row}");
    assert_eq!(env.ok(&["ps", "-q"]), format!("{}\n", &id[..12]));
    assert_eq!(env.ok(&["ps", "--format", "{{.Names}}"]), format!("{name}\n"));
    assert_eq!(env.ok(&["ps", "--no-trunc", "-q"]), format!("{id}\n"));
    assert_eq!(env.ok(&["ps", "-q", "--filter", "status=exited"]), "");
    assert_eq!(
        env.ok(&["container", "inspect", "--format", "{{.Name}} {{.State.Status}}", &name]),
        format!("{name} running\n")
    );
    let inspected: serde_json::Value = serde_json::from_str(&env.ok(&["container", "inspect", &name])).unwrap();
    assert_eq!(inspected[0]["Id"], id);

    let (code, stdout, stderr) = env.run(&["rm", &name]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "Error: cannot remove container {id} as it is running - running or paused containers cannot be removed without force: container state improper\n"
        )
    );

    let started = Instant::now();
    assert_eq!(env.ok(&["stop", "-t", "0", &name]), format!("{name}\n"));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(env.ok(&["ps", "-q"]), "");
    let all = env.ok(&["ps", "-a"]);
    assert!(all.contains("Exited (137) "), "{all}");
    assert_eq!(env.ok(&["wait", &name]), "137\n");
    assert_eq!(
        env.ok(&["ps", "-a", "--format", "{{.ID}} {{.State}}", "--filter", "exited=137"]),
        format!("{} exited\n", &id[..12])
    );
    assert_eq!(env.ok(&["rm", &name]), format!("{name}\n"));
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "");
}

#[test]
fn logs_wait_and_attached_start() {
    let env = Env::new(TestImage::Plain);
    let name = unique("logs");
    env.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "busybox",
        "sh",
        "-c",
        "echo one; echo two >&2; sleep 0.3; echo three",
    ]);
    assert_eq!(env.ok(&["wait", &name]), "0\n");
    let (code, stdout, stderr) = env.run(&["logs", &name]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "one\nthree\n", "two\n"));
    assert_eq!(env.ok(&["logs", "--tail", "1", &name]), "three\n");
    let stamped = env.ok(&["logs", "-t", "--tail", "1", &name]);
    assert!(stamped.ends_with(" three\n") && stamped.starts_with("20"), "{stamped}");

    let created = unique("created");
    let id = env.ok(&["create", "--name", &created, "busybox", "echo", "from start"]);
    assert_eq!(id.trim().len(), 64);
    let status = env.ok(&[
        "ps",
        "-a",
        "--filter",
        &format!("name={created}"),
        "--format",
        "{{.Status}}",
    ]);
    assert_eq!(status, "Created\n");
    assert_eq!(env.ok(&["start", "-a", &created]), "from start\n");
    assert_eq!(env.ok(&["container", "exists", &created]), "");
    assert_eq!(env.run(&["container", "exists", "nosuch"]).0, 1);
}

#[test]
fn engine_errors_as_podman_reports_them() {
    let env = Env::new(TestImage::Plain);
    let (code, stdout, stderr) = env.run(&["stop", "nosuch"]);
    assert_eq!((code, stdout.as_str()), (125, ""));
    assert_eq!(
        stderr,
        "Error: no container with name or ID \"nosuch\" found: no such container\n"
    );
    assert_eq!(
        env.run(&["rm", "nosuch"]).0,
        1,
        "podman's rm exits 1 for a missing container"
    );
    let (code, _, stderr) = env.run(&["run", "--name", "bad name!", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        stderr.starts_with("Error: running container create option: names must match"),
        "{stderr}"
    );
    let (code, _, stderr) = env.run(&["run", "nosuchimage", "true"]);
    assert_eq!(code, 125);
    assert!(stderr.starts_with("Error: "), "{stderr}");
}

#[test]
fn detached_rm_container_is_removed_by_its_exit_command() {
    let env = Env::new(TestImage::Plain);
    let name = unique("gone");
    env.ok(&["run", "-d", "--rm", "--name", &name, "busybox", "true"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.run(&["container", "exists", &name]).0 == 0 {
        assert!(Instant::now() < deadline, "conmon's exit command never removed {name}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
