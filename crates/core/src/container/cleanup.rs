//! `cleanup` (with the restart policy and auto-removal) and `remove`.

use corral_define::{ContainerStatus, ErrorKind, HasKind};
use corral_state::ContainerRecord;

use super::Container;
use crate::container_spec::RestartPolicy;
use crate::error::{CoreError, Result};

/// How [`Container::remove`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemoveOptions {
    /// Stop a running container first instead of refusing.
    pub force: bool,
    /// Seconds to wait for the stop signal before SIGKILL; None: the container's own.
    pub timeout: Option<u32>,
}

fn remove_dir_if_present(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CoreError::io("removing directory", path, e)),
    }
}

impl Container {
    /// What conmon's exit command does when the process exits: applies the restart
    /// policy (restarting the container), or else cleans up (unmount, delete from the
    /// runtime; status `exited`) and removes an auto-remove container.
    pub async fn cleanup(&self) -> Result<()> {
        let (guard, mut rec) = self.lock_and_sync().await?;
        if rec.state.state.is_active() {
            return Err(self.invalid(format!("is {}, refusing to clean up", rec.state.state)));
        }
        if self.should_restart(&rec) {
            rec.state.restart_count += 1;
            tracing::debug!(
                "restarting container {} (restart {}) after exit code {}",
                self.id(),
                rec.state.restart_count,
                rec.state.exit_code
            );
            self.event("restart");
            return self.start_unlocked(&mut rec, true).await;
        }
        self.cleanup_unlocked(&mut rec).await?;
        if self.config.misc.auto_remove && rec.state.state == ContainerStatus::Exited {
            self.remove_unlocked(&mut rec, RemoveOptions::default()).await?;
            drop(guard);
            // podman removes an auto-removed container's anonymous volumes with it.
            self.rt
                .remove_anonymous_volumes(&self.config.root_fs.named_volumes)
                .await?;
        }
        Ok(())
    }

    /// libpod's restart policy check: only after the process exited on its own.
    fn should_restart(&self, rec: &ContainerRecord) -> bool {
        let st = &rec.state;
        if st.stopped_by_user || !st.exited || !matches!(st.state, ContainerStatus::Stopped | ContainerStatus::Exited) {
            return false;
        }
        match RestartPolicy::from_record(&self.config.misc.restart_policy, self.config.misc.restart_retries) {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure { max_retries } => {
                st.exit_code != 0 && (max_retries == 0 || st.restart_count < max_retries)
            }
        }
    }

    /// Deletes the container from the runtime and unmounts its root filesystem;
    /// created -> configured, stopped -> exited.
    pub(crate) async fn cleanup_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        if rec.state.state.is_active() {
            return Err(self.invalid(format!("is {}, refusing to clean up", rec.state.state)));
        }
        self.teardown_unlocked(rec).await?;
        rec.state.state = match rec.state.state {
            ContainerStatus::Created => ContainerStatus::Configured,
            ContainerStatus::Stopped => ContainerStatus::Exited,
            other => other,
        };
        self.save(rec)?;
        self.event("cleanup");
        Ok(())
    }

    /// The undoing of init, whatever the status: runtime delete, unmount.
    pub(crate) async fn teardown_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        if matches!(
            rec.state.state,
            ContainerStatus::Created | ContainerStatus::Stopped | ContainerStatus::Removing
        ) || rec.state.pid != 0
        {
            if let Err(e) = self.oci().delete_container(&self.handle()).await {
                // A container the runtime never created or already forgot.
                tracing::debug!("deleting container {} from the runtime: {e}", self.id());
            }
            rec.state.pid = 0;
            rec.state.conmon_pid = 0;
        }
        // Without a store the mount stays recorded: conmon's exit command, which runs
        // with one, unmounts it.
        if rec.state.mounted && self.rt.has_store() {
            self.unmount_volumes();
            self.rt.inner.rootfs.unmount(self.id(), false)?;
            rec.state.mounted = false;
            rec.state.mountpoint.clear();
        }
        Ok(())
    }

    /// Removes the container: refuses one that others depend on, and a running one
    /// unless forced (then stops it first); removes its root filesystem, bundle and
    /// files, its record, and frees its lock.
    pub async fn remove(&self, options: RemoveOptions) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.remove_unlocked(&mut rec, options).await
    }

    pub(crate) async fn remove_unlocked(&self, rec: &mut ContainerRecord, options: RemoveOptions) -> Result<()> {
        let inner = &self.rt.inner;
        // Its root filesystem could not be removed: refused before anything changes.
        if !self.rt.has_store() {
            return Err(CoreError::NoStore("remove a container"));
        }
        let dependents = inner.state.container_in_use(self.id())?;
        if !dependents.is_empty() {
            return Err(CoreError::DependencyExists(format!(
                "container {} has dependent containers which must be removed before it: {}",
                self.id(),
                dependents.join(", ")
            )));
        }
        if rec.state.state.is_active() {
            if !options.force {
                return Err(self.invalid(format!(
                    "cannot be removed as it is {} - running or paused containers cannot be removed without force",
                    rec.state.state
                )));
            }
            self.stop_unlocked(rec, options.timeout.unwrap_or(self.config.misc.stop_timeout))
                .await?;
        }
        rec.state.state = ContainerStatus::Removing;
        // Sessions die with the container's processes.
        rec.state.exec_sessions.clear();
        self.save(rec)?;
        inner.state.remove_container_exec_sessions(self.id())?;
        self.teardown_unlocked(rec).await?;
        inner.rootfs.remove(self.id())?;
        let handle = self.handle();
        let oci = self.oci();
        for path in [oci.exit_file_path(&handle)?, oci.oom_file_path(&handle)?] {
            if let Err(e) = std::fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(CoreError::io("removing", &path, e));
            }
        }
        remove_dir_if_present(&oci.persist_directory_path(&handle)?)?;
        for dir in [self.rt.bundle_dir(self.id()), self.rt.container_static_dir(self.id())] {
            remove_dir_if_present(&dir)?;
            if let Some(parent) = dir.parent() {
                remove_dir_if_present(parent)?;
            }
        }
        match inner.state.remove_container(self.id()) {
            Err(e) if e.kind() == ErrorKind::NoSuchContainer => {}
            other => other?,
        }
        self.lock.free()?;
        self.event("remove");
        Ok(())
    }
}
