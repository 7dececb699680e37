//! The [`OciRuntime`] trait: libpod's OCIRuntime interface.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use corral_attach::WindowSize;
use corral_define::{ContainerState, ExecSession};

use crate::error::OciError;
use crate::exec::AttachedExec;
use crate::handle::{CheckpointOptions, ConmonInfo, ContainerHandle, ExecOptions, OciRuntimeInfo, RestoreOptions};

/// What `info` reports about the monitor and the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// None when the runtime is missing and conmon was never looked for.
    pub conmon: Option<ConmonInfo>,
    pub runtime: OciRuntimeInfo,
}

/// An OCI runtime driven through a monitor process: everything the engine
/// asks of crun or runc. Operations that change the container record the
/// runtime's answer (pids, times, status) in the [`ContainerState`] given;
/// saving it is the caller's job, under the container's lock.
#[async_trait]
pub trait OciRuntime: Send + Sync + fmt::Debug {
    /// The runtime's name (`crun`, `runc`).
    fn name(&self) -> &str;

    /// The runtime executable's path.
    fn path(&self) -> PathBuf;

    /// Creates the container under a new conmon, or restores it from its
    /// checkpoint when `restore` is given (it is then running). Records the
    /// container and conmon pids. Returns how long a restore took.
    async fn create_container(
        &self,
        ctr: &ContainerHandle,
        state: &mut ContainerState,
        restore: Option<&RestoreOptions>,
    ) -> Result<Duration, OciError>;

    /// Updates the status from conmon's exit file and the pids, without
    /// calling the runtime: an exit file means the container stopped; a dead
    /// conmon without one marks the container stopped with an error.
    async fn update_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError>;

    /// Asks the runtime itself (`runtime state ID`) and records its answer.
    async fn sync_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError>;

    /// Starts a created container and records the start time.
    async fn start_container(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError>;

    /// Sends `signal` to the container's init process, or to all of its
    /// processes when `all` is set.
    async fn kill_container(
        &self,
        ctr: &ContainerHandle,
        state: &ContainerState,
        signal: i32,
        all: bool,
    ) -> Result<(), OciError>;

    /// Sends the stop signal, waits up to `timeout` seconds for the process
    /// to die, then sends SIGKILL. A timeout of 0 sends SIGKILL at once.
    /// Does not read the exit code: call
    /// [`update_container_status`](Self::update_container_status) after.
    async fn stop_container(
        &self,
        ctr: &ContainerHandle,
        state: &ContainerState,
        timeout: u32,
        all: bool,
    ) -> Result<(), OciError>;

    /// Removes the container from the runtime (`delete --force`).
    async fn delete_container(&self, ctr: &ContainerHandle) -> Result<(), OciError>;

    async fn pause_container(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError>;

    async fn unpause_container(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError>;

    /// The container's conmon attach socket (SOCK_SEQPACKET).
    fn attach_socket_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError>;

    /// Resizes the container's terminal through conmon's `ctl` FIFO.
    async fn attach_resize(&self, ctr: &ContainerHandle, size: WindowSize) -> Result<(), OciError>;

    /// Runs a command in the container with its streams on the session's
    /// attach socket, connected before the process starts so no output is
    /// lost. The caller pumps the streams and then awaits the exit code.
    async fn exec_container(
        &self,
        ctr: &ContainerHandle,
        session_id: &str,
        opts: &ExecOptions,
        attach_stdin: bool,
        size: Option<WindowSize>,
    ) -> Result<AttachedExec, OciError>;

    /// Runs a command in the container without attaching; returns its pid.
    async fn exec_container_detached(
        &self,
        ctr: &ContainerHandle,
        session_id: &str,
        opts: &ExecOptions,
        stdin: bool,
    ) -> Result<i32, OciError>;

    async fn exec_attach_resize(
        &self,
        ctr: &ContainerHandle,
        session_id: &str,
        size: WindowSize,
    ) -> Result<(), OciError>;

    /// Stops an exec session: SIGTERM, then SIGKILL after `timeout` seconds
    /// (at once for 0).
    async fn exec_stop_container(
        &self,
        ctr: &ContainerHandle,
        session: &ExecSession,
        timeout: u32,
    ) -> Result<(), OciError>;

    /// True while the exec session's process is alive.
    fn exec_update_status(&self, ctr: &ContainerHandle, session: &ExecSession) -> Result<bool, OciError>;

    /// The exec session's exit code once conmon wrote it.
    fn exec_exit_code(&self, ctr: &ContainerHandle, session_id: &str) -> Result<Option<i32>, OciError>;

    /// Removes what the exec session left: its bundle, socket, exit file.
    async fn exec_container_cleanup(&self, ctr: &ContainerHandle, session_id: &str) -> Result<(), OciError>;

    fn exec_attach_socket_path(&self, ctr: &ContainerHandle, session_id: &str) -> Result<PathBuf, OciError>;

    /// Checkpoints the container with CRIU into its checkpoint directory;
    /// returns how long the runtime took.
    async fn checkpoint_container(
        &self,
        ctr: &ContainerHandle,
        state: &mut ContainerState,
        opts: &CheckpointOptions,
    ) -> Result<Duration, OciError>;

    /// True while the container's conmon is alive.
    fn check_conmon_running(&self, ctr: &ContainerHandle, state: &ContainerState) -> Result<bool, OciError>;

    fn supports_checkpoint(&self) -> bool;

    fn supports_json_errors(&self) -> bool;

    fn supports_no_cgroups(&self) -> bool;

    fn supports_kvm(&self) -> bool;

    /// Where conmon writes the container's exit code.
    fn exit_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError>;

    /// Where conmon notes that the container was OOM-killed.
    fn oom_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError>;

    /// The container's conmon persist directory (`exit`, `oom`).
    fn persist_directory_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError>;

    async fn runtime_info(&self) -> Result<RuntimeInfo, OciError>;
}
