//! `start` (initializing first when needed, dependencies first) and `restart`.

use corral_define::{ContainerStatus, ToCompactString};
use corral_state::ContainerRecord;

use super::Container;
use crate::error::Result;

impl Container {
    /// Starts the container: its dependencies first, then init when it is not
    /// created in the runtime yet, then the runtime's start.
    pub async fn start(&self) -> Result<()> {
        self.start_dependencies().await?;
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.start_unlocked(&mut rec, false).await
    }

    /// Stops the container if it runs (waiting `timeout` seconds before SIGKILL; None:
    /// its stop timeout), then starts it.
    pub async fn restart(&self, timeout: Option<u32>) -> Result<()> {
        self.start_dependencies().await?;
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.event("restart");
        if rec.state.state.is_active() {
            self.stop_unlocked(&mut rec, timeout.unwrap_or(self.config.misc.stop_timeout))
                .await?;
        }
        self.start_unlocked(&mut rec, false).await
    }

    /// Starts every container this one depends on that is not running, recursively.
    pub(super) async fn start_dependencies(&self) -> Result<()> {
        let mut pending: Vec<String> = self.config.dependencies();
        let mut seen: Vec<String> = vec![self.id().to_string()];
        let mut order: Vec<Container> = Vec::new();
        while let Some(id) = pending.pop() {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id.clone());
            let dep = self.rt.lookup_container(&id)?;
            pending.extend(dep.config.dependencies());
            order.push(dep);
        }
        // Deepest dependencies were found last: start them first.
        for dep in order.into_iter().rev() {
            if dep.status().await? != ContainerStatus::Running {
                let (_guard, mut rec) = dep.lock_and_sync().await?;
                if rec.state.state != ContainerStatus::Running {
                    dep.start_unlocked(&mut rec, false).await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn start_unlocked(&self, rec: &mut ContainerRecord, retain_retries: bool) -> Result<()> {
        if rec.state.state == ContainerStatus::Created {
            // A start killed after the runtime's start but before saving left
            // `created` in the store: the runtime knows better.
            let before = rec.state.clone();
            self.oci().sync_container_status(&self.handle(), &mut rec.state).await?;
            if rec.state.state == ContainerStatus::Running {
                rec.state.started_time.get_or_insert_with(chrono::Utc::now);
                self.save(rec)?;
                return Ok(());
            }
            if rec.state != before {
                self.save(rec)?;
            }
        }
        match rec.state.state {
            ContainerStatus::Created => {}
            ContainerStatus::Configured | ContainerStatus::Stopped | ContainerStatus::Exited => {
                self.init_unlocked(rec, retain_retries).await?;
            }
            _ => return Err(self.invalid("must be in Created or Stopped state to be started")),
        }
        self.start_initialized_unlocked(rec).await
    }

    /// The runtime's start of a container this process has just initialized (so no
    /// earlier start can have been cut short).
    pub(crate) async fn start_initialized_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        rec.state.stopped_by_user = false;
        let result = self.oci().start_container(&self.handle(), &mut rec.state).await;
        match result {
            Ok(()) => {
                self.save(rec)?;
                self.event("start");
                Ok(())
            }
            Err(err) => {
                rec.state.error = err.to_compact_string();
                self.sync_unlocked(rec).await?;
                if let Err(e) = self.cleanup_unlocked(rec).await {
                    tracing::warn!("cleaning up container {} after a failed start: {e}", self.id());
                }
                self.save(rec)?;
                Err(err.into())
            }
        }
    }
}
