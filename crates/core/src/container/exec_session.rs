//! Exec sessions as objects (libpod's ExecCreate, ExecStart, ExecStartAndAttach,
//! ExecResize, ExecStop, ExecRemove, InspectExecSession): a session is recorded in
//! the container's state when created, moves created -> running -> stopped, and
//! stays (with its exit code) until removed.

use std::path::PathBuf;
use std::time::Duration;

use corral_attach::{AttachOptions, AttachStreams, WindowSize};
use corral_define::{ContainerStatus, DefineError, ErrorKind, ExecConfig, ExecSession, ExecStatus, HasKind, new_id};
use corral_oci::{ExecOptions, ExecUser};
use corral_state::ContainerRecord;
use serde::Serialize;

use super::Container;

/// How often, and how many times, a session's exit file is looked for once
/// its process is gone.
const EXEC_EXIT_POLL: Duration = Duration::from_millis(20);
const EXEC_EXIT_POLLS: u32 = 50;
use super::exec::ExecRequest;
use crate::error::{CoreError, Result};
use crate::runtime::Runtime;
use crate::spec::user;

/// Longest wait for an exec session's exit code once its output ended.
const EXEC_EXIT_WAIT: Duration = Duration::from_secs(60);

/// The exit code podman records for a session that failed to start
/// (`ExecErrorCodeGeneric`).
const EXEC_START_FAILED: i32 = 125;

/// An exec session as podman's `InspectExecSession` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecSessionInspect {
    /// True unless the session runs.
    pub can_remove: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// Empty for the default keys.
    pub detach_keys: String,
    pub exit_code: i32,
    #[serde(rename = "ID")]
    pub id: String,
    pub open_stderr: bool,
    pub open_stdin: bool,
    pub open_stdout: bool,
    pub running: bool,
    pub pid: i32,
    pub process_config: ExecProcessInspect,
}

/// The process of an exec session, in [`ExecSessionInspect`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecProcessInspect {
    /// The command's arguments after the first; null when there are none.
    pub arguments: Option<Vec<String>>,
    pub entrypoint: String,
    pub privileged: bool,
    pub tty: bool,
    pub user: String,
}

impl ExecSessionInspect {
    fn of(session: &ExecSession) -> ExecSessionInspect {
        let c = &session.config;
        let (entrypoint, arguments) = match c.command.split_first() {
            Some((first, rest)) => (first.clone(), Some(rest.to_vec()).filter(|r| !r.is_empty())),
            None => (String::new(), None),
        };
        ExecSessionInspect {
            can_remove: session.state != ExecStatus::Running,
            container_id: session.container_id.clone(),
            detach_keys: c.detach_keys.clone().unwrap_or_default(),
            exit_code: session.exit_code,
            id: session.id.clone(),
            open_stderr: c.attach_stderr,
            open_stdin: c.attach_stdin,
            open_stdout: c.attach_stdout,
            running: session.state == ExecStatus::Running,
            pid: session.pid,
            process_config: ExecProcessInspect {
                arguments,
                entrypoint,
                privileged: c.privileged,
                tty: c.terminal,
                user: c.user.clone(),
            },
        }
    }
}

/// podman's error for a move the exec session's status does not allow.
fn session_state_invalid(message: String) -> CoreError {
    DefineError::with_context(ErrorKind::ExecSessionStateInvalid, message).into()
}

impl Container {
    /// Records a new exec session for `request` (status `created`) and returns its
    /// ID. The container must be running.
    pub async fn exec_create(&self, request: &ExecRequest) -> Result<String> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.exec_create_unlocked(&mut rec, request)
    }

    pub(crate) fn exec_create_unlocked(&self, rec: &mut ContainerRecord, request: &ExecRequest) -> Result<String> {
        if request.command.is_empty() {
            return Err(CoreError::InvalidArg(
                "must provide a non-empty command to start an exec session".into(),
            ));
        }
        if rec.state.state != ContainerStatus::Running {
            return Err(DefineError::with_context(
                ErrorKind::InvalidState,
                "can only create exec sessions on running containers",
            )
            .into());
        }
        let session = ExecSession {
            id: new_id()?,
            container_id: self.id().to_string(),
            state: ExecStatus::Created,
            config: ExecConfig {
                command: request.command.clone(),
                environment: request.env.clone(),
                terminal: request.terminal,
                attach_stdin: request.attach_stdin,
                attach_stdout: true,
                attach_stderr: true,
                privileged: request.privileged,
                user: request.user.clone().unwrap_or_default(),
                workdir: request.workdir.clone().unwrap_or_default(),
                ..Default::default()
            },
            ..Default::default()
        };
        self.rt.inner.state.add_exec_session(self.id(), &session)?;
        let id = session.id.clone();
        rec.state.exec_sessions.insert(id.clone(), session);
        self.save(rec)?;
        Ok(id)
    }

    /// Starts a created session without attaching to it; it runs on after this
    /// returns (`exec -d`).
    pub async fn exec_start(&self, session_id: &str) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        let opts = self.startable_session(&mut rec, session_id)?;
        let started = self
            .oci()
            .exec_container_detached(&self.handle(), session_id, &opts, false)
            .await;
        match started {
            Ok(pid) => {
                self.set_session_running(&mut rec, session_id, pid)?;
                Ok(())
            }
            Err(e) => {
                self.set_session_stopped(&mut rec, session_id, EXEC_START_FAILED)?;
                Err(e.into())
            }
        }
    }

    /// Starts a created session with its stdio on `streams`, connected before the
    /// process starts so no output is lost, and returns its exit code (126/127
    /// when the command cannot be run or found, as podman). The lock is held only
    /// to start the session and to record its end.
    pub async fn exec_start_and_attach(
        &self,
        session_id: &str,
        streams: AttachStreams<'_>,
        options: AttachOptions,
    ) -> Result<i32> {
        let attached = {
            let (_guard, mut rec) = self.lock_and_sync().await?;
            let opts = self.startable_session(&mut rec, session_id)?;
            let attach_stdin = rec
                .state
                .exec_sessions
                .get(session_id)
                .is_some_and(|s| s.config.attach_stdin);
            let started = self
                .oci()
                .exec_container(&self.handle(), session_id, &opts, attach_stdin, options.initial_size)
                .await;
            match started {
                Ok(attached) => {
                    self.set_session_running(&mut rec, session_id, attached.pid)?;
                    attached
                }
                Err(e) => {
                    self.set_session_stopped(&mut rec, session_id, EXEC_START_FAILED)?;
                    return Err(e.into());
                }
            }
        };
        let outcome: Result<i32> = async {
            attached.attach(streams, options).await?;
            Ok(attached.wait(EXEC_EXIT_WAIT).await?)
        }
        .await;
        if let Ok(code) = outcome {
            self.rt.container_event(&self.config, "exec_died", Some(code));
        }
        if let Err(e) = self.oci().exec_container_cleanup(&self.handle(), session_id).await {
            tracing::warn!("cleaning up exec session {session_id}: {e}");
        }
        let exit_code = match &outcome {
            Ok(code) => *code,
            Err(_) => -1,
        };
        match self.lock_and_sync().await {
            Ok((_guard, mut rec)) => self.set_session_stopped(&mut rec, session_id, exit_code)?,
            // Removed meanwhile (`rm -f`): the session went with it.
            Err(e) if e.kind() == ErrorKind::NoSuchContainer => {}
            Err(e) => return Err(e),
        }
        outcome
    }

    /// Resizes the terminal of a running session.
    pub async fn exec_resize(&self, session_id: &str, size: WindowSize) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        let session = self.synced_session(&mut rec, session_id).await?;
        if session.state != ExecStatus::Running {
            return Err(session_state_invalid(format!(
                "cannot resize container {} exec session {session_id} as it is not running",
                self.id()
            )));
        }
        Ok(self.oci().exec_attach_resize(&self.handle(), session_id, size).await?)
    }

    /// Stops a running session: SIGTERM, then SIGKILL after `timeout` seconds
    /// (None: the container's stop timeout); records its exit code.
    pub async fn exec_stop(&self, session_id: &str, timeout: Option<u32>) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        let session = self.synced_session(&mut rec, session_id).await?;
        if session.state != ExecStatus::Running {
            return Err(session_state_invalid(format!(
                "container {} exec session {session_id} is {:?}, can only stop running sessions",
                self.id(),
                session.state.as_str()
            )));
        }
        self.stop_session_unlocked(&mut rec, &session, timeout).await
    }

    /// Removes a session's record and files; a running one only with `force`
    /// (which stops it first).
    pub async fn exec_remove(&self, session_id: &str, force: bool) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        let session = self.synced_session(&mut rec, session_id).await?;
        if session.state == ExecStatus::Running {
            if !force {
                return Err(session_state_invalid(format!(
                    "container {} exec session {session_id} is still running, cannot remove",
                    self.id()
                )));
            }
            self.stop_session_unlocked(&mut rec, &session, None).await?;
        }
        self.oci().exec_container_cleanup(&self.handle(), session_id).await?;
        rec.state.exec_sessions.remove(session_id);
        self.save(&rec)?;
        match self.rt.inner.state.remove_exec_session(session_id) {
            Err(e) if e.kind() == ErrorKind::NoSuchExecSession => Ok(()),
            other => Ok(other?),
        }
    }

    /// The session as podman's inspect shows it, its status brought up to date.
    pub async fn exec_inspect(&self, session_id: &str) -> Result<ExecSessionInspect> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        Ok(ExecSessionInspect::of(
            &self.synced_session(&mut rec, session_id).await?,
        ))
    }

    /// Every exec session of the container, their statuses brought up to date.
    pub async fn exec_sessions(&self) -> Result<Vec<ExecSession>> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        let ids: Vec<String> = rec.state.exec_sessions.keys().cloned().collect();
        let mut sessions = Vec::with_capacity(ids.len());
        for id in &ids {
            sessions.push(self.synced_session(&mut rec, id).await?);
        }
        Ok(sessions)
    }

    /// The session, checked as startable (container running, session created), and
    /// the options to run it.
    fn startable_session(&self, rec: &mut ContainerRecord, session_id: &str) -> Result<ExecOptions> {
        if rec.state.state != ContainerStatus::Running {
            return Err(DefineError::with_context(
                ErrorKind::InvalidState,
                "can only start exec sessions when their container is running",
            )
            .into());
        }
        let session = self.session(rec, session_id)?;
        if session.state != ExecStatus::Created {
            return Err(session_state_invalid(format!(
                "can only start created exec sessions, while container {} session {session_id} state is {:?}",
                self.id(),
                session.state.as_str()
            )));
        }
        self.exec_options(rec, &session.config)
    }

    /// What the OCI runtime needs to run a session of this config: the user resolved
    /// in the container's /etc/passwd, capabilities for a privileged one.
    fn exec_options(&self, rec: &ContainerRecord, config: &ExecConfig) -> Result<ExecOptions> {
        let user = if config.user.is_empty() {
            None
        } else {
            let r = user::resolve(&PathBuf::from(&rec.state.mountpoint), &config.user, &[])?;
            Some(ExecUser {
                uid: r.uid,
                gid: r.gid,
                additional_gids: r.additional_gids,
            })
        };
        Ok(ExecOptions {
            command: config.command.clone(),
            env: config.environment.clone(),
            terminal: config.terminal,
            cwd: Some(config.workdir.clone()).filter(|w| !w.is_empty()),
            user,
            capabilities: if config.privileged {
                Some(crate::spec::caps::bounding_set(true, &[], &[])?)
            } else {
                None
            },
            ..Default::default()
        })
    }

    fn session(&self, rec: &ContainerRecord, session_id: &str) -> Result<ExecSession> {
        rec.state.exec_sessions.get(session_id).cloned().ok_or_else(|| {
            DefineError::with_context(
                ErrorKind::NoSuchExecSession,
                format!("container {} has no exec session with ID {session_id}", self.id()),
            )
            .into()
        })
    }

    /// The session, marked stopped (with the exit code conmon wrote) when its
    /// process is gone.
    async fn synced_session(&self, rec: &mut ContainerRecord, session_id: &str) -> Result<ExecSession> {
        let session = self.session(rec, session_id)?;
        if session.state != ExecStatus::Running {
            return Ok(session);
        }
        let oci = self.oci();
        let handle = self.handle();
        if oci.exec_update_status(&handle, &session)? {
            return Ok(session);
        }
        let code = self.recorded_exec_exit(session_id).await?;
        self.set_session_stopped(rec, session_id, code)?;
        self.session(rec, session_id)
    }

    async fn stop_session_unlocked(
        &self,
        rec: &mut ContainerRecord,
        session: &ExecSession,
        timeout: Option<u32>,
    ) -> Result<()> {
        let oci = self.oci();
        let handle = self.handle();
        let timeout = timeout.unwrap_or(self.config.misc.stop_timeout);
        oci.exec_stop_container(&handle, session, timeout).await?;
        let code = self.recorded_exec_exit(&session.id).await?;
        self.set_session_stopped(rec, &session.id, code)
    }

    /// The exit code conmon recorded for a session whose process is gone. conmon
    /// writes it a moment after the process died, so it is waited for, up to a
    /// second; -1 when it never comes (conmon died too).
    async fn recorded_exec_exit(&self, session_id: &str) -> Result<i32> {
        let oci = self.oci();
        let handle = self.handle();
        for _ in 0..EXEC_EXIT_POLLS {
            if let Some(code) = oci.exec_exit_code(&handle, session_id)? {
                return Ok(code);
            }
            tokio::time::sleep(EXEC_EXIT_POLL).await;
        }
        Ok(oci.exec_exit_code(&handle, session_id)?.unwrap_or(-1))
    }

    fn set_session_running(&self, rec: &mut ContainerRecord, session_id: &str, pid: i32) -> Result<()> {
        if let Some(s) = rec.state.exec_sessions.get_mut(session_id) {
            s.state = ExecStatus::Running;
            s.pid = pid;
        }
        self.save(rec)?;
        self.event("exec");
        Ok(())
    }

    fn set_session_stopped(&self, rec: &mut ContainerRecord, session_id: &str, exit_code: i32) -> Result<()> {
        if let Some(s) = rec.state.exec_sessions.get_mut(session_id) {
            s.state = ExecStatus::Stopped;
            s.exit_code = exit_code;
            s.pid = 0;
        }
        self.save(rec)
    }
}

impl Runtime {
    /// The container an exec session belongs to.
    pub fn exec_session_container(&self, session_id: &str) -> Result<Container> {
        let id = self.inner.state.get_exec_session(session_id)?;
        self.lookup_container(&id)
    }
}
