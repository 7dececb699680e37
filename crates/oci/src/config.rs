//! Where the runtimes and conmon are, and the engine settings that shape
//! conmon's command line (containers.conf's `[engine]` table).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::conmon::ConmonRuntime;
use crate::missing::MissingRuntime;
use crate::runtime::OciRuntime;

/// Settings of the OCI runtime layer, with podman's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Runtime used when a container names none.
    pub default_runtime: String,
    /// Candidate paths per runtime name (`[engine.runtimes]`); the first
    /// regular file wins, then `$PATH` is searched for the name.
    pub runtimes: BTreeMap<String, Vec<PathBuf>>,
    /// Global flags given to a runtime before its command, per runtime name
    /// (`[engine.runtimes_flags]`), written with their leading dashes.
    pub runtime_flags: BTreeMap<String, Vec<String>>,
    /// Candidate paths of conmon (`conmon_path`).
    pub conmon_paths: Vec<PathBuf>,
    /// Extra environment for conmon (`conmon_env_vars`).
    pub conmon_env: Vec<String>,
    /// Directory for exit files (`exits/`) and persist dirs (`persist/ID/`):
    /// the engine's tmp dir under the runroot.
    pub tmp_dir: PathBuf,
    /// Runtimes that write JSON error logs (`runtime_supports_json`).
    pub supports_json: Vec<String>,
    /// Runtimes that run containers without cgroups (`runtime_supports_nocgroups`).
    pub supports_no_cgroups: Vec<String>,
    /// Runtimes that isolate with KVM (`runtime_supports_kvm`).
    pub supports_kvm: Vec<String>,
    /// Pass `--no-pivot` to the runtime (`no_pivot_root`).
    pub no_pivot: bool,
    /// Give each container a new session keyring (`keyring`).
    pub enable_keyring: bool,
    /// `cgroup_manager`: with systemd, conmon tells the runtime to use
    /// systemd cgroups (`-s`, the runtime's `--systemd-cgroup`); cgroupfs,
    /// the default of crun and runc, needs no flag.
    pub systemd_cgroup: bool,
    /// conmon's `--log-level`.
    pub conmon_log_level: String,
    /// conmon logs to syslog as well (`--syslog`).
    pub conmon_syslog: bool,
}

fn paths(list: &[&str]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let mut runtimes = BTreeMap::new();
        runtimes.insert(
            "crun".to_string(),
            paths(&[
                "/usr/bin/crun",
                "/usr/sbin/crun",
                "/usr/local/bin/crun",
                "/usr/local/sbin/crun",
                "/sbin/crun",
                "/bin/crun",
                "/run/current-system/sw/bin/crun",
            ]),
        );
        runtimes.insert(
            "runc".to_string(),
            paths(&[
                "/usr/bin/runc",
                "/usr/sbin/runc",
                "/usr/local/bin/runc",
                "/usr/local/sbin/runc",
                "/sbin/runc",
                "/bin/runc",
                "/usr/lib/cri-o-runc/sbin/runc",
                "/run/current-system/sw/bin/runc",
            ]),
        );
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        RuntimeConfig {
            default_runtime: "crun".into(),
            runtimes,
            runtime_flags: BTreeMap::new(),
            conmon_paths: paths(&[
                "/usr/libexec/podman/conmon",
                "/usr/local/libexec/podman/conmon",
                "/usr/local/lib/podman/conmon",
                "/usr/bin/conmon",
                "/usr/sbin/conmon",
                "/usr/local/bin/conmon",
                "/usr/local/sbin/conmon",
                "/run/current-system/sw/bin/conmon",
            ]),
            conmon_env: Vec::new(),
            tmp_dir: PathBuf::from("/run/corral"),
            supports_json: names(&["crun", "runc", "kata", "runsc", "youki", "krun"]),
            supports_no_cgroups: names(&["crun", "krun"]),
            supports_kvm: names(&["kata", "kata-runtime", "kata-qemu", "kata-fc", "krun"]),
            no_pivot: false,
            enable_keyring: true,
            systemd_cgroup: false,
            conmon_log_level: "error".into(),
            conmon_syslog: false,
        }
    }
}

impl RuntimeConfig {
    /// The default config with exit files and persist dirs under `tmp_dir`.
    pub fn with_tmp_dir(tmp_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            tmp_dir: tmp_dir.into(),
            ..Default::default()
        }
    }

    pub fn exits_dir(&self) -> PathBuf {
        self.tmp_dir.join("exits")
    }

    pub fn persist_dir(&self) -> PathBuf {
        self.tmp_dir.join("persist")
    }

    /// Seccomp filters crun compiled, for the next container with the same profile.
    pub fn seccomp_cache_dir(&self) -> PathBuf {
        self.tmp_dir.join("seccomp-cache")
    }

    /// The runtime called `name` (or the default one for an empty name):
    /// a [`ConmonRuntime`] when its executable and conmon are found, else a
    /// [`MissingRuntime`] that still answers for the containers made with it.
    pub fn runtime(&self, name: &str) -> Arc<dyn OciRuntime> {
        let name = if name.is_empty() { &self.default_runtime } else { name };
        match ConmonRuntime::new(name, self) {
            Ok(rt) => Arc::new(rt),
            Err(err) => {
                tracing::warn!("OCI runtime {name} unavailable: {err}");
                Arc::new(MissingRuntime::new(name, self))
            }
        }
    }
}

/// The first candidate that is a regular file, else `name` looked up in
/// `$PATH`.
pub(crate) fn find_executable(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    let is_file = |p: &Path| std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false);
    if let Some(found) = candidates.iter().find(|p| is_file(p)) {
        return Some(found.clone());
    }
    let path_var = std::env::var_os("PATH")?;
    std::env::split_paths(&path_var)
        .map(|dir| dir.join(name))
        .find(|p| is_file(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_first_regular_file_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let sub = dir.path().join("a-dir");
        std::fs::create_dir(&sub).unwrap();
        let real = dir.path().join("tool");
        std::fs::write(&real, b"").unwrap();
        assert_eq!(
            find_executable("tool", &[missing.clone(), sub, real.clone()]),
            Some(real)
        );
        assert_eq!(find_executable("surely-no-such-tool-xyz", &[missing]), None);
        assert!(find_executable("sh", &[]).is_some());
    }

    #[test]
    fn unknown_runtime_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RuntimeConfig::with_tmp_dir(dir.path());
        let rt = cfg.runtime("no-such-runtime-xyz");
        assert_eq!(rt.name(), "no-such-runtime-xyz (missing/not available)");
    }
}
