//! `exec --detach`: a command started in the running container and left to run.

use corral_define::ExecStatus;

use super::Container;
use super::exec::ExecRequest;
use crate::error::Result;

impl Container {
    /// Starts `request` in the running container without attaching to it and
    /// returns the exec session's ID. The session stays recorded in the
    /// container's state until the container is cleaned up.
    pub async fn exec_detached(&self, request: &ExecRequest) -> Result<String> {
        let (session_id, opts) = self.register_exec_session(request).await?;
        let started = self
            .oci()
            .exec_container_detached(&self.handle(), &session_id, &opts, false)
            .await;
        match started {
            Ok(pid) => {
                self.set_exec_session(&session_id, |s| {
                    s.state = ExecStatus::Running;
                    s.pid = pid;
                })
                .await?;
                Ok(session_id)
            }
            Err(e) => {
                let (_guard, mut rec) = self.lock_and_sync().await?;
                rec.state.exec_sessions.remove(&session_id);
                self.save(&rec)?;
                self.rt.inner.state.remove_exec_session(&session_id)?;
                Err(e.into())
            }
        }
    }
}
