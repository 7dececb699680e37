//! Exec sessions: conmon's `--exec` mode with a process spec, one bundle
//! directory per session (attach socket, `ctl` FIFO, exit file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use corral_attach::{AttachEnd, AttachOptions, AttachSocket, AttachStreams, WindowSize};

use crate::conmon::{CREATE_TIMEOUT, ConmonRuntime, SharedArgs, push_exit_command, write_resize};
use crate::error::OciError;
use crate::files;
use crate::handle::{ContainerHandle, ExecOptions, LogDriver};
use crate::process::ParentPipe;
use crate::status::{self, read_exit_file};

/// Name of the process spec written into the session's bundle.
const PROCESS_SPEC: &str = "exec-process.json";

/// A started exec session whose streams are on `socket`, conmon's attach
/// socket, connected before the process started so no output is lost.
/// Stream with [`attach`](AttachedExec::attach) (or the socket directly),
/// then [`wait`](AttachedExec::wait) for the exit code.
#[derive(Debug)]
pub struct AttachedExec {
    pub pid: i32,
    pub socket: AttachSocket,
    /// The session's `ctl` FIFO, for resizing its terminal.
    pub ctl_path: PathBuf,
    pub terminal: bool,
    exit_file: PathBuf,
    sync: ParentPipe,
    runtime: String,
}

impl AttachedExec {
    /// Streams the session's stdio until its output ends or the user
    /// detaches. `options.tty` and `options.ctl_path` are filled in from the
    /// session.
    pub async fn attach(&self, streams: AttachStreams<'_>, mut options: AttachOptions) -> Result<AttachEnd, OciError> {
        options.tty = self.terminal;
        options.ctl_path = Some(self.ctl_path.clone());
        Ok(corral_attach::attach_connected(&self.socket, streams, options).await?)
    }

    /// Waits for the session's exit code: conmon's last sync-pipe message,
    /// or its exit file when the pipe closed without one.
    pub async fn wait(mut self, timeout: Duration) -> Result<i32, OciError> {
        match self.sync.read_message(timeout, "exec exit code").await {
            Ok(msg) if msg.data >= 0 || msg.message.is_none() => Ok(msg.data),
            Ok(msg) => Err(OciError::from_runtime_message(
                &self.runtime,
                msg.message.as_deref().unwrap_or_default(),
            )),
            Err(err) => match status::wait_for_exit_file(&self.exit_file, Duration::from_secs(5)).await? {
                Some(exit) => Ok(exit.code),
                None => Err(err),
            },
        }
    }
}

/// Builds the session's process spec from the container's own `process`
/// in config.json, with the options' command, terminal (of `size`, so the
/// process never sees a 0x0 terminal), environment, working directory and
/// user.
pub(crate) fn process_spec(
    bundle: &Path,
    opts: &ExecOptions,
    size: Option<WindowSize>,
) -> Result<serde_json::Value, OciError> {
    let config_path = bundle.join("config.json");
    let text =
        std::fs::read_to_string(&config_path).map_err(|e| OciError::io("reading container spec", &config_path, e))?;
    let mut spec: serde_json::Value = serde_json::from_str(&text).map_err(|source| OciError::Json {
        what: "parsing container spec",
        path: config_path.clone(),
        source,
    })?;
    let mut process = spec
        .get_mut("process")
        .map(serde_json::Value::take)
        .unwrap_or_else(|| serde_json::json!({}));
    let obj = process
        .as_object_mut()
        .ok_or_else(|| OciError::InvalidArg(format!("{}: process is not an object", config_path.display())))?;
    obj.insert("args".into(), serde_json::json!(opts.command));
    obj.insert("terminal".into(), serde_json::json!(opts.terminal));
    match size.filter(|_| opts.terminal) {
        Some(size) => {
            obj.insert(
                "consoleSize".into(),
                serde_json::json!({"height": size.rows, "width": size.cols}),
            );
        }
        None => {
            obj.remove("consoleSize");
        }
    }
    let mut env: Vec<String> = obj
        .get("env")
        .and_then(|e| e.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    for (key, value) in &opts.env {
        let prefix = format!("{key}=");
        env.retain(|e| !e.starts_with(&prefix));
        env.push(format!("{key}={value}"));
    }
    obj.insert("env".into(), serde_json::json!(env));
    if let Some(cwd) = &opts.cwd {
        obj.insert("cwd".into(), serde_json::json!(cwd));
    }
    if let Some(caps) = &opts.capabilities {
        obj.insert(
            "capabilities".into(),
            serde_json::json!({
                "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps, "ambient": caps
            }),
        );
    }
    if let Some(user) = &opts.user {
        let mut gids = user.additional_gids.clone();
        gids.push(user.gid);
        gids.sort_unstable();
        gids.dedup();
        obj.insert(
            "user".into(),
            serde_json::json!({"uid": user.uid, "gid": user.gid, "additionalGids": gids}),
        );
    }
    Ok(process)
}

/// Creates the session's bundle, writes its process spec and starts its
/// conmon; returns conmon's pipes.
async fn start_exec(
    rt: &ConmonRuntime,
    ctr: &ContainerHandle,
    session_id: &str,
    opts: &ExecOptions,
    attach_stdin: bool,
    size: Option<WindowSize>,
) -> Result<crate::conmon::ConmonPipes, OciError> {
    if opts.command.is_empty() {
        return Err(OciError::InvalidArg("must provide a command to execute".into()));
    }
    if session_id.is_empty() || session_id.contains('/') {
        return Err(OciError::InvalidArg(format!("invalid exec session ID {session_id:?}")));
    }
    let bundle = ctr.exec_bundle_dir(session_id);
    let persist = bundle.join("persist").join(&ctr.id);
    files::create_dir(&ctr.exec_exit_dir(session_id))?;
    files::create_dir(&persist)?;
    files::remove_if_present(&ctr.exec_exit_file(session_id))?;
    let spec_path = bundle.join(PROCESS_SPEC);
    let spec = process_spec(&ctr.bundle_dir, opts, size)?;
    let bytes = serde_json::to_vec(&spec).map_err(|source| OciError::Json {
        what: "encoding exec process spec",
        path: spec_path.clone(),
        source,
    })?;
    files::write_atomic(&spec_path, &bytes)?;

    let pid_file = bundle.join("exec_pid");
    let log_path = bundle.join("exec_log");
    let exit_dir = ctr.exec_exit_dir(session_id);
    let oci_log = rt.oci_log(&bundle);
    let mut args = rt.shared_conmon_args(&SharedArgs {
        ctr,
        cuuid: session_id,
        bundle: &bundle,
        pid_file: &pid_file,
        log_driver: LogDriver::None,
        log_path: &log_path,
        log_size_max: 0,
        exit_dir: &exit_dir,
        persist_dir: &persist,
        oci_log: oci_log.as_deref(),
    });
    if opts.preserve_fds > 0 {
        args.extend([
            "--runtime-opt".into(),
            "--preserve-fds".into(),
            "--runtime-opt".into(),
            opts.preserve_fds.to_string(),
        ]);
    }
    if opts.terminal {
        args.push("-t".into());
    }
    if attach_stdin {
        args.push("-i".into());
    }
    args.extend([
        "-e".into(),
        "--exec-attach".into(),
        "--exec-process-spec".into(),
        spec_path.display().to_string(),
    ]);
    push_exit_command(&mut args, &opts.exit_command, opts.exit_command_delay);
    rt.spawn_conmon(&args, &bundle, false, true).await
}

/// Takes conmon's "attach socket ready" message.
async fn await_attach_ready(rt: &ConmonRuntime, pipes: &mut crate::conmon::ConmonPipes) -> Result<(), OciError> {
    let attach = pipes
        .attach
        .as_mut()
        .ok_or_else(|| OciError::Conmon("exec started without an attach pipe".into()))?;
    rt.read_sync(attach, None, CREATE_TIMEOUT, "attach readiness").await?;
    Ok(())
}

pub(crate) async fn exec_detached(
    rt: &ConmonRuntime,
    ctr: &ContainerHandle,
    session_id: &str,
    opts: &ExecOptions,
    stdin: bool,
) -> Result<i32, OciError> {
    let mut pipes = start_exec(rt, ctr, session_id, opts, stdin, None).await?;
    // We do not attach, but conmon waits for the go-ahead all the same.
    await_attach_ready(rt, &mut pipes).await?;
    pipes.start.signal().await?;
    let oci_log = rt.oci_log(&ctr.exec_bundle_dir(session_id));
    rt.read_sync(&mut pipes.sync, oci_log.as_deref(), CREATE_TIMEOUT, "exec session pid")
        .await
}

pub(crate) async fn exec_attached(
    rt: &ConmonRuntime,
    ctr: &ContainerHandle,
    session_id: &str,
    opts: &ExecOptions,
    attach_stdin: bool,
    size: Option<WindowSize>,
) -> Result<AttachedExec, OciError> {
    let bundle = ctr.exec_bundle_dir(session_id);
    let mut pipes = start_exec(rt, ctr, session_id, opts, attach_stdin, size).await?;
    await_attach_ready(rt, &mut pipes).await?;
    if let Some(size) = size.filter(|_| opts.terminal)
        && let Err(err) = write_resize(&bundle, size)
    {
        tracing::warn!("resizing exec session {session_id}: {err}");
    }
    let socket = AttachSocket::connect(&bundle.join("attach"))?;
    pipes.start.signal().await?;
    let oci_log = rt.oci_log(&bundle);
    let pid = rt
        .read_sync(&mut pipes.sync, oci_log.as_deref(), CREATE_TIMEOUT, "exec session pid")
        .await?;
    Ok(AttachedExec {
        pid,
        socket,
        ctl_path: bundle.join("ctl"),
        terminal: opts.terminal,
        exit_file: ctr.exec_exit_file(session_id),
        sync: pipes.sync,
        runtime: rt.name.clone(),
    })
}

/// Removes the session's bundle directory; conmon may still be removing its
/// socket, so a busy directory is retried briefly.
pub(crate) fn cleanup(ctr: &ContainerHandle, session_id: &str) -> Result<(), OciError> {
    if session_id.is_empty() || session_id.contains('/') {
        return Err(OciError::InvalidArg(format!("invalid exec session ID {session_id:?}")));
    }
    let dir = ctr.exec_bundle_dir(session_id);
    let mut last = None;
    for _ in 0..50 {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    Err(OciError::io(
        "removing exec session directory",
        dir,
        last.unwrap_or_else(|| std::io::Error::other("still busy")),
    ))
}

/// The exit code an exec session left in its exit file.
pub fn exec_exit_code(ctr: &ContainerHandle, session_id: &str) -> Result<Option<i32>, OciError> {
    Ok(read_exit_file(&ctr.exec_exit_file(session_id))?.map(|e| e.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::ExecUser;

    #[test]
    fn process_spec_overrides_the_containers_process() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"ociVersion":"1.0.2","process":{"args":["sleep","1"],"env":["PATH=/bin","A=1"],"cwd":"/","terminal":true,"consoleSize":{"height":1,"width":1},"user":{"uid":0,"gid":0}}}"#,
        )
        .unwrap();
        let mut opts = ExecOptions {
            command: vec!["echo".into(), "hi".into()],
            cwd: Some("/tmp".into()),
            user: Some(ExecUser {
                uid: 1000,
                gid: 100,
                additional_gids: vec![5, 100],
            }),
            ..Default::default()
        };
        opts.env.insert("A".into(), "2".into());
        opts.env.insert("B".into(), "3".into());
        let p = process_spec(dir.path(), &opts, Some(WindowSize { rows: 5, cols: 6 })).unwrap();
        assert_eq!(p["args"], serde_json::json!(["echo", "hi"]));
        assert_eq!(p["terminal"], false);
        assert!(p.get("consoleSize").is_none(), "no terminal, no size");
        opts.terminal = true;
        let p = process_spec(dir.path(), &opts, Some(WindowSize { rows: 5, cols: 6 })).unwrap();
        assert_eq!(p["consoleSize"], serde_json::json!({"height": 5, "width": 6}));
        assert_eq!(p["env"], serde_json::json!(["PATH=/bin", "A=2", "B=3"]));
        assert_eq!(p["cwd"], "/tmp");
        assert_eq!(p["user"]["uid"], 1000);
        assert_eq!(p["user"]["additionalGids"], serde_json::json!([5, 100]));
    }

    #[test]
    fn missing_spec_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = process_spec(dir.path(), &ExecOptions::default(), None).unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
    }

    #[test]
    fn cleanup_refuses_paths_and_tolerates_absence() {
        let dir = tempfile::tempdir().unwrap();
        let ctr = ContainerHandle::in_bundle("c", "n", dir.path());
        assert!(cleanup(&ctr, "../x").is_err());
        cleanup(&ctr, "nothing-here").unwrap();
        std::fs::create_dir_all(ctr.exec_exit_dir("s")).unwrap();
        cleanup(&ctr, "s").unwrap();
        assert!(!ctr.exec_bundle_dir("s").exists());
    }
}
