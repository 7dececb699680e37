//! Plain inputs of the runtime operations: what the runtime needs to know
//! about a container, an exec session, a checkpoint.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where conmon sends the container's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LogDriver {
    /// podman's default: CRI log lines in a file (`--log-path k8s-file:PATH`).
    #[default]
    K8sFile,
    Journald,
    /// No log at all.
    None,
    /// The container's stdio is the caller's (`passthrough`): no attach socket.
    Passthrough,
}

/// What the runtime needs to know about one container. The caller (core)
/// fills it from the container's config and state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerHandle {
    pub id: String,
    pub name: String,
    /// The OCI bundle: `config.json` here; conmon puts the attach socket,
    /// the `ctl` and `winsz` FIFOs and runtime logs here too.
    pub bundle_dir: PathBuf,
    /// Where the runtime writes the container's init pid.
    pub pid_file: PathBuf,
    /// Where conmon writes its own pid after daemonizing.
    pub conmon_pid_file: PathBuf,
    pub log_driver: LogDriver,
    pub log_path: PathBuf,
    /// Largest log file in bytes; 0 or less is unlimited.
    pub log_size_max: i64,
    pub log_tag: Option<String>,
    pub terminal: bool,
    /// Keep a pipe open to the container's stdin.
    pub stdin: bool,
    /// Program and arguments conmon runs when the container exits
    /// (`corral container cleanup ID`); empty for none.
    pub exit_command: Vec<String>,
    /// Signal `stop` sends first; 0 is SIGTERM.
    pub stop_signal: i32,
    /// Seconds after which conmon kills the container; 0 is never.
    pub timeout: u32,
    /// Run without cgroups (`--cgroups=disabled`).
    pub no_cgroups: bool,
    /// Where checkpoints of this container are written and restored from.
    pub checkpoint_dir: PathBuf,
}

impl ContainerHandle {
    /// Paths laid out the way podman lays them out in a container's bundle
    /// directory (`userdata/`): pid files, `ctr.log`, `checkpoint/`.
    pub fn in_bundle(id: impl Into<String>, name: impl Into<String>, bundle_dir: impl Into<PathBuf>) -> Self {
        let bundle_dir = bundle_dir.into();
        ContainerHandle {
            id: id.into(),
            name: name.into(),
            pid_file: bundle_dir.join("pidfile"),
            conmon_pid_file: bundle_dir.join("conmon.pid"),
            log_path: bundle_dir.join("ctr.log"),
            checkpoint_dir: bundle_dir.join("checkpoint"),
            bundle_dir,
            ..Default::default()
        }
    }

    /// The exec session's own bundle directory, beside `config.json`.
    pub fn exec_bundle_dir(&self, session_id: &str) -> PathBuf {
        self.bundle_dir.join(session_id)
    }

    /// The directory conmon writes an exec session's exit file to; the
    /// file itself is named after the container.
    pub fn exec_exit_dir(&self, session_id: &str) -> PathBuf {
        self.exec_bundle_dir(session_id).join("exit")
    }

    pub fn exec_exit_file(&self, session_id: &str) -> PathBuf {
        self.exec_exit_dir(session_id).join(&self.id)
    }
}

/// Who the exec process runs as; resolving names is the caller's job.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

/// How to run a command inside a running container. The process starts
/// from the container's own `process` (config.json) with these changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    /// Added to (and overriding) the container's environment.
    pub env: BTreeMap<String, String>,
    pub terminal: bool,
    pub cwd: Option<String>,
    pub user: Option<ExecUser>,
    /// Program and arguments conmon runs when the session exits.
    pub exit_command: Vec<String>,
    /// Seconds conmon waits before running the exit command.
    pub exit_command_delay: u32,
    /// Number of file descriptors above 2 handed to the process.
    pub preserve_fds: u32,
    /// Capabilities of the process in every set (`exec --privileged`);
    /// None keeps the container's own.
    pub capabilities: Option<Vec<String>>,
}

/// How to checkpoint a running container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckpointOptions {
    /// Leave the container running after the checkpoint.
    pub keep_running: bool,
    pub tcp_established: bool,
    pub file_locks: bool,
    /// Dump memory only, into the pre-checkpoint directory.
    pub pre_checkpoint: bool,
    /// Build on the previous pre-checkpoint.
    pub with_previous: bool,
}

/// How to restore a container from its checkpoint directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreOptions {
    pub tcp_established: bool,
    pub tcp_close: bool,
    pub file_locks: bool,
}

/// conmon's identity, as `info` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConmonInfo {
    pub package: String,
    pub path: String,
    pub version: String,
}

/// The OCI runtime's identity, as `info` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OciRuntimeInfo {
    pub name: String,
    pub package: String,
    pub path: String,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_paths_follow_podman() {
        let h = ContainerHandle::in_bundle("c1", "web", "/b/userdata");
        assert_eq!(h.exec_bundle_dir("s1"), PathBuf::from("/b/userdata/s1"));
        assert_eq!(h.exec_exit_file("s1"), PathBuf::from("/b/userdata/s1/exit/c1"));
        assert_eq!(h.pid_file, PathBuf::from("/b/userdata/pidfile"));
    }

    #[test]
    fn info_uses_podman_field_names() {
        let info = OciRuntimeInfo {
            name: "crun".into(),
            ..Default::default()
        };
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["Name"], "crun");
    }
}
