//! [`Container`]: one container of a [`Runtime`], and its lifecycle operations, one
//! file per verb. Every public operation takes the container's lock, re-reads its state
//! from the store and applies what conmon's exit files say (libpod's syncContainer),
//! acts, and saves; functions named `*_unlocked` expect the caller to hold the lock.

mod attach;
mod batch;
mod cleanup;
mod create;
mod exec;
mod exec_detached;
mod exec_session;
mod filesystem;
mod follow;
mod init;
mod inspect;
mod rename;
mod start;
mod stop;
mod sync;
mod top;
mod volumes;
mod wait;

use std::path::PathBuf;
use std::sync::Arc;

use corral_define::{ContainerConfig, ContainerState, ContainerStatus};
use corral_lock::{LockError, LockGuard, Locker};
use corral_oci::{ContainerHandle, LogDriver, OciRuntime};
use corral_state::{ContainerRecord, StateError};

use crate::error::{CoreError, Result};
use crate::logs::{LogLine, LogOptions, read_log};
use crate::runtime::Runtime;

pub use batch::Batch;
pub use cleanup::RemoveOptions;
pub use create::parse_signal;
pub use exec::ExecRequest;
pub use exec_session::{ExecProcessInspect, ExecSessionInspect};
pub use wait::DEFAULT_WAIT_INTERVAL;

/// A container of a [`Runtime`]. Holds its immutable config; its state is always
/// read afresh from the store.
#[derive(Debug, Clone)]
pub struct Container {
    rt: Runtime,
    config: Arc<ContainerConfig>,
    lock: Arc<dyn Locker>,
}

impl Container {
    pub(crate) fn new(rt: Runtime, config: ContainerConfig) -> Result<Container> {
        rt.ensure_valid()?;
        let lock: Arc<dyn Locker> = match rt.inner.locks.retrieve_lock(config.lock_id) {
            Ok(lock) => Arc::from(lock),
            // Removed by another process since its record was read: its lock went with it.
            Err(LockError::NoSuchLock { .. }) if !rt.inner.state.has_container(&config.id)? => {
                return Err(StateError::NoSuchContainer(config.id.to_string()).into());
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Container {
            rt,
            config: Arc::new(config),
            lock,
        })
    }

    pub fn id(&self) -> &str {
        &self.config.id
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The config fixed at creation (image, command, generated OCI spec, ...).
    pub fn config(&self) -> &ContainerConfig {
        &self.config
    }

    /// The config, without a copy when no other handle of this container shares it.
    pub fn into_config(self) -> ContainerConfig {
        Arc::unwrap_or_clone(self.config)
    }

    /// The OCI spec generated at creation, parsed; None for containers made without one.
    pub(crate) fn stored_spec(&self) -> Result<Option<serde_json::Value>> {
        self.config
            .spec
            .as_ref()
            .map(|raw| raw.to_value())
            .transpose()
            .map_err(|e| CoreError::Internal(format!("container {}'s stored OCI spec: {e}", self.id())))
    }

    /// The container's record as the store has it now, without taking the lock or
    /// looking at exit files (cheap, for listings).
    pub fn record(&self) -> Result<ContainerRecord> {
        Ok(self.rt.inner.state.container(self.id())?)
    }

    /// The container's state, brought up to date with conmon's exit files.
    pub async fn state(&self) -> Result<ContainerState> {
        let (_guard, rec) = self.lock_and_sync().await?;
        Ok(rec.state)
    }

    /// The current status (brought up to date like [`Container::state`]).
    pub async fn status(&self) -> Result<ContainerStatus> {
        Ok(self.state().await?.state)
    }

    /// Lines of the container's k8s-file log.
    pub fn logs(&self, options: &LogOptions) -> Result<Vec<LogLine>> {
        read_log(&self.log_path(), options)
    }

    /// Where the container's log is.
    pub fn log_path(&self) -> PathBuf {
        PathBuf::from(&self.config.misc.log_path)
    }

    fn oci(&self) -> Arc<dyn OciRuntime> {
        self.rt.oci_for(&self.config.oci_runtime)
    }

    /// What the OCI runtime needs to know about this container.
    pub(crate) fn handle(&self) -> ContainerHandle {
        let c = &self.config;
        let mut h = ContainerHandle::in_bundle(c.id.as_str(), c.name.as_str(), self.rt.bundle_dir(&c.id));
        h.log_path = self.log_path();
        h.log_driver = match c.misc.log_driver.as_str() {
            "none" => LogDriver::None,
            "journald" => LogDriver::Journald,
            "passthrough" => LogDriver::Passthrough,
            _ => LogDriver::K8sFile,
        };
        h.log_size_max = c.misc.log_size;
        h.terminal = c.misc.terminal;
        h.stdin = c.misc.stdin;
        h.exit_command = c.misc.exit_command.iter().map(ToString::to_string).collect();
        h.stop_signal = i32::try_from(c.misc.stop_signal).unwrap_or(15);
        h.no_cgroups = self.rt.inner.options.cgroup_manager == crate::options::CgroupManager::Disabled;
        h
    }

    /// Takes the lock (on a blocking thread: another process may hold it a while).
    async fn lock(&self) -> Result<LockGuard> {
        let lock = self.lock.clone();
        let locked = tokio::task::spawn_blocking(move || lock.lock())
            .await
            .map_err(|e| CoreError::Internal(format!("waiting for a container lock: {e}")))?;
        match locked {
            Ok(guard) => Ok(guard),
            // Removing a container frees its lock: whoever waited on it (or
            // holds a stale handle) learns that the container is gone.
            Err(LockError::NoSuchLock { .. }) if !self.rt.inner.state.has_container(self.id())? => {
                Err(StateError::NoSuchContainer(self.id().to_string()).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Takes the lock, then reads and syncs the record.
    pub(crate) async fn lock_and_sync(&self) -> Result<(LockGuard, ContainerRecord)> {
        self.rt.ensure_valid()?;
        let guard = self.lock().await?;
        let mut rec = self.rt.inner.state.container(self.id())?;
        self.sync_unlocked(&mut rec).await?;
        if rec.state.state == ContainerStatus::Stopping {
            // A stop holds this lock until it is done: a `stopping` record seen under
            // it was left by a stop that was killed. The runtime says what is true.
            rec.state.state = ContainerStatus::Running;
            self.sync_with_runtime_unlocked(&mut rec).await?;
            self.save(&rec)?;
        }
        Ok((guard, rec))
    }

    /// Applies conmon's exit file (or a dead conmon) to the record and saves a change.
    pub(crate) async fn sync_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        if !rec.state.state.may_have_exited() {
            return Ok(());
        }
        let before = rec.state.clone();
        self.oci()
            .update_container_status(&self.handle(), &mut rec.state)
            .await?;
        if rec.state != before {
            self.save(rec)?;
            if matches!(rec.state.state, ContainerStatus::Stopped | ContainerStatus::Exited) {
                self.rt.container_event(&self.config, "died", Some(rec.state.exit_code));
            }
        }
        Ok(())
    }

    /// Records that `status` happened to this container.
    pub(crate) fn event(&self, status: &str) {
        self.rt.container_event(&self.config, status, None);
    }

    pub(crate) fn save(&self, rec: &ContainerRecord) -> Result<()> {
        Ok(self.rt.inner.state.save_container(rec)?)
    }

    /// `InvalidState` naming the container and its status.
    pub(crate) fn invalid(&self, what: impl std::fmt::Display) -> CoreError {
        CoreError::InvalidState(format!("container {} {what}", self.id()))
    }
}

#[cfg(test)]
mod tests;
