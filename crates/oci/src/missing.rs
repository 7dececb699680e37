//! [`MissingRuntime`]: stands in for a runtime that is no longer installed,
//! so its containers can still be listed, inspected and removed.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use corral_attach::WindowSize;
use corral_define::{ContainerState, ExecSession};

use crate::config::RuntimeConfig;
use crate::error::OciError;
use crate::exec::AttachedExec;
use crate::handle::{CheckpointOptions, ContainerHandle, ExecOptions, OciRuntimeInfo, RestoreOptions};
use crate::process::pid_alive;
use crate::runtime::{OciRuntime, RuntimeInfo};
use crate::status::{apply_conmon_dead, apply_exit, read_exit_file};

/// A runtime named in a container's config that cannot be found. Paths and
/// status from exit files still work; everything that needs the runtime
/// fails with [`OciError::Missing`].
#[derive(Debug, Clone)]
pub struct MissingRuntime {
    name: String,
    display_name: String,
    exits_dir: PathBuf,
    persist_dir: PathBuf,
}

impl MissingRuntime {
    pub fn new(name: &str, config: &RuntimeConfig) -> Self {
        MissingRuntime {
            name: name.to_string(),
            display_name: format!("{name} (missing/not available)"),
            exits_dir: config.exits_dir(),
            persist_dir: config.persist_dir(),
        }
    }

    fn missing(&self) -> OciError {
        OciError::Missing {
            name: self.name.clone(),
        }
    }
}

#[async_trait]
impl OciRuntime for MissingRuntime {
    /// podman's name for a missing runtime: `NAME (missing/not available)`.
    #[allow(clippy::misnamed_getters)]
    fn name(&self) -> &str {
        &self.display_name
    }

    fn path(&self) -> PathBuf {
        PathBuf::from("(missing/not available)")
    }

    async fn create_container(
        &self,
        _ctr: &ContainerHandle,
        _state: &mut ContainerState,
        _restore: Option<&RestoreOptions>,
    ) -> Result<Duration, OciError> {
        Err(self.missing())
    }

    /// Reads exit files like the real runtime; a container whose conmon
    /// died is marked stopped (its process cannot be killed without the
    /// runtime, so that is reported instead).
    async fn update_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        if !state.state.may_have_exited() {
            return Ok(());
        }
        let oom = self.persist_dir.join(&ctr.id).join("oom").exists();
        if let Some(exit) = read_exit_file(&self.exits_dir.join(&ctr.id))? {
            apply_exit(state, exit, oom);
            return Ok(());
        }
        if state.conmon_pid > 0 && !pid_alive(state.conmon_pid)? {
            if pid_alive(state.pid)? {
                return Err(self.missing());
            }
            apply_conmon_dead(state);
        }
        Ok(())
    }

    async fn sync_container_status(&self, _ctr: &ContainerHandle, _state: &mut ContainerState) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn start_container(&self, _ctr: &ContainerHandle, _state: &mut ContainerState) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn kill_container(
        &self,
        _ctr: &ContainerHandle,
        _state: &ContainerState,
        _signal: i32,
        _all: bool,
    ) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn stop_container(
        &self,
        _ctr: &ContainerHandle,
        _state: &ContainerState,
        _timeout: u32,
        _all: bool,
    ) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn delete_container(&self, _ctr: &ContainerHandle) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn pause_container(&self, _ctr: &ContainerHandle, _state: &mut ContainerState) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn unpause_container(&self, _ctr: &ContainerHandle, _state: &mut ContainerState) -> Result<(), OciError> {
        Err(self.missing())
    }

    fn attach_socket_path(&self, _ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Err(self.missing())
    }

    async fn attach_resize(&self, _ctr: &ContainerHandle, _size: WindowSize) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn exec_container(
        &self,
        _ctr: &ContainerHandle,
        _session_id: &str,
        _opts: &ExecOptions,
        _attach_stdin: bool,
        _size: Option<WindowSize>,
    ) -> Result<AttachedExec, OciError> {
        Err(self.missing())
    }

    async fn exec_container_detached(
        &self,
        _ctr: &ContainerHandle,
        _session_id: &str,
        _opts: &ExecOptions,
        _stdin: bool,
    ) -> Result<i32, OciError> {
        Err(self.missing())
    }

    async fn exec_attach_resize(
        &self,
        _ctr: &ContainerHandle,
        _session_id: &str,
        _size: WindowSize,
    ) -> Result<(), OciError> {
        Err(self.missing())
    }

    async fn exec_stop_container(
        &self,
        _ctr: &ContainerHandle,
        _session: &ExecSession,
        _timeout: u32,
    ) -> Result<(), OciError> {
        Err(self.missing())
    }

    fn exec_update_status(&self, _ctr: &ContainerHandle, _session: &ExecSession) -> Result<bool, OciError> {
        Err(self.missing())
    }

    fn exec_exit_code(&self, ctr: &ContainerHandle, session_id: &str) -> Result<Option<i32>, OciError> {
        crate::exec::exec_exit_code(ctr, session_id)
    }

    async fn exec_container_cleanup(&self, ctr: &ContainerHandle, session_id: &str) -> Result<(), OciError> {
        crate::exec::cleanup(ctr, session_id)
    }

    fn exec_attach_socket_path(&self, _ctr: &ContainerHandle, _session_id: &str) -> Result<PathBuf, OciError> {
        Err(self.missing())
    }

    async fn checkpoint_container(
        &self,
        _ctr: &ContainerHandle,
        _state: &mut ContainerState,
        _opts: &CheckpointOptions,
    ) -> Result<Duration, OciError> {
        Err(self.missing())
    }

    fn check_conmon_running(&self, _ctr: &ContainerHandle, state: &ContainerState) -> Result<bool, OciError> {
        pid_alive(state.conmon_pid)
    }

    fn supports_checkpoint(&self) -> bool {
        false
    }

    fn supports_json_errors(&self) -> bool {
        false
    }

    fn supports_no_cgroups(&self) -> bool {
        false
    }

    fn supports_kvm(&self) -> bool {
        false
    }

    fn exit_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.exits_dir.join(&ctr.id))
    }

    fn oom_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.persist_dir.join(&ctr.id).join("oom"))
    }

    fn persist_directory_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.persist_dir.join(&ctr.id))
    }

    async fn runtime_info(&self) -> Result<RuntimeInfo, OciError> {
        Ok(RuntimeInfo {
            conmon: None,
            runtime: OciRuntimeInfo {
                name: self.display_name.clone(),
                package: "(missing/not available)".into(),
                path: "(missing/not available)".into(),
                version: "(missing/not available)".into(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_define::{ContainerStatus, ErrorKind, HasKind};

    #[tokio::test]
    async fn answers_paths_and_refuses_runtime_work() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RuntimeConfig::with_tmp_dir(dir.path());
        let rt = MissingRuntime::new("kata", &cfg);
        let ctr = ContainerHandle::in_bundle("c1", "web", dir.path().join("b"));
        let mut state = ContainerState {
            state: ContainerStatus::Running,
            ..Default::default()
        };
        assert_eq!(rt.name(), "kata (missing/not available)");
        assert_eq!(rt.exit_file_path(&ctr).unwrap(), dir.path().join("exits/c1"));
        assert_eq!(rt.oom_file_path(&ctr).unwrap(), dir.path().join("persist/c1/oom"));
        let err = rt.start_container(&ctr, &mut state).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RuntimeMissing);
        assert!(err.to_string().contains("kata"), "{err}");
        assert_eq!(
            rt.delete_container(&ctr).await.unwrap_err().kind(),
            ErrorKind::RuntimeMissing
        );
        assert!(!rt.supports_checkpoint());
        assert_eq!(
            rt.runtime_info().await.unwrap().runtime.name,
            "kata (missing/not available)"
        );

        // Status still comes from exit files.
        std::fs::create_dir_all(dir.path().join("exits")).unwrap();
        std::fs::write(dir.path().join("exits/c1"), "3").unwrap();
        rt.update_container_status(&ctr, &mut state).await.unwrap();
        assert_eq!(state.state, ContainerStatus::Stopped);
        assert_eq!(state.exit_code, 3);
    }
}
