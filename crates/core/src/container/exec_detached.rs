//! `exec --detach`: a command started in the running container and left to run.

use super::Container;
use super::exec::ExecRequest;
use crate::error::Result;

impl Container {
    /// Starts `request` in the running container without attaching to it and
    /// returns the exec session's ID ([`exec_create`](Self::exec_create), then
    /// [`exec_start`](Self::exec_start)). The session stays recorded in the
    /// container's state until removed or the container is cleaned up; one that
    /// fails to start is removed.
    pub async fn exec_detached(&self, request: &ExecRequest) -> Result<String> {
        let session_id = self.exec_create(request).await?;
        if let Err(e) = self.exec_start(&session_id).await {
            if let Err(undo) = self.exec_remove(&session_id, true).await {
                tracing::warn!("removing exec session {session_id} that failed to start: {undo}");
            }
            return Err(e);
        }
        Ok(session_id)
    }
}
