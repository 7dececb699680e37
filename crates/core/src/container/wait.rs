//! `wait`: until the container's process exits.

use std::time::Duration;

use corral_define::ContainerStatus;

use super::Container;
use crate::error::{CoreError, Result};

/// Longest pause between two looks at the store while waiting.
const WAIT_POLL: Duration = Duration::from_millis(250);

impl Container {
    /// Waits until the container has exited and returns its exit code. The lock is
    /// taken only to look, so other operations (the exit command above all) go on.
    pub async fn wait(&self) -> Result<i32> {
        let exit_file = self.oci().exit_file_path(&self.handle())?;
        loop {
            {
                let (_guard, rec) = self.lock_and_sync().await?;
                match rec.state.state {
                    ContainerStatus::Stopped | ContainerStatus::Exited => return Ok(rec.state.exit_code),
                    ContainerStatus::Removing => {
                        return Err(CoreError::InvalidState(format!(
                            "container {} is being removed",
                            self.id()
                        )));
                    }
                    _ => {}
                }
            }
            if corral_oci::wait_for_exit_file(&exit_file, WAIT_POLL).await?.is_some() {
                // An exit file of an earlier run while this one has not started yet.
                tokio::time::sleep(WAIT_POLL / 5).await;
            }
        }
    }
}
