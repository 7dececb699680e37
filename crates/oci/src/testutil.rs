//! Helpers for tests and benchmarks that run real containers: a busybox
//! root filesystem, minimal `config.json` bundles, a temporary runtime
//! environment, and a guard that removes a container even when a test
//! fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rustix::process::{Resource, getrlimit};
use serde_json::json;

use crate::config::RuntimeConfig;
use crate::conmon::ConmonRuntime;
use crate::error::OciError;
use crate::handle::ContainerHandle;

/// The static busybox Debian's busybox-static installs.
pub const BUSYBOX: &str = "/usr/bin/busybox";

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OciError + use<> {
    let path = path.to_path_buf();
    move |e| OciError::io(action, path, e)
}

/// Fills `rootfs` with busybox and a symlink per applet in `bin/`, plus the
/// directories the runtime mounts over.
pub fn busybox_rootfs(rootfs: &Path) -> Result<(), OciError> {
    let bin = rootfs.join("bin");
    std::fs::create_dir_all(&bin).map_err(io_err("creating", &bin))?;
    for dir in ["proc", "sys", "dev", "tmp", "etc", "root", "usr/bin"] {
        let d = rootfs.join(dir);
        std::fs::create_dir_all(&d).map_err(io_err("creating", &d))?;
    }
    let target = bin.join("busybox");
    if std::fs::hard_link(BUSYBOX, &target).is_err() {
        std::fs::copy(BUSYBOX, &target).map_err(io_err("copying busybox to", &target))?;
    }
    let out = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .map_err(io_err("running", Path::new(BUSYBOX)))?;
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        let applet = applet.trim();
        if applet.is_empty() || applet == "busybox" {
            continue;
        }
        let link = bin.join(applet);
        std::os::unix::fs::symlink("busybox", &link).map_err(io_err("linking", &link))?;
    }
    let passwd = rootfs.join("etc/passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/sh\n").map_err(io_err("writing", &passwd))?;
    Ok(())
}

/// A minimal OCI spec running `args` in `rootfs` (read-only, shared
/// between containers) with its own pid, ipc, uts, mount and network
/// namespaces and cgroup `cgroups_path`.
pub fn spec(rootfs: &Path, args: &[&str], cgroups_path: &str, terminal: bool) -> serde_json::Value {
    // Rlimits above the caller's hard limits make the runtime fail.
    let nofile = getrlimit(Resource::Nofile).maximum.unwrap_or(1_048_576).min(1_048_576);
    let caps = corral_define::DEFAULT_CAPABILITIES;
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": terminal,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/bin:/usr/bin", "TERM=xterm", "HOME=/root"],
            "cwd": "/",
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps,
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
            "noNewPrivileges": true
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": "corral-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}
        ],
        "linux": {
            "cgroupsPath": cgroups_path,
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}],
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
            "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// A temporary place to run real containers: exit and persist dirs, a
/// runtime state root of its own, a shared busybox root filesystem. Every
/// container made through it is removed when it drops.
#[derive(Debug)]
pub struct TestEnv {
    pub runtime_name: String,
    pub config: RuntimeConfig,
    rootfs: PathBuf,
    bundles: PathBuf,
    runtime_root: PathBuf,
    runtime_path: Option<PathBuf>,
    created: std::sync::Mutex<Vec<Created>>,
    // Last, so the directory outlives the cleanup above it.
    dir: tempfile::TempDir,
}

#[derive(Debug, Clone)]
struct Created {
    id: String,
    conmon_pid_file: PathBuf,
}

impl TestEnv {
    /// An environment for the runtime called `runtime_name` (`crun`, `runc`).
    pub fn new(runtime_name: &str) -> Result<TestEnv, OciError> {
        let dir = tempfile::Builder::new()
            .prefix("corral-oci-")
            .tempdir()
            .map_err(io_err("creating temporary directory in", &std::env::temp_dir()))?;
        let rootfs = dir.path().join("rootfs");
        busybox_rootfs(&rootfs)?;
        let runtime_root = dir.path().join("runtime-root");
        let mut config = RuntimeConfig::with_tmp_dir(dir.path().join("run"));
        config.runtime_flags.insert(
            runtime_name.to_string(),
            vec![format!("--root={}", runtime_root.display())],
        );
        let bundles = dir.path().join("bundles");
        std::fs::create_dir_all(&bundles).map_err(io_err("creating", &bundles))?;
        Ok(TestEnv {
            runtime_name: runtime_name.to_string(),
            config,
            rootfs,
            bundles,
            runtime_root,
            runtime_path: None,
            created: std::sync::Mutex::new(Vec::new()),
            dir,
        })
    }

    /// The conmon runtime of this environment.
    pub fn runtime(&mut self) -> Result<ConmonRuntime, OciError> {
        let rt = ConmonRuntime::new(&self.runtime_name, &self.config)?;
        self.runtime_path = Some(rt.path.clone());
        Ok(rt)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn rootfs(&self) -> &Path {
        &self.rootfs
    }

    /// The global flags the runtime gets here (its own `--root`).
    pub fn runtime_flags(&self) -> Vec<String> {
        vec![format!("--root={}", self.runtime_root.display())]
    }

    /// A new bundle running `args`, with a fresh ID, registered for removal.
    pub fn container(&self, args: &[&str]) -> Result<ContainerHandle, OciError> {
        self.container_with(args, false)
    }

    pub fn container_with(&self, args: &[&str], terminal: bool) -> Result<ContainerHandle, OciError> {
        let id = corral_define::new_id().map_err(|e| OciError::InvalidArg(e.to_string()))?;
        let bundle = self.bundles.join(&id);
        std::fs::create_dir_all(&bundle).map_err(io_err("creating", &bundle))?;
        let spec = spec(&self.rootfs, args, &format!("/corral_test/{id}"), terminal);
        let config = bundle.join("config.json");
        std::fs::write(&config, spec.to_string()).map_err(io_err("writing", &config))?;
        let mut handle = ContainerHandle::in_bundle(&id, format!("test-{}", &id[..12]), &bundle);
        handle.terminal = terminal;
        if let Ok(mut created) = self.created.lock() {
            created.push(Created {
                id,
                conmon_pid_file: handle.conmon_pid_file.clone(),
            });
        }
        Ok(handle)
    }

    /// Kills the container's conmon and removes it from the runtime.
    pub fn remove(&self, id: &str, conmon_pid_file: &Path) {
        if let Some(path) = &self.runtime_path {
            let _ = Command::new(path)
                .args(self.runtime_flags())
                .args(["delete", "--force", id])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(pid) = std::fs::read_to_string(conmon_pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
            .and_then(crate::process::positive_pid)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let created = self.created.lock().map(|c| c.clone()).unwrap_or_default();
        for c in created {
            self.remove(&c.id, &c.conmon_pid_file);
        }
    }
}
