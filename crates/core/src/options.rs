//! [`RuntimeOptions`]: where the engine keeps its files and which parts it uses.

use std::path::PathBuf;
use std::str::FromStr;

use corral_storage::Driver;

use crate::error::CoreError;

/// Which state store backs the engine (containers.conf's `database_backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateBackend {
    /// SQLite, shared safely by many processes.
    #[default]
    Sqlite,
    /// sled, one process at a time behind a global lock.
    Sled,
    /// Nothing on disk: lives and dies with the process.
    InMemory,
}

impl StateBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            StateBackend::Sqlite => "sqlite",
            StateBackend::Sled => "sled",
            StateBackend::InMemory => "in-memory",
        }
    }
}

impl FromStr for StateBackend {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        match s {
            "sqlite" => Ok(StateBackend::Sqlite),
            "sled" | "boltdb" => Ok(StateBackend::Sled),
            "in-memory" | "memory" => Ok(StateBackend::InMemory),
            other => Err(CoreError::InvalidArg(format!(
                "unknown database backend {other:?} (sqlite, sled, in-memory)"
            ))),
        }
    }
}

/// How containers' cgroups are managed (`cgroup_manager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupManager {
    /// The runtime writes the cgroup filesystem itself.
    #[default]
    Cgroupfs,
    /// No cgroups at all (`--cgroups=disabled`): no resource limits.
    Disabled,
}

impl CgroupManager {
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupManager::Cgroupfs => "cgroupfs",
            CgroupManager::Disabled => "disabled",
        }
    }
}

impl FromStr for CgroupManager {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        match s {
            "cgroupfs" => Ok(CgroupManager::Cgroupfs),
            "disabled" => Ok(CgroupManager::Disabled),
            other => Err(CoreError::InvalidArg(format!(
                "unknown cgroup manager {other:?} (cgroupfs, disabled)"
            ))),
        }
    }
}

/// Everything [`crate::Runtime::new`] needs. Paths left `None` are derived
/// from `root` and `runroot` as described in the crate docs.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeOptions {
    /// Persistent data (`--root`).
    pub root: PathBuf,
    /// Volatile per-boot data (`--runroot`).
    pub runroot: PathBuf,
    /// Exit files and conmon persist dirs (`--tmpdir`); default: the runroot.
    pub tmp_dir: Option<PathBuf>,
    /// The state database and per-container persistent files; default `<root>/libpod`.
    pub static_dir: Option<PathBuf>,
    /// Named volumes; default `<root>/volumes`.
    pub volume_path: Option<PathBuf>,
    /// The OCI runtime new containers use (`crun`, `runc`).
    pub oci_runtime: String,
    /// Global flags given to the OCI runtime before each command (`--root=...`).
    pub oci_runtime_flags: Vec<String>,
    /// conmon's path; None searches podman's usual places and `$PATH`.
    pub conmon_path: Option<PathBuf>,
    pub cgroup_manager: CgroupManager,
    pub state_backend: StateBackend,
    /// libpod namespace: only containers of this namespace are seen; empty for all.
    pub namespace: String,
    /// How container root filesystems are made; None picks overlay when usable.
    pub storage_driver: Option<Driver>,
    /// The `corral` binary conmon calls as `corral --root R --runroot RR container
    /// cleanup ID` when a container exits. None: no exit command; the exit is then
    /// noticed from the exit file by the next operation on the container.
    pub exit_command_binary: Option<PathBuf>,
    /// The seccomp profile containers get by default (containers-common's format or the
    /// OCI one); used only when the file exists.
    pub seccomp_profile: PathBuf,
    /// The init binary `init` containers run as PID 1.
    pub init_path: PathBuf,
    /// Where events are recorded (`--events-backend`, containers.conf's `events_logger`).
    pub events_logger: crate::events::EventsLogger,
    /// OCI hook directories (`--hooks-dir`, containers.conf's `hooks_dir`), read at
    /// every init; a file masks a same-named one of an earlier directory.
    pub hooks_dirs: Vec<PathBuf>,
    /// The mounts.conf every container's default mounts come from
    /// (`--default-mounts-file`); None: the first of /etc/containers/mounts.conf and
    /// /usr/share/containers/mounts.conf that exists.
    pub default_mounts_file: Option<PathBuf>,
    /// libpod's WithNoStore: the image and layer store (`<root>/storage`) is never
    /// opened, so only what needs no image or root filesystem works (listing,
    /// inspecting, stopping, logs, volumes).
    pub no_store: bool,
}

/// podman's hook directories when none are configured.
pub(crate) const DEFAULT_HOOKS_DIRS: &[&str] = &["/usr/share/containers/oci/hooks.d", "/etc/containers/oci/hooks.d"];

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            root: PathBuf::from("/var/lib/corral"),
            runroot: PathBuf::from("/run/corral"),
            tmp_dir: None,
            static_dir: None,
            volume_path: None,
            oci_runtime: "crun".into(),
            oci_runtime_flags: Vec::new(),
            conmon_path: None,
            cgroup_manager: CgroupManager::default(),
            state_backend: StateBackend::default(),
            namespace: String::new(),
            storage_driver: None,
            exit_command_binary: None,
            seccomp_profile: PathBuf::from("/usr/share/containers/seccomp.json"),
            init_path: PathBuf::from("/usr/bin/catatonit"),
            events_logger: crate::events::EventsLogger::File,
            hooks_dirs: DEFAULT_HOOKS_DIRS.iter().map(PathBuf::from).collect(),
            default_mounts_file: None,
            no_store: false,
        }
    }
}

impl RuntimeOptions {
    /// The defaults with another root and runroot.
    pub fn with_roots(root: impl Into<PathBuf>, runroot: impl Into<PathBuf>) -> Self {
        RuntimeOptions {
            root: root.into(),
            runroot: runroot.into(),
            ..Default::default()
        }
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.tmp_dir.clone().unwrap_or_else(|| self.runroot.clone())
    }

    pub fn static_dir(&self) -> PathBuf {
        self.static_dir.clone().unwrap_or_else(|| self.root.join("libpod"))
    }

    pub fn volume_path(&self) -> PathBuf {
        self.volume_path.clone().unwrap_or_else(|| self.root.join("volumes"))
    }

    pub fn storage_root(&self) -> PathBuf {
        self.root.join("storage")
    }

    pub fn storage_run_root(&self) -> PathBuf {
        self.runroot.join("storage")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_paths_and_names() {
        let o = RuntimeOptions::with_roots("/r", "/rr");
        assert_eq!(o.static_dir(), PathBuf::from("/r/libpod"));
        assert_eq!(o.tmp_dir(), PathBuf::from("/rr"));
        assert_eq!(o.volume_path(), PathBuf::from("/r/volumes"));
        assert_eq!("sled".parse::<StateBackend>().unwrap(), StateBackend::Sled);
        assert!("x".parse::<StateBackend>().is_err());
        assert_eq!("disabled".parse::<CgroupManager>().unwrap(), CgroupManager::Disabled);
    }
}
