//! Volumes in containers and the system commands end to end: the `corral` binary with
//! real conmon and crun on a busybox image, each test in its own root and runroot.

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

/// The busybox test image with `VOLUME /data` holding `/data/seed`, as a docker archive.
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
        .file("etc/group", 0o644, "root:x:0:\n")
        .dir("data", 0o755)
        .file("data/seed", 0o644, "seeded\n");
    let config = ImageConfig {
        architecture: host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerSettings {
            env: Some(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            working_dir: Some("/".into()),
            volumes: Some([("/data".to_owned(), serde_json::json!({}))].into()),
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
        let dir = tempfile::Builder::new().prefix("corral-sys-").tempdir().unwrap();
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

/// Names of the volumes, sorted.
fn volumes(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = env.ok(&["volume", "ls", "-q"]).lines().map(str::to_owned).collect();
    names.sort();
    names
}

fn is_anonymous_name(name: &str) -> bool {
    name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn named_and_anonymous_volumes() {
    let env = Env::new();
    // A named volume is made on first use and outlives the containers.
    env.ok(&[
        "run",
        "--rm",
        "-v",
        "shared:/mnt",
        "busybox",
        "sh",
        "-c",
        "echo hello > /mnt/f",
    ]);
    let out = env.ok(&["run", "--rm", "-v", "shared:/mnt:ro", "busybox", "cat", "/mnt/f"]);
    assert_eq!(out, "hello\n");
    let (code, _, stderr) = env.run(&["run", "--rm", "-v", "shared:/mnt:ro", "busybox", "touch", "/mnt/g"]);
    assert_ne!(code, 0, "a read-only volume refuses writes");
    assert!(stderr.contains("Read-only"), "{stderr}");
    // --rm took the image's anonymous /data volumes with the containers.
    assert_eq!(volumes(&env), ["shared"]);

    // An empty volume gets the image's content at its destination on first use.
    let out = env.ok(&["run", "--rm", "-v", "seeded:/data", "busybox", "cat", "/data/seed"]);
    assert_eq!(out, "seeded\n");
    let out = env.ok(&["run", "--rm", "busybox", "cat", "/data/seed"]);
    assert_eq!(out, "seeded\n", "the anonymous volume is copied up too");

    // `--mount` of each type.
    let host = env.dir.path().join("bound");
    std::fs::create_dir(&host).unwrap();
    let bind = format!("type=bind,src={},dst=/b", host.display());
    let script = "echo b > /b/f; echo v > /m/f; echo t > /t/f; grep ' /t ' /proc/mounts | cut -d' ' -f3";
    let out = env.ok(&[
        "run",
        "--rm",
        "--mount",
        &bind,
        "--mount",
        "type=volume,src=mounted,dst=/m",
        "--mount",
        "type=tmpfs,dst=/t",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(out, "tmpfs\n");
    assert_eq!(std::fs::read_to_string(host.join("f")).unwrap(), "b\n");
    assert_eq!(
        env.ok(&["run", "--rm", "-v", "mounted:/x", "busybox", "cat", "/x/f"]),
        "v\n"
    );

    // A created container holds its volumes: a named one cannot be removed (exit 2).
    let id = env.ok(&[
        "create", "--name", "holder", "-v", "keep:/k", "-v", "/anon", "busybox", "true",
    ]);
    let anonymous: Vec<String> = volumes(&env).into_iter().filter(|n| is_anonymous_name(n)).collect();
    assert_eq!(anonymous.len(), 2, "-v /anon and the image's /data: {anonymous:?}");
    let (code, _, stderr) = env.run(&["volume", "rm", "keep"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("volume is being used"), "{stderr}");
    assert_eq!(id.trim().len(), 64, "{id}");

    // While it runs its volumes are mounted once; stopping unmounts them.
    env.ok(&["start", "holder"]);
    env.ok(&["wait", "holder"]);
    // conmon's exit command cleans up (unmounts) a moment after the exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.ok(&["volume", "inspect", "--format", "{{.MountCount}}", "keep"]) != "0\n" {
        assert!(Instant::now() < deadline, "the exit command never unmounted the volume");
        std::thread::sleep(Duration::from_millis(100));
    }
    env.ok(&[
        "run", "-d", "--name", "sleeper", "-v", "keep:/k", "busybox", "sleep", "100",
    ]);
    let count = env.ok(&["volume", "inspect", "--format", "{{.MountCount}}", "keep"]);
    assert_eq!(count, "1\n");
    env.ok(&["stop", "-t", "0", "sleeper"]);
    let count = env.ok(&["volume", "inspect", "--format", "{{.MountCount}}", "keep"]);
    assert_eq!(count, "0\n");
    env.ok(&["rm", "-v", "sleeper"]);

    // `rm -v` removes the anonymous volumes, not the named ones.
    env.ok(&["rm", "-v", "holder"]);
    assert_eq!(volumes(&env), ["keep", "mounted", "seeded", "shared"]);
    env.ok(&["volume", "rm", "keep"]);
}

#[test]
fn info_df_prune_and_reset() {
    let env = Env::new();
    let graph_root = env.ok(&["info", "--format", "{{.Store.GraphRoot}}"]);
    assert_eq!(graph_root.trim(), env.root.join("storage").to_str().unwrap());

    let stopped = env.ok(&["create", "busybox", "true"]);
    let stopped = stopped.trim();
    env.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "100"]);
    let info: serde_json::Value = serde_json::from_str(&env.ok(&["info", "--format", "json"])).unwrap();
    assert_eq!(info["host"]["ociRuntime"]["name"], "crun");
    assert_eq!(info["host"]["conmon"]["path"], "/usr/bin/conmon");
    assert_eq!(info["host"]["os"], "linux");
    assert_eq!(info["store"]["imageStore"]["number"], 1);
    let store = &info["store"]["containerStore"];
    assert_eq!(
        (&store["number"], &store["running"], &store["stopped"]),
        (&2.into(), &1.into(), &1.into())
    );
    assert_eq!(info["store"]["volumePath"], env.root.join("volumes").to_str().unwrap());
    assert!(env.ok(&["info"]).contains("graphDriverName: "));

    let df = env.ok(&["system", "df"]);
    let lines: Vec<Vec<&str>> = df.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    assert_eq!(lines[1][..3], ["Images", "1", "1"]);
    assert_eq!(lines[2][..3], ["Containers", "2", "1"]);
    assert_eq!(lines[3][..4], ["Local", "Volumes", "2", "2"]);
    let types = env.ok(&["system", "df", "--format", "{{.Type}}:{{.Total}}"]);
    assert_eq!(types, "Images:1\nContainers:2\nLocal Volumes:2\n");

    // The sleeper goes without its volume: prune takes the stopped container and both volumes.
    env.ok(&["rm", "-f", "-t", "0", "sleeper"]);
    let out = env.ok(&["system", "prune", "-f", "--volumes"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["Deleted Containers", stopped], "{out}");
    assert_eq!(lines[2], "Deleted Volumes", "{out}");
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[5].starts_with("Total reclaimed space: "), "{out}");
    assert!(env.ok(&["ps", "-aq"]).is_empty());
    assert!(env.ok(&["volume", "ls", "-q"]).is_empty());
    assert_eq!(
        env.ok(&["images", "-q"]).lines().count(),
        1,
        "the named image stays without -a"
    );

    env.ok(&["run", "-d", "-v", "v1:/v", "busybox", "sleep", "100"]);
    env.ok(&["system", "reset", "-f"]);
    assert!(!env.root.exists(), "reset removes the root");
    assert!(env.ok(&["ps", "-aq"]).is_empty());
    assert!(env.ok(&["images", "-q"]).is_empty());
}

#[test]
fn external_storage_containers() {
    use corral_storage::ContainerFsStore;
    let env = Env::new();
    let known = env.ok(&["create", "--name", "known", "busybox", "true"]);
    let id = "e".repeat(64);
    {
        let global = GlobalOptions {
            root: Some(env.root.clone()),
            runroot: Some(env.runroot.clone()),
            ..GlobalOptions::default()
        };
        let runtime = corral_cli::engine::runtime(&global).unwrap();
        let store = runtime.storage();
        let image = ImageStore::lookup(store, IMAGE).unwrap();
        store
            .create_container(&id, &image.id, &["outsider".to_owned()], "")
            .unwrap();
    }
    assert_eq!(
        env.ok(&["ps", "-aq"]),
        format!("{}\n", &known.trim()[..12]),
        "only with --external"
    );
    let out = env.ok(&[
        "ps",
        "-a",
        "--external",
        "--format",
        "{{.ID}} {{.Names}} {{.Status}} {{.Image}}",
    ]);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[1], format!("{} outsider Storage {IMAGE}", &id[..12]));
    assert!(lines[0].ends_with(&format!("known Created {IMAGE}")), "{out}");

    // `rm --storage` refuses a container the state knows, removes the outsider.
    let (code, _, stderr) = env.run(&["rm", "--storage", "known"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("exists in libpod as container"), "{stderr}");
    assert_eq!(env.ok(&["rm", "--storage", "outsider"]), "outsider\n");
    assert_eq!(env.ok(&["ps", "-aq", "--external"]).lines().count(), 1);
    let (code, _, _) = env.run(&["rm", "--storage", "outsider"]);
    assert_eq!(code, 1, "no such container");
}
