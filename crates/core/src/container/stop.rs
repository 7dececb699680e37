//! `stop`, `kill`, `pause` and `unpause`.

use std::time::Duration;

use corral_define::ContainerStatus;
use corral_state::ContainerRecord;

use super::Container;
use crate::error::{CoreError, Result};

/// How long conmon may take to write the exit file once the process died.
const EXIT_FILE_WAIT: Duration = Duration::from_secs(20);
const SIGKILL: i32 = 9;

impl Container {
    /// Stops the container: its stop signal, then SIGKILL after `timeout` seconds (None:
    /// the container's stop timeout; 0: SIGKILL at once); then cleans it up (status
    /// `exited`). Stopping a stopped or exited container does nothing.
    pub async fn stop(&self, timeout: Option<u32>) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.stop_checked_unlocked(&mut rec, timeout).await
    }

    /// [`stop`](Self::stop) with the lock held.
    pub(crate) async fn stop_checked_unlocked(&self, rec: &mut ContainerRecord, timeout: Option<u32>) -> Result<()> {
        match rec.state.state {
            ContainerStatus::Stopped | ContainerStatus::Exited => {
                if rec.state.state == ContainerStatus::Stopped {
                    self.cleanup_unlocked(rec).await?;
                }
                Ok(())
            }
            ContainerStatus::Created
            | ContainerStatus::Running
            | ContainerStatus::Paused
            | ContainerStatus::Stopping => {
                self.stop_unlocked(rec, timeout.unwrap_or(self.config.misc.stop_timeout))
                    .await
            }
            other => Err(CoreError::InvalidState(format!(
                "can only stop created or running containers. {} is in state {other}",
                self.id()
            ))),
        }
    }

    pub(crate) async fn stop_unlocked(&self, rec: &mut ContainerRecord, timeout: u32) -> Result<()> {
        let oci = self.oci();
        let handle = self.handle();
        rec.state.stopped_by_user = true;
        if rec.state.state == ContainerStatus::Paused {
            // A frozen process cannot act on a signal: kill it, then thaw it to die.
            oci.kill_container(&handle, &rec.state, SIGKILL, false).await?;
            oci.unpause_container(&handle, &mut rec.state).await?;
        } else {
            if rec.state.state == ContainerStatus::Running {
                rec.state.state = ContainerStatus::Stopping;
            }
            self.save(rec)?;
            oci.stop_container(&handle, &rec.state, timeout, false).await?;
        }
        self.wait_for_exit_unlocked(rec, EXIT_FILE_WAIT).await?;
        self.event("stop");
        self.cleanup_unlocked(rec).await
    }

    /// Waits (holding the lock) until conmon recorded the exit, at most `limit`.
    pub(crate) async fn wait_for_exit_unlocked(&self, rec: &mut ContainerRecord, limit: Duration) -> Result<()> {
        let exit_file = self.oci().exit_file_path(&self.handle())?;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            self.sync_unlocked(rec).await?;
            if !rec.state.state.may_have_exited() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(CoreError::Timeout(format!(
                    "container {} did not exit within {limit:?}",
                    self.id()
                )));
            }
            corral_oci::wait_for_exit_file(&exit_file, (deadline - now).min(Duration::from_millis(200))).await?;
        }
    }

    /// Sends `signal` to the container's process.
    pub async fn kill(&self, signal: i32) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.kill_unlocked(&mut rec, signal).await
    }

    pub(crate) async fn kill_unlocked(&self, rec: &mut ContainerRecord, signal: i32) -> Result<()> {
        match rec.state.state {
            ContainerStatus::Running | ContainerStatus::Paused | ContainerStatus::Stopping => {}
            other => {
                return Err(CoreError::InvalidState(format!(
                    "can only kill running containers. {} is in state {other}",
                    self.id()
                )));
            }
        }
        rec.state.stopped_by_user = true;
        self.save(rec)?;
        self.oci()
            .kill_container(&self.handle(), &rec.state, signal, false)
            .await?;
        self.event("kill");
        Ok(())
    }

    /// Freezes every process of the container.
    pub async fn pause(&self) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.pause_unlocked(&mut rec).await
    }

    pub(crate) async fn pause_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        // podman's wording: the ID when already paused, else the status.
        match rec.state.state {
            ContainerStatus::Running => {}
            ContainerStatus::Paused => {
                return Err(CoreError::InvalidState(format!("{:?} is already paused", self.id())));
            }
            other => {
                return Err(CoreError::InvalidState(format!(
                    "{:?} is not running, can't pause",
                    other.as_str()
                )));
            }
        }
        if self.rt.inner.options.cgroup_manager == crate::options::CgroupManager::Disabled {
            return Err(CoreError::InvalidArg(
                "pause needs cgroups, but the cgroup manager is disabled".into(),
            ));
        }
        self.oci().pause_container(&self.handle(), &mut rec.state).await?;
        self.save(rec)?;
        self.event("pause");
        Ok(())
    }

    /// Thaws a paused container.
    pub async fn unpause(&self) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.unpause_unlocked(&mut rec).await
    }

    pub(crate) async fn unpause_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        if rec.state.state != ContainerStatus::Paused {
            return Err(CoreError::InvalidState(format!(
                "{:?} is not paused, can't unpause",
                self.id()
            )));
        }
        self.oci().unpause_container(&self.handle(), &mut rec.state).await?;
        self.save(rec)?;
        self.event("unpause");
        Ok(())
    }
}
