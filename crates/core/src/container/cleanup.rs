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

/// Whether the OCI runtime may still hold the container: created, stopped but
/// not cleaned up, half removed, or with a process recorded.
fn runtime_may_know(rec: &ContainerRecord) -> bool {
    matches!(
        rec.state.state,
        ContainerStatus::Created | ContainerStatus::Stopped | ContainerStatus::Removing
    ) || rec.state.pid != 0
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
        let runtime_delete = runtime_may_know(rec);
        self.teardown_meanwhile(rec, runtime_delete, || Ok(())).await
    }

    /// The teardown, with `meanwhile` run after the unmount while the runtime's
    /// `delete` (a process of its own, 10-20 ms of every removal) is under way:
    /// nothing on the host side waits for it. A container whose spec has
    /// poststop hooks, which the runtime runs during `delete` and which may
    /// look at the root filesystem, keeps the two one after the other.
    async fn teardown_meanwhile(
        &self,
        rec: &mut ContainerRecord,
        runtime_delete: bool,
        meanwhile: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let handle = self.handle();
        let delete = async {
            if runtime_delete && let Err(e) = self.oci().delete_container(&handle).await {
                // A container the runtime never created or already forgot.
                tracing::debug!("deleting container {} from the runtime: {e}", self.id());
            }
        };
        let host_side = || -> Result<()> {
            // Without a store the mount stays recorded: conmon's exit command, which
            // runs with one, unmounts it.
            if rec.state.mounted && self.rt.has_store() {
                self.unmount_volumes();
                self.rt.inner.rootfs.unmount(self.id(), false)?;
                rec.state.mounted = false;
                rec.state.mountpoint.clear();
            }
            meanwhile()
        };
        // Without a runtime delete there is nothing to order, and no spec to read.
        let host_side = if runtime_delete && self.has_poststop_hooks() {
            delete.await;
            host_side()
        } else {
            // The runtime's process is started by the first poll of `delete`.
            tokio::join!(delete, async { host_side() }).1
        };
        if runtime_delete {
            rec.state.pid = 0;
            rec.state.conmon_pid = 0;
        }
        host_side
    }

    /// Whether the container's OCI spec carries poststop hooks.
    fn has_poststop_hooks(&self) -> bool {
        #[derive(serde::Deserialize)]
        struct Spec {
            #[serde(default)]
            hooks: Hooks,
        }
        #[derive(serde::Deserialize, Default)]
        struct Hooks {
            #[serde(default)]
            poststop: Vec<serde::de::IgnoredAny>,
        }
        let Some(spec) = &self.config.spec else {
            return false;
        };
        // A spec that does not read is treated as having hooks: the slower, safe order.
        serde_json::from_str::<Spec>(spec.as_str()).map_or(true, |spec| !spec.hooks.poststop.is_empty())
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
        // Decided before the status becomes `removing`, which always asks the
        // runtime: a container cleaned up by its exit command is already gone there.
        let runtime_delete = runtime_may_know(rec);
        rec.state.state = ContainerStatus::Removing;
        // Sessions die with the container's processes.
        rec.state.exec_sessions.clear();
        self.save(rec)?;
        inner.state.remove_container_exec_sessions(self.id())?;
        let handle = self.handle();
        let oci = self.oci();
        self.teardown_meanwhile(rec, runtime_delete, || {
            inner.rootfs.remove(self.id())?;
            for path in [oci.exit_file_path(&handle)?, oci.oom_file_path(&handle)?] {
                if let Err(e) = std::fs::remove_file(&path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    return Err(CoreError::io("removing", &path, e));
                }
            }
            remove_dir_if_present(&oci.persist_directory_path(&handle)?)
        })
        .await?;
        // After the runtime's `delete`, which may still read the bundle.
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
