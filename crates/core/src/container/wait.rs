//! `wait`: until the container's process exits, or until it reaches one of several
//! statuses (`wait --condition`).

use std::time::Duration;

use corral_define::ContainerStatus;

use super::Container;
use crate::error::{CoreError, Result};

/// podman's default pause between two looks at the container (`--interval`).
pub const DEFAULT_WAIT_INTERVAL: Duration = Duration::from_millis(250);

/// What [`Container::wait_for_condition`] found.
enum Reached {
    /// The process exited (or never ran): its exit code.
    Exit(i32),
    /// One of the other statuses asked for.
    Status,
}

impl Container {
    /// Waits until the container has exited and returns its exit code (0 for a
    /// container that never ran, as podman). The lock is taken only to look, so
    /// other operations (the exit command above all) go on.
    pub async fn wait(&self) -> Result<i32> {
        self.wait_with_interval(DEFAULT_WAIT_INTERVAL).await
    }

    /// [`wait`](Self::wait), looking at the store at least every `interval` (and
    /// at once when conmon writes the exit file).
    pub async fn wait_with_interval(&self, interval: Duration) -> Result<i32> {
        self.wait_for_condition(&[ContainerStatus::Stopped, ContainerStatus::Exited], interval)
            .await
    }

    /// Waits until the container is in one of `conditions` (podman's
    /// WaitForConditionWithInterval). `stopped` or `exited` mean "the process
    /// exited" and give its exit code; any other status reached gives -1.
    pub async fn wait_for_condition(&self, conditions: &[ContainerStatus], interval: Duration) -> Result<i32> {
        if conditions.is_empty() {
            return Err(CoreError::InvalidArg(
                "at least one condition must be given to wait for".into(),
            ));
        }
        let interval = interval.max(Duration::from_millis(1));
        let for_exit = conditions
            .iter()
            .any(|c| matches!(c, ContainerStatus::Stopped | ContainerStatus::Exited));
        let exit_file = self.oci().exit_file_path(&self.handle())?;
        loop {
            if let Some(reached) = self.look(conditions, for_exit).await? {
                return Ok(match reached {
                    Reached::Exit(code) => code,
                    Reached::Status => -1,
                });
            }
            if for_exit {
                if corral_oci::wait_for_exit_file(&exit_file, interval).await?.is_some() {
                    // An exit file of an earlier run while this one has not started yet.
                    tokio::time::sleep(interval.min(Duration::from_millis(50))).await;
                }
            } else {
                tokio::time::sleep(interval).await;
            }
        }
    }

    /// One look under the lock: whether the container reached a condition.
    async fn look(&self, conditions: &[ContainerStatus], for_exit: bool) -> Result<Option<Reached>> {
        let (_guard, rec) = self.lock_and_sync().await?;
        let status = rec.state.state;
        let exited = matches!(
            status,
            ContainerStatus::Stopped | ContainerStatus::Exited | ContainerStatus::Configured
        );
        if for_exit && exited {
            return Ok(Some(Reached::Exit(rec.state.exit_code)));
        }
        if conditions.contains(&status) {
            return Ok(Some(Reached::Status));
        }
        if status == ContainerStatus::Removing {
            return Err(CoreError::InvalidState(format!(
                "container {} is being removed",
                self.id()
            )));
        }
        Ok(None)
    }
}
