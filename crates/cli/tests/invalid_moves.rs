//! Moves the lifecycle does not allow, bad names, unknown IDs and ambiguous ID
//! prefixes, through the `corral` binary: each gives podman 4.3.1's exact
//! `Error: ...` text and exit code (checked against podman on this machine)
//! and leaves every container as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, TestImage};

/// What `inspect` says of a container's state: enough to see any change.
fn snapshot(env: &Env, name: &str) -> String {
    env.ok(&[
        "inspect",
        "--format",
        "{{.Id}} {{.Name}} {{.State.Status}} {{.State.Pid}} {{.State.StartedAt}} {{.State.FinishedAt}} {{.State.ExitCode}}",
        name,
    ])
}

/// Runs `args`, which must fail with exactly `code` and `stderr` (`{ID}` stands
/// for `id`), printing nothing on stdout unless `stdout` says what.
fn refused(env: &Env, args: &[&str], id: &str, code: i32, stderr: &str) {
    let (got_code, got_out, got_err) = env.run(args);
    let want = format!("Error: {}\n", stderr.replace("{ID}", id));
    assert_eq!((got_code, got_err.as_str()), (code, want.as_str()), "corral {args:?}");
    assert_eq!(got_out, "", "corral {args:?}");
}

#[test]
fn invalid_moves_name_the_status_and_change_nothing() {
    let env = Env::new(TestImage::Plain);
    let running = env.ok(&["run", "-d", "--name", "running", "busybox", "sleep", "1000"]);
    let created = env.ok(&["create", "--name", "created", "busybox", "sleep", "1000"]);
    let exited = env.ok(&["create", "--name", "exited", "busybox", "true"]);
    assert_eq!(env.ok(&["start", "-a", "exited"]), "");
    let paused = env.ok(&["run", "-d", "--name", "paused", "busybox", "sleep", "1000"]);
    env.ok(&["pause", "paused"]);
    let (running, created, exited, paused) = (running.trim(), created.trim(), exited.trim(), paused.trim());
    let names = ["running", "created", "exited", "paused"];
    let before: Vec<String> = names.iter().map(|n| snapshot(&env, n)).collect();
    assert!(before[0].contains(" running "), "{}", before[0]);
    assert!(
        before[1].contains(" created "),
        "podman calls a never-started container created: {}",
        before[1]
    );
    assert!(before[2].contains(" exited "), "{}", before[2]);
    assert!(before[3].contains(" paused "), "{}", before[3]);

    let improper = "container state improper";
    // Starting a running container does nothing, as in podman.
    assert_eq!(env.ok(&["start", "running"]), "running\n");
    refused(
        &env,
        &["start", "paused"],
        paused,
        125,
        &format!(
            "unable to start container \"{{ID}}\": container {{ID}} must be in Created or Stopped state to be started: {improper}"
        ),
    );
    for (name, status) in [("created", "created"), ("exited", "exited")] {
        refused(
            &env,
            &["pause", name],
            "",
            125,
            &format!("\"{status}\" is not running, can't pause: {improper}"),
        );
    }
    refused(
        &env,
        &["pause", "paused"],
        paused,
        125,
        &format!("\"{{ID}}\" is already paused: {improper}"),
    );
    for (name, id) in [("running", running), ("created", created)] {
        refused(
            &env,
            &["unpause", name],
            id,
            125,
            &format!("\"{{ID}}\" is not paused, can't unpause: {improper}"),
        );
    }
    for name in ["created", "exited", "paused"] {
        // podman 4 exits 255 when the exec session cannot be made.
        refused(
            &env,
            &["exec", name, "true"],
            "",
            255,
            &format!("can only create exec sessions on running containers: {improper}"),
        );
    }
    for name in ["created", "exited"] {
        refused(
            &env,
            &["attach", name],
            "",
            125,
            "you can only attach to running containers",
        );
    }
    for (name, id, status) in [("created", created, "created"), ("exited", exited, "exited")] {
        refused(
            &env,
            &["kill", name],
            id,
            125,
            &format!("can only kill running containers. {{ID}} is in state {status}: {improper}"),
        );
    }
    for (name, id, status) in [("running", running, "running"), ("paused", paused, "paused")] {
        let (code, out, err) = env.run(&["rm", name]);
        assert_eq!((code, out.as_str()), (2, ""), "{err}");
        assert_eq!(
            err,
            format!(
                "Error: cannot remove container {id} as it is {status} - running or paused containers cannot be removed without force: {improper}\n"
            )
        );
    }
    refused(
        &env,
        &["rename", "running", "created"],
        running,
        125,
        "renaming container {ID}: name created already in use, cannot rename container {ID}: container already exists",
    );
    let bad_name = "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument";
    refused(&env, &["rename", "running", "a b"], "", 125, bad_name);
    refused(
        &env,
        &["create", "--name", "a b", "busybox"],
        "",
        125,
        &format!("running container create option: {bad_name}"),
    );
    refused(
        &env,
        &["create", "--name", "created", "busybox"],
        created,
        125,
        "creating container storage: the container name \"created\" is already in use by {ID}. You have to remove that container to be able to reuse that name: that name is already in use",
    );
    // Stopping a container that never ran does nothing, as in podman (docker's way).
    assert_eq!(env.ok(&["stop", "created"]), "created\n");
    assert_eq!(env.ok(&["stop", "exited"]), "exited\n");

    let after: Vec<String> = names.iter().map(|n| snapshot(&env, n)).collect();
    assert_eq!(after, before, "an invalid move changed a container");
    assert_eq!(env.ok(&["ps", "-a", "-q"]).lines().count(), 4);
    // The paused one is still frozen and the running one still runs commands.
    assert_eq!(env.ok(&["exec", "running", "echo", "alive"]), "alive\n");
    env.ok(&["unpause", "paused"]);
    assert_eq!(env.ok(&["exec", "paused", "echo", "thawed"]), "thawed\n");
}

#[test]
fn unknown_and_ambiguous_ids_are_podmans_errors() {
    let env = Env::new(TestImage::Plain);
    let missing = "no container with name or ID \"nosuch\" found: no such container";
    for command in [
        &["start", "nosuch"][..],
        &["stop", "nosuch"],
        &["kill", "nosuch"],
        &["pause", "nosuch"],
        &["unpause", "nosuch"],
        &["restart", "nosuch"],
        &["wait", "nosuch"],
        &["attach", "nosuch"],
        &["logs", "nosuch"],
        &["port", "nosuch"],
        &["mount", "nosuch"],
        &["export", "nosuch"],
        &["exec", "nosuch", "true"],
        &["rename", "nosuch", "other"],
        &["commit", "nosuch", "img"],
    ] {
        refused(&env, command, "", 125, missing);
    }
    refused(&env, &["rm", "nosuch"], "", 1, missing);
    refused(
        &env,
        &["top", "nosuch"],
        "",
        125,
        &format!("unable to look up requested container: {missing}"),
    );
    refused(
        &env,
        &["cp", "nosuch:/etc", "/tmp"],
        "",
        125,
        "container \"nosuch\" does not exist",
    );
    for (args, text) in [
        (
            &["inspect", "nosuch"][..],
            "inspecting object: no such object: \"nosuch\"",
        ),
        (
            &["container", "inspect", "nosuch"],
            "inspecting object: no such container nosuch",
        ),
    ] {
        let (code, out, err) = env.run(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (125, "[]\n", format!("Error: {text}\n").as_str())
        );
    }
    for quiet in [
        &["rm", "-f", "nosuch"][..],
        &["rm", "-i", "nosuch"],
        &["stop", "-i", "nosuch"],
    ] {
        assert_eq!(env.run(quiet), (0, String::new(), String::new()), "{quiet:?}");
    }
    assert_eq!(env.run(&["container", "exists", "nosuch"]).0, 1);

    // Containers until two IDs share their first digit: that digit is ambiguous.
    let mut ids: Vec<String> = Vec::new();
    let prefix = loop {
        let id = env.ok(&["create", "busybox", "true"]).trim().to_owned();
        if let Some(twin) = ids.iter().find(|other| other[..1] == id[..1]) {
            break twin[..1].to_owned();
        }
        ids.push(id);
        assert!(ids.len() <= 16);
    };
    let before = env.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]);
    let ambiguous = format!("more than one result for container ID {prefix}: container already exists");
    for command in [
        &["start", &prefix][..],
        &["stop", &prefix],
        &["rm", &prefix],
        &["inspect", &prefix],
        &["container", "inspect", &prefix],
        &["logs", &prefix],
        &["exec", &prefix, "true"],
        &["rename", &prefix, "other"],
    ] {
        refused(&env, command, "", 125, &ambiguous);
    }
    assert_eq!(
        env.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.State}}"]),
        before
    );
}

/// A renamed container gives its old name back: a new container may take it
/// (storage keeps names unique too, so the rename must reach it).
#[test]
fn a_renamed_containers_old_name_is_free() {
    let env = Env::new(TestImage::Plain);
    let first = env.ok(&["create", "--name", "old", "busybox", "true"]);
    env.ok(&["rename", "old", "new"]);
    let second = env.ok(&["create", "--name", "old", "busybox", "true"]);
    assert_ne!(first, second);
    refused(
        &env,
        &["rename", "new", "old"],
        first.trim(),
        125,
        "renaming container {ID}: name old already in use, cannot rename container {ID}: container already exists",
    );
    assert_eq!(env.ok(&["start", "-a", "new"]), "");
    let mut removed: Vec<String> = env.ok(&["rm", "new", "old"]).lines().map(str::to_owned).collect();
    removed.sort();
    assert_eq!(removed, ["new", "old"]);
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "");
}
