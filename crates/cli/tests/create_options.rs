//! Container options that reach the OCI spec, end to end with real conmon and
//! crun/runc: `--sysctl`, `--tz`, `--umask`, a per-container `--runtime`, OCI hooks
//! (`--hooks-dir`) and default mounts (`--default-mounts-file`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command as StdCommand;

use common::{Env, TestImage};

/// Asserts that `args` fail with podman's exit code 125 and exactly `message`.
fn refused(env: &Env, args: &[&str], message: &str) {
    let (code, _, stderr) = env.run(args);
    assert_eq!(code, 125, "corral {args:?}: {stderr}");
    assert_eq!(stderr.lines().last(), Some(message), "corral {args:?}");
}

#[test]
fn sysctls_of_the_containers_namespaces_are_set() {
    let env = Env::new(TestImage::Plain);
    let out = env.ok(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "busybox",
        "cat",
        "/proc/sys/net/ipv4/ip_forward",
    ]);
    assert_eq!(out, "1\n");
    let host = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let out = env.ok(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_forward=0",
        "busybox",
        "cat",
        "/proc/sys/net/ipv4/ip_forward",
    ]);
    assert_eq!(out, "0\n");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host,
        "the host's value is untouched"
    );

    refused(
        &env,
        &["run", "--rm", "--sysctl", "vm.swappiness=1", "busybox", "true"],
        "Error: sysctl 'vm.swappiness' is not allowed",
    );
    refused(
        &env,
        &["create", "--sysctl", "ip_forward", "busybox"],
        "Error: ip_forward is invalid, sysctl values must be in the form of KEY=VALUE",
    );
    refused(
        &env,
        &[
            "run",
            "--rm",
            "--network",
            "host",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "busybox",
            "true",
        ],
        "Error: sysctl net.ipv4.ip_forward=1 can't be set since Network Namespace set to host: invalid argument",
    );
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "", "refused containers are not made");
}

#[test]
fn timezone_and_umask_reach_the_process() {
    let env = Env::new(TestImage::Plain);
    assert!(
        Path::new("/usr/share/zoneinfo/Asia/Tokyo").is_file(),
        "tzdata is installed"
    );
    assert_eq!(
        env.ok(&["run", "--rm", "--tz", "Asia/Tokyo", "busybox", "date", "+%Z"]),
        "JST\n"
    );
    assert_eq!(
        env.ok(&["run", "--rm", "busybox", "date", "+%Z"]),
        "UTC\n",
        "no zone without --tz"
    );
    let local = env.ok(&["run", "--rm", "--tz", "local", "busybox", "cat", "/etc/localtime"]);
    assert_eq!(local.as_bytes(), std::fs::read("/etc/localtime").unwrap());
    refused(
        &env,
        &["run", "--rm", "--tz", "Bogus/Zone", "busybox", "true"],
        "Error: running container create option: stat /usr/share/zoneinfo/Bogus/Zone: no such file or directory",
    );
    refused(
        &env,
        &["create", "--tz", "Asia", "busybox"],
        "Error: running container create option: invalid timezone: is a directory",
    );

    let out = env.ok(&[
        "run",
        "--rm",
        "--umask",
        "0077",
        "busybox",
        "sh",
        "-c",
        "umask; touch /tmp/f; stat -c %a /tmp/f",
    ]);
    assert_eq!(out, "0077\n600\n");
    assert_eq!(env.ok(&["run", "--rm", "busybox", "sh", "-c", "umask"]), "0022\n");
    refused(
        &env,
        &["run", "--rm", "--umask", "999", "busybox", "true"],
        "Error: running container create option: invalid umask string 999: invalid argument",
    );

    env.ok(&[
        "create",
        "--name",
        "zoned",
        "--tz",
        "Asia/Tokyo",
        "--umask",
        "027",
        "busybox",
    ]);
    let shown = env.ok(&["inspect", "--format", "{{.Config.Timezone}} {{.Config.Umask}}", "zoned"]);
    assert_eq!(shown, "Asia/Tokyo 027\n");
}

/// The runtime's own view of container `id`: its status, or None when it has none.
fn runtime_status(runtime: &str, id: &str) -> Option<String> {
    let out = StdCommand::new(runtime).args(["state", id]).output().unwrap();
    if !out.status.success() {
        return None;
    }
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    state["status"].as_str().map(str::to_owned)
}

#[test]
fn a_container_keeps_its_runtime_for_every_later_command() {
    let env = Env::new(TestImage::Plain);
    let id = env.ok(&[
        "run",
        "--runtime",
        "runc",
        "-d",
        "--name",
        "viarunc",
        "busybox",
        "sleep",
        "100",
    ]);
    let id = id.trim();
    assert_eq!(env.ok(&["inspect", "--format", "{{.OCIRuntime}}", "viarunc"]), "runc\n");
    assert_eq!(runtime_status("runc", id).as_deref(), Some("running"));
    assert_eq!(runtime_status("crun", id), None, "crun never saw it");

    // No --runtime from here on: the default (crun) must not be asked.
    assert_eq!(env.ok(&["exec", "viarunc", "echo", "inside"]), "inside\n");
    env.ok(&["stop", "-t", "0", "viarunc"]);
    assert_eq!(
        env.ok(&["inspect", "--format", "{{.State.Status}}", "viarunc"]),
        "exited\n"
    );
    env.ok(&["start", "viarunc"]);
    assert_eq!(runtime_status("runc", id).as_deref(), Some("running"));
    env.ok(&["rm", "-f", "-t", "0", "viarunc"]);
    assert_eq!(runtime_status("runc", id), None, "removed from runc too");
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "");

    refused(
        &env,
        &["run", "--runtime", "surely-no-such-runtime", "--rm", "busybox", "true"],
        "Error: default OCI runtime \"surely-no-such-runtime\" not found: invalid argument",
    );
}

/// A hook program that copies the container state it gets on stdin to the file named
/// by its first argument.
fn hook_script(dir: &Path) -> String {
    let script = dir.join("record-state");
    std::fs::write(&script, "#!/bin/sh\ncat > \"$1\"\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.display().to_string()
}

fn hook_file(dir: &Path, name: &str, program: &str, out: &Path, when: &str, stages: &str) {
    let text = format!(
        r#"{{"version": "1.0.0", "hook": {{"path": "{program}", "args": ["record-state", "{}"]}}, "when": {when}, "stages": {stages}}}"#,
        out.display()
    );
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn matching_hooks_run_at_their_stage() {
    let env = Env::new(TestImage::Plain);
    let base = env.dir.path();
    let hooks = base.join("hooks.d");
    std::fs::create_dir(&hooks).unwrap();
    let program = hook_script(base);
    let created = base.join("created.json");
    let skipped = base.join("skipped.json");
    hook_file(
        &hooks,
        "01-created.json",
        &program,
        &created,
        r#"{"always": true}"#,
        r#"["createRuntime"]"#,
    );
    hook_file(
        &hooks,
        "02-skipped.json",
        &program,
        &skipped,
        r#"{"commands": ["^nginx$"]}"#,
        r#"["prestart"]"#,
    );
    let hooks_dir = hooks.display().to_string();

    let id = env.ok(&[
        "--hooks-dir",
        &hooks_dir,
        "create",
        "--name",
        "hooked",
        "busybox",
        "true",
    ]);
    assert!(!created.exists(), "nothing runs before init");
    env.ok(&["--hooks-dir", &hooks_dir, "start", "--attach", "hooked"]);
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&created).unwrap()).unwrap();
    assert_eq!(state["id"], id.trim(), "the hook got the container's state");
    assert!(!skipped.exists(), "a hook whose conditions do not match is not run");

    std::fs::write(
        hooks.join("03-bad.json"),
        r#"{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": true}, "stages": ["bogus"]}"#,
    )
    .unwrap();
    refused(
        &env,
        &["--hooks-dir", &hooks_dir, "run", "--rm", "busybox", "true"],
        "Error: setting up OCI Hooks: unknown stage \"bogus\"",
    );
    assert_eq!(env.ok(&["ps", "-a", "-q"]).lines().count(), 1, "only `hooked` is left");
}

#[test]
fn default_mounts_are_copies_of_the_host_files() {
    let env = Env::new(TestImage::Plain);
    let base = env.dir.path();
    let source = base.join("defaults");
    std::fs::create_dir(&source).unwrap();
    std::fs::write(source.join("greeting"), "from the host\n").unwrap();
    let conf = base.join("mounts.conf");
    std::fs::write(
        &conf,
        format!(
            "# default mounts\n{}:/run/defaults\n/surely/not/here:/gone\n",
            source.display()
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();

    let out = env.ok(&[
        "--default-mounts-file",
        &conf,
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "cat /run/defaults/greeting; echo new > /run/defaults/made-inside; test -e /gone || echo no-gone",
    ]);
    assert_eq!(out, "from the host\nno-gone\n");
    assert!(
        !source.join("made-inside").exists(),
        "the container writes to its copy only"
    );
    assert_eq!(
        env.ok(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "test -e /run/defaults || echo none"
        ]),
        "none\n",
        "without the file (and none in /etc or /usr/share) there are no default mounts"
    );
}

/// crun compiles the default seccomp profile once: the filter it left for the
/// first container is kept under the runroot and handed to the next one, which
/// loads those very bytes; `seccomp=unconfined` still runs without a filter.
#[test]
fn the_seccomp_filter_crun_compiled_is_kept_for_the_next_container() {
    let env = Env::new(TestImage::Plain);
    let seccomp_mode = ["grep", "Seccomp:", "/proc/self/status"];
    let first = env.ok(&[&["run", "--rm", "busybox"][..], &seccomp_mode].concat());
    assert_eq!(first.trim(), "Seccomp:\t2", "the first container runs under a filter");
    let cached: Vec<_> = std::fs::read_dir(env.runroot.join("seccomp-cache"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    let filter = std::fs::read(&cached[0]).unwrap();
    assert_eq!(filter.len() % 8, 0, "whole BPF instructions");

    let id = env.ok(&["run", "-d", "busybox", "sleep", "60"]).trim().to_string();
    let bundle_spec = env.runroot.join("containers").join(&id).join("userdata/config.json");
    let spec: serde_json::Value = serde_json::from_slice(&std::fs::read(bundle_spec).unwrap()).unwrap();
    assert!(
        spec["annotations"]["run.oci.seccomp_bpf_data"].is_string(),
        "{}",
        spec["annotations"]
    );
    let loaded = std::fs::read(Path::new("/run/crun").join(&id).join("seccomp.bpf")).unwrap();
    assert_eq!(loaded, filter, "crun took the cached filter");
    let second = env.ok(&["exec", &id, "grep", "Seccomp:", "/proc/1/status"]);
    assert_eq!(second.trim(), "Seccomp:\t2");
    env.ok(&["rm", "-f", &id]);

    let unconfined = env.ok(&[
        &["run", "--rm", "--security-opt", "seccomp=unconfined", "busybox"][..],
        &seccomp_mode,
    ]
    .concat());
    assert_eq!(unconfined.trim(), "Seccomp:\t0");
}
