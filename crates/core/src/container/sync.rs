//! `sync`: the container's status as the OCI runtime itself reports it (libpod's
//! Sync), for when conmon's exit files cannot be trusted to tell.

use corral_define::{ContainerState, ContainerStatus};
use corral_state::ContainerRecord;

use super::Container;
use crate::error::Result;

impl Container {
    /// Asks the OCI runtime (`crun state`) for the container's status, applies its
    /// answer and conmon's exit file to the record, saves a change and returns the
    /// state. A container the runtime does not hold (configured, exited) is left
    /// as the store has it.
    pub async fn sync(&self) -> Result<ContainerState> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.sync_with_runtime_unlocked(&mut rec).await?;
        Ok(rec.state)
    }

    pub(crate) async fn sync_with_runtime_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        // A stopped container is still held by the runtime until its cleanup.
        if !(rec.state.state.may_have_exited() || rec.state.state == ContainerStatus::Stopped) {
            return Ok(());
        }
        let before = rec.state.clone();
        self.oci().sync_container_status(&self.handle(), &mut rec.state).await?;
        if rec.state != before {
            self.save(rec)?;
            if before.state.is_active() && matches!(rec.state.state, ContainerStatus::Stopped | ContainerStatus::Exited)
            {
                self.rt.container_event(&self.config, "died", Some(rec.state.exit_code));
            }
        }
        Ok(())
    }
}
