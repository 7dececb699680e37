//! The container commands end to end: the `corral` binary with real conmon
//! and crun on the busybox test image, each test in its own root and runroot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use corral_cli::cli::GlobalOptions;
use corral_storage::ImageStore;
use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive};
use corral_storage::spec::{ContainerSettings, ImageConfig, host_architecture};

const IMAGE: &str = "localhost/busybox:latest";
const BUSYBOX: &str = "/usr/bin/busybox";

/// The busybox test image (as `cargo xtask test-image` builds it) as a docker archive.
fn write_image(path: &Path) {
    let mut layer = LayerBuilder::new();
    for (dir, mode) in [
        ("bin", 0o755),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("usr/sbin", 0o755),
        ("sbin", 0o755),
        ("etc", 0o755),
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("root", 0o700),
    ] {
        layer.dir(dir, mode);
    }
    layer.file(
        "bin/busybox",
        0o755,
        std::fs::read(BUSYBOX).expect("busybox-static is installed"),
    );
    let list = StdCommand::new(BUSYBOX).arg("--list-full").output().unwrap();
    let mut applets: Vec<String> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(|a| a.trim().trim_start_matches('/').to_owned())
        .filter(|a| !a.is_empty() && a != "bin/busybox")
        .collect();
    applets.sort();
    applets.dedup();
    for applet in &applets {
        layer.symlink(applet, "/bin/busybox");
    }
    layer
        .file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/group", 0o644, "root:x:0:\n");
    let config = ImageConfig {
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (image, blobs) = ImageBuilder::new(config)
        .name(IMAGE)
        .unwrap()
        .layer(&layer.to_tar().unwrap(), Compression::Gzip)
        .unwrap()
        .build()
        .unwrap();
    write_docker_archive(std::fs::File::create(path).unwrap(), &[image], &blobs).unwrap();
}

/// A root and runroot of their own with the image loaded; dropping it
/// removes every container (`rm -af`), whatever survived that, and the dirs.
struct Env {
    root: PathBuf,
    runroot: PathBuf,
    // Last, so the directory outlives the cleanup above it.
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::Builder::new().prefix("corral-cli-").tempdir().unwrap();
        let root = dir.path().join("root");
        let runroot = dir.path().join("run");
        let archive = dir.path().join("busybox.tar");
        write_image(&archive);
        let global = GlobalOptions {
            root: Some(root.clone()),
            runroot: Some(runroot.clone()),
            ..GlobalOptions::default()
        };
        let runtime = corral_cli::engine::runtime(&global).unwrap();
        runtime.storage().load(&archive, None).unwrap();
        Env { root, runroot, dir }
    }

    fn corral(&self) -> Command {
        let mut cmd = Command::cargo_bin("corral").unwrap();
        cmd.arg("--root").arg(&self.root).arg("--runroot").arg(&self.runroot);
        cmd.timeout(Duration::from_secs(60));
        cmd
    }

    /// Runs `args`, returning exit code, stdout and stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.corral().args(args).output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Runs `args`, which must succeed; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.run(args);
        assert_eq!(code, 0, "corral {args:?} failed: {stderr}");
        stdout
    }
}

fn quiet(cmd: &mut StdCommand) {
    let _ = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.corral().args(["rm", "-af", "-t", "0"]).output();
        if let Ok(entries) = std::fs::read_dir(self.runroot.join("containers")) {
            for entry in entries.flatten() {
                let id = entry.file_name().to_string_lossy().into_owned();
                if let Ok(pid) = std::fs::read_to_string(entry.path().join("userdata/conmon.pid")) {
                    quiet(StdCommand::new("kill").args(["-9", pid.trim()]));
                }
                quiet(StdCommand::new("crun").args(["delete", "--force", &id]));
            }
        }
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let dir = self.dir.path().to_string_lossy().into_owned();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|p| p.starts_with(&dir))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for point in points {
            quiet(StdCommand::new("umount").args(["-l", point]));
        }
    }
}

/// A name no other test uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", std::process::id())
}

#[test]
fn run_prints_output_and_exits_with_the_containers_code() {
    let env = Env::new();
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
    let env = Env::new();
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
    let env = Env::new();
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
    let env = Env::new();
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
    assert!(stderr.starts_with("Error: names must match"), "{stderr}");
    let (code, _, stderr) = env.run(&["run", "nosuchimage", "true"]);
    assert_eq!(code, 125);
    assert!(stderr.starts_with("Error: "), "{stderr}");
}

#[test]
fn detached_rm_container_is_removed_by_its_exit_command() {
    let env = Env::new();
    let name = unique("gone");
    env.ok(&["run", "-d", "--rm", "--name", &name, "busybox", "true"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.run(&["container", "exists", &name]).0 == 0 {
        assert!(Instant::now() < deadline, "conmon's exit command never removed {name}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
