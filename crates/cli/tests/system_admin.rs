//! `corral system renumber`, `system migrate` and `system reset` end to end, with real
//! containers under conmon, crun and runc.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command as StdCommand, Stdio};

use common::{Env, TestImage};

fn lock_files(env: &Env) -> BTreeSet<u32> {
    std::fs::read_dir(env.runroot.join("locks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect()
}

fn runtime_knows(runtime: &str, id: &str) -> bool {
    StdCommand::new(runtime)
        .args(["state", id])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn renumber() {
    let env = Env::new(TestImage::Plain);
    env.ok(&["create", "--name", "first", "busybox", "true"]);
    let sleeper = env.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "100"]);
    let sleeper = sleeper.trim();
    env.ok(&["create", "--name", "idle", "busybox", "echo", "hello"]);
    env.ok(&["volume", "create", "v"]);
    env.ok(&["rm", "first"]);
    assert_eq!(lock_files(&env), BTreeSet::from([1, 2, 3]));

    let (code, stdout, stderr) = env.run(&["system", "renumber"]);
    assert_eq!(code, 125, "{stdout}{stderr}");
    assert_eq!(
        stderr,
        format!(
            "Error: container {sleeper} is running: stop every container before renumbering locks: \
             container state improper\n"
        )
    );
    let (code, _, stderr) = env.run(&["system", "renumber", "extra"]);
    assert_eq!(
        (code, stderr.as_str()),
        (125, "Error: `corral system renumber` takes no arguments\n")
    );

    env.ok(&["stop", "-t", "0", "sleeper"]);
    // A lock file nobody owns: renumber frees it with the others.
    std::fs::write(env.runroot.join("locks/999"), "").unwrap();
    assert_eq!(env.ok(&["system", "renumber"]), "");
    assert_eq!(
        lock_files(&env),
        BTreeSet::from([0, 1, 2]),
        "one fresh lock per container and volume"
    );

    assert_eq!(env.ok(&["start", "-a", "idle"]), "hello\n");
    env.ok(&["start", "sleeper"]);
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.State.Status}}", "sleeper"]),
        "running\n"
    );
    env.ok(&["stop", "-t", "0", "sleeper"]);
    env.ok(&["rm", "sleeper", "idle"]);
    env.ok(&["volume", "rm", "v"]);
    assert!(lock_files(&env).is_empty(), "removals free the renumbered locks");
}

#[test]
fn migrate() {
    let env = Env::new(TestImage::Plain);
    let help = env.ok(&["system", "migrate", "--help"]);
    assert!(help.contains("--new-runtime <string>") && help.contains("Specify a new runtime for all containers"));

    let running = env.ok(&[
        "run",
        "-d",
        "--name",
        "m",
        "--stop-timeout",
        "1",
        "busybox",
        "sleep",
        "100",
    ]);
    let running = running.trim();
    env.ok(&["create", "--name", "idle", "busybox", "echo", "migrated"]);

    let (code, stdout, stderr) = env.run(&["system", "migrate", "--new-runtime", "bogus"]);
    assert_eq!((code, stdout.as_str()), (125, ""));
    assert_eq!(
        stderr,
        "Error: change to runtime \"bogus\" requested but no such runtime is defined: invalid argument\n"
    );
    assert_eq!(env.ok(&["inspect", "--format", "{{.State.Status}}", "m"]), "running\n");

    assert_eq!(
        env.ok(&["system", "migrate", "--new-runtime", "runc"]),
        format!("stopped {running}\n")
    );
    assert_eq!(
        env.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}", "--filter", "name=m"])
            .split(' ')
            .nth(1),
        Some("Exited")
    );
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.OCIRuntime}}", "m", "idle"]),
        "runc\nrunc\n"
    );
    env.ok(&["start", "m"]);
    assert!(runtime_knows("runc", running), "runc runs the migrated container");
    assert!(!runtime_knows("crun", running));
    assert_eq!(env.ok(&["start", "-a", "idle"]), "migrated\n");

    // Without a new runtime: running containers are stopped, nothing else changes.
    assert_eq!(env.ok(&["system", "migrate"]), format!("stopped {running}\n"));
    assert_eq!(env.ok(&["system", "migrate"]), "");
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.OCIRuntime}} {{.State.Status}}", "m"]),
        "runc exited\n"
    );
    env.ok(&["rm", "m", "idle"]);
}

#[test]
fn reset() {
    let env = Env::new(TestImage::Plain);
    env.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-v",
        "data:/data",
        "busybox",
        "sleep",
        "100",
    ]);
    env.ok(&["create", "--name", "idle", "busybox", "true"]);

    // Answering no keeps everything.
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("corral"))
        .arg("--root")
        .arg(&env.root)
        .arg("--runroot")
        .arg(&env.runroot)
        .args(["system", "reset"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("WARNING! This will remove:\n        - all containers\n"),
        "{text}"
    );
    assert!(text.ends_with("Are you sure you want to continue? [y/N] "), "{text}");
    assert_eq!(env.ok(&["ps", "-aq"]).lines().count(), 2);

    assert_eq!(env.ok(&["system", "reset", "--force"]), "");
    assert!(!env.root.exists() && !env.runroot.exists(), "root and runroot are gone");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(env.root.to_str().unwrap()), "nothing left mounted");
    assert_eq!(env.ok(&["ps", "-aq"]), "");
    assert_eq!(env.ok(&["images", "-q"]), "");
    assert_eq!(env.ok(&["volume", "ls", "-q"]), "");

    // The engine works again from scratch.
    let archive = env.dir.path().join("busybox.tar");
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(env.ok(&["run", "--rm", "busybox", "echo", "again"]), "again\n");
}
