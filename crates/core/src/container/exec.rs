//! `exec`: a command run in the running container, its streams attached.

use std::collections::BTreeMap;

use corral_attach::{AttachOptions, AttachStreams};

use super::Container;
use crate::error::Result;

/// What [`Container::exec`] runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecRequest {
    pub command: Vec<String>,
    /// Added to the container's environment, overriding it.
    pub env: BTreeMap<String, String>,
    pub terminal: bool,
    /// Default: the container's working directory.
    pub workdir: Option<String>,
    /// Default: the container's user; resolved in its /etc/passwd.
    pub user: Option<String>,
    /// Connect the caller's stdin.
    pub attach_stdin: bool,
    /// Every capability this process may hand on, as `--privileged` gives a container.
    pub privileged: bool,
}

impl Container {
    /// Runs `request` in the running container with its stdio on `streams` and
    /// returns its exit code (126/127 when it cannot be run or found, as podman):
    /// [`exec_create`](Self::exec_create), then
    /// [`exec_start_and_attach`](Self::exec_start_and_attach), then
    /// [`exec_remove`](Self::exec_remove). The session is recorded in the
    /// container's state while it runs.
    pub async fn exec(&self, request: &ExecRequest, streams: AttachStreams<'_>, options: AttachOptions) -> Result<i32> {
        let session_id = self.exec_create(request).await?;
        let outcome = self.exec_start_and_attach(&session_id, streams, options).await;
        if let Err(e) = self.exec_remove(&session_id, true).await {
            tracing::debug!("removing exec session {session_id}: {e}");
        }
        outcome
    }
}
