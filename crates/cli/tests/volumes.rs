//! The volume commands end to end through the `corral` binary, each test in its own
//! root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;

/// A root and runroot of their own, removed with everything in them.
struct Env {
    root: PathBuf,
    runroot: PathBuf,
    _dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::Builder::new().prefix("corral-vol-").tempdir().unwrap();
        Env {
            root: dir.path().join("root"),
            runroot: dir.path().join("run"),
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::cargo_bin("corral")
            .unwrap()
            .arg("--root")
            .arg(&self.root)
            .arg("--runroot")
            .arg(&self.runroot)
            .args(args)
            .write_stdin("")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "corral {args:?} failed: {stderr}");
        stdout
    }

    /// Runs `args`, which must fail with `code`; returns stdout and stderr.
    fn fails(&self, args: &[&str], code: i32) -> (String, String) {
        let (got, stdout, stderr) = self.run(args);
        assert_eq!(got, code, "corral {args:?}: stdout {stdout:?} stderr {stderr:?}");
        (stdout, stderr)
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn create_list_inspect_remove() {
    let env = Env::new();
    assert_eq!(env.ok(&["volume", "create", "v1"]), "v1\n");
    assert_eq!(
        env.ok(&[
            "volume",
            "create",
            "--label",
            "team=web",
            "-l",
            "tier",
            "-o",
            "o=uid=1000",
            "v2"
        ]),
        "v2\n"
    );
    let anonymous = env.ok(&["volume", "create"]);
    let anonymous = anonymous.trim();
    assert_eq!(anonymous.len(), 64, "{anonymous}");
    assert!(anonymous.chars().all(|c| c.is_ascii_hexdigit()));

    // Duplicates and bad names.
    let (_, err) = env.fails(&["volume", "create", "v1"], 125);
    assert_eq!(
        err,
        "Error: volume with name v1 already exists: volume already exists\n"
    );
    assert_eq!(env.ok(&["volume", "create", "--ignore", "v1"]), "v1\n");
    let (_, err) = env.fails(&["volume", "create", "bad/name"], 125);
    assert_eq!(
        err,
        "Error: running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument\n"
    );
    let (_, err) = env.fails(&["volume", "create", "-d", "nfs", "v3"], 125);
    assert!(err.starts_with("Error: "), "{err}");
    env.fails(&["volume", "exists", "v3"], 1);

    // Listing.
    assert_eq!(
        env.ok(&["volume", "ls"]),
        format!("DRIVER      VOLUME NAME\nlocal       {anonymous}\nlocal       v1\nlocal       v2\n")
    );
    assert_eq!(env.ok(&["volume", "ls", "-q"]), format!("{anonymous}\nv1\nv2\n"));
    assert_eq!(env.ok(&["volume", "ls", "-q", "--filter", "name=v"]).lines().count(), 2);
    assert_eq!(env.ok(&["volume", "ls", "-q", "--filter", "name=^v1$"]), "v1\n");
    assert_eq!(env.ok(&["volume", "ls", "-q", "--filter", "label=team=web"]), "v2\n");
    assert_eq!(env.ok(&["volume", "ls", "-q", "--filter", "label=tier"]), "v2\n");
    assert_eq!(
        env.ok(&["volume", "ls", "-q", "--filter", "dangling=true"])
            .lines()
            .count(),
        3
    );
    assert_eq!(env.ok(&["volume", "ls", "-q", "--filter", "driver=other"]), "");
    assert_eq!(
        env.ok(&["volume", "ls", "--noheading", "--filter", "name=v2"]),
        "local       v2\n"
    );
    assert_eq!(
        env.ok(&["volume", "ls", "--format", "{{.Name}}:{{.Driver}}", "-f", "name=v1"]),
        "v1:local\n"
    );
    let (_, err) = env.fails(&["volume", "ls", "--filter", "bogus=1"], 125);
    assert!(err.starts_with("Error: \"bogus\" is an invalid volume filter"), "{err}");
    let list = json(&env.ok(&["volume", "ls", "--format", "json", "--filter", "name=v2"]));
    assert_eq!(list[0]["Name"], "v2");
    assert_eq!(list[0]["Labels"]["team"], "web");
    assert_eq!(list[0]["UID"], 1000);

    // Inspect.
    let doc = json(&env.ok(&["volume", "inspect", "v1"]));
    let v1 = &doc[0];
    let mountpoint = env.root.canonicalize().unwrap().join("volumes/v1/_data");
    assert_eq!(v1["Name"], "v1");
    assert_eq!(v1["Driver"], "local");
    assert_eq!(v1["Mountpoint"], mountpoint.to_str().unwrap());
    assert!(mountpoint.is_dir());
    assert_eq!(v1["Scope"], "local");
    assert_eq!(v1["Labels"], serde_json::json!({}));
    assert_eq!(v1["Options"], serde_json::json!({}));
    assert_eq!(v1["MountCount"], 0);
    assert_eq!(v1["NeedsCopyUp"], true);
    assert!(v1["CreatedAt"].as_str().unwrap().starts_with("20"));
    // podman's field order and layout (five-space indent, `{}` for empty maps).
    let raw = env.ok(&["volume", "inspect", "v1"]);
    let fields: Vec<&str> = raw
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
        .collect();
    assert_eq!(
        fields,
        [
            "Name",
            "Driver",
            "Mountpoint",
            "CreatedAt",
            "Labels",
            "Scope",
            "Options",
            "MountCount",
            "NeedsCopyUp",
            "NeedsChown"
        ]
    );
    assert!(raw.starts_with("[\n     {\n          \"Name\": \"v1\",\n"), "{raw}");
    assert!(raw.contains("\"Labels\": {},\n"), "{raw}");
    assert_eq!(
        env.ok(&["volume", "inspect", "--format", "{{.Name}} {{.Options.o}}", "v2"]),
        "v2 uid=1000\n"
    );
    assert_eq!(
        json(&env.ok(&["volume", "inspect", "--all"])).as_array().unwrap().len(),
        3
    );
    let (stdout, err) = env.fails(&["volume", "inspect", "nothere"], 125);
    assert_eq!(stdout, "[]\n");
    assert_eq!(err, "Error: inspecting object: no such volume nothere\n");

    // Exists.
    env.ok(&["volume", "exists", "v1"]);
    let (stdout, err) = env.fails(&["volume", "exists", "nothere"], 1);
    assert_eq!((stdout.as_str(), err.as_str()), ("", ""));

    // Removal.
    assert_eq!(env.ok(&["volume", "rm", "v1"]), "v1\n");
    assert!(!mountpoint.exists());
    let (_, err) = env.fails(&["volume", "rm", "v1"], 1);
    assert_eq!(err, "Error: no volume with name \"v1\" found: no such volume\n");
    let (_, err) = env.fails(&["volume", "rm"], 125);
    assert_eq!(err, "Error: choose either one or more volumes or all\n");
    assert_eq!(env.ok(&["volume", "rm", "-a"]).lines().count(), 2);
    assert_eq!(env.ok(&["volume", "ls"]), "");
    assert_eq!(env.ok(&["volume", "ls", "--format", "json"]), "[]\n");
}

#[test]
fn prune_removes_unused_volumes() {
    let env = Env::new();
    env.ok(&["volume", "create", "keep", "--label", "keep=yes"]);
    env.ok(&["volume", "create", "drop"]);
    let (code, stdout, _) = env.run(&["volume", "prune"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(
            "WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\ndrop\n"), "{stdout}");
    assert_eq!(
        env.ok(&["volume", "ls", "-q"]),
        "drop\nkeep\n",
        "not confirmed: nothing removed"
    );
    assert_eq!(
        env.ok(&["volume", "prune", "-f", "--filter", "label=keep=yes"]),
        "keep\n"
    );
    assert_eq!(env.ok(&["volume", "prune", "--force"]), "drop\n");
    assert_eq!(env.ok(&["volume", "ls", "-q"]), "");
    assert_eq!(env.ok(&["volume", "prune", "-f"]), "");
}
