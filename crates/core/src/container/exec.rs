//! `exec`: a command run in the running container, its streams attached.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use corral_attach::{AttachOptions, AttachStreams};
use corral_define::{ContainerStatus, ExecConfig, ExecSession, ExecStatus, new_id};
use corral_oci::{ExecOptions, ExecUser};

use super::Container;
use crate::error::Result;
use crate::spec::user;

/// Longest wait for an exec session's exit code once its output ended.
const EXEC_EXIT_WAIT: Duration = Duration::from_secs(60);

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
    /// returns its exit code (126/127 when it cannot be run or found, as podman).
    /// The session is recorded in the container's state while it runs.
    pub async fn exec(&self, request: &ExecRequest, streams: AttachStreams<'_>, options: AttachOptions) -> Result<i32> {
        let (session_id, opts) = self.register_exec_session(request).await?;
        let handle = self.handle();
        let oci = self.oci();
        let outcome = async {
            let session = oci
                .exec_container(&handle, &session_id, &opts, request.attach_stdin, None)
                .await?;
            self.set_exec_session(&session_id, |s| {
                s.state = ExecStatus::Running;
                s.pid = session.pid;
            })
            .await?;
            session.attach(streams, options).await?;
            Ok::<i32, crate::error::CoreError>(session.wait(EXEC_EXIT_WAIT).await?)
        }
        .await;
        if let Err(e) = oci.exec_container_cleanup(&handle, &session_id).await {
            tracing::warn!("cleaning up exec session {session_id}: {e}");
        }
        let (_guard, mut rec) = self.lock_and_sync().await?;
        rec.state.exec_sessions.remove(&session_id);
        self.save(&rec)?;
        self.rt.inner.state.remove_exec_session(&session_id)?;
        outcome
    }

    /// Records a new exec session for `request` in the running container's state
    /// and returns its ID with the options to run it.
    pub(super) async fn register_exec_session(&self, request: &ExecRequest) -> Result<(String, ExecOptions)> {
        let session_id = new_id()?;
        let (_guard, mut rec) = self.lock_and_sync().await?;
        if rec.state.state != ContainerStatus::Running {
            return Err(self.invalid(format!(
                "can only exec into running containers: it is {}",
                rec.state.state
            )));
        }
        let exec_user = match &request.user {
            Some(u) => {
                let r = user::resolve(&PathBuf::from(&rec.state.mountpoint), u, &[])?;
                Some(ExecUser {
                    uid: r.uid,
                    gid: r.gid,
                    additional_gids: r.additional_gids,
                })
            }
            None => None,
        };
        let session = ExecSession {
            id: session_id.clone(),
            container_id: self.id().to_string(),
            state: ExecStatus::Created,
            config: ExecConfig {
                command: request.command.clone(),
                environment: request.env.clone(),
                terminal: request.terminal,
                attach_stdin: request.attach_stdin,
                attach_stdout: true,
                attach_stderr: true,
                user: request.user.clone().unwrap_or_default(),
                workdir: request.workdir.clone().unwrap_or_default(),
                ..Default::default()
            },
            ..Default::default()
        };
        self.rt.inner.state.add_exec_session(self.id(), &session)?;
        rec.state.exec_sessions.insert(session_id.clone(), session);
        self.save(&rec)?;
        let opts = ExecOptions {
            command: request.command.clone(),
            env: request.env.clone(),
            terminal: request.terminal,
            cwd: request.workdir.clone(),
            user: exec_user,
            capabilities: if request.privileged {
                Some(crate::spec::caps::bounding_set(true, &[], &[])?)
            } else {
                None
            },
            ..Default::default()
        };
        Ok((session_id, opts))
    }

    pub(super) async fn set_exec_session(&self, id: &str, change: impl FnOnce(&mut ExecSession)) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        if let Some(s) = rec.state.exec_sessions.get_mut(id) {
            change(s);
        }
        self.save(&rec)
    }
}
