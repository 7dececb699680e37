//! [`Runtime::migrate`]: libpod's migrate (`system migrate [--new-runtime]`).

use corral_define::ContainerStatus;
use corral_oci::ConmonRuntime;

use super::EngineLock;
use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

/// What [`Runtime::migrate`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateReport {
    /// Full IDs of the containers stopped, in the order they were stopped.
    pub stopped: Vec<String>,
    /// Full IDs of the containers whose config now names the new OCI runtime.
    pub rewritten: Vec<String>,
}

impl Runtime {
    /// Stops every running container (its own stop timeout) and, with
    /// `new_runtime`, rewrites every container's config to use that OCI runtime,
    /// as podman's `system migrate` does; podman's other steps (the rootless pause
    /// process, an old conmon pid file location) have nothing to act on here.
    ///
    /// A runtime whose executable (or conmon) cannot be found is refused before
    /// anything changes (podman: "no such runtime is defined"). With a new runtime,
    /// containers the old one still holds are let go too: paused ones are stopped
    /// and created ones cleaned up (back to `configured`), since the new runtime
    /// could not act on them. The engine lock is held exclusively throughout. The
    /// runtime stays usable; handles looked up before still name the old runtime.
    pub async fn migrate(&self, new_runtime: Option<&str>) -> Result<MigrateReport> {
        self.ensure_valid()?;
        let new_runtime = new_runtime.filter(|name| !name.is_empty());
        if let Some(name) = new_runtime
            && name != self.inner.oci.name()
            && let Err(e) = ConmonRuntime::new(name, &self.inner.oci_config)
        {
            tracing::debug!("OCI runtime {name}: {e}");
            return Err(CoreError::InvalidArg(format!(
                "change to runtime {name:?} requested but no such runtime is defined"
            )));
        }
        let _engine = EngineLock::exclusive(&self.inner.options.runroot)?;
        let mut report = MigrateReport::default();
        for (ctr, state) in self.get_containers_with_state().await? {
            match state.state {
                ContainerStatus::Running => {}
                ContainerStatus::Paused | ContainerStatus::Stopping if new_runtime.is_some() => {}
                ContainerStatus::Created if new_runtime.is_some() => {
                    ctr.cleanup().await?;
                    continue;
                }
                _ => continue,
            }
            tracing::info!("stopping container {}", ctr.id());
            ctr.stop(None).await?;
            report.stopped.push(ctr.id().to_string());
        }
        if let Some(name) = new_runtime {
            for rec in self.state().all_containers(false)? {
                if rec.config.oci_runtime == name {
                    continue;
                }
                tracing::info!("container {} now uses OCI runtime {name}", rec.config.id);
                let mut config = rec.config;
                config.oci_runtime = name.into();
                self.state().rewrite_container_config(&config)?;
                report.rewritten.push(config.id.to_string());
            }
        }
        Ok(report)
    }
}
