//! [`ConmonRuntime`]: crun or runc driven through conmon, as libpod drives
//! them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use corral_attach::WindowSize;
use corral_define::{ContainerState, ContainerStatus, ExecSession};
use rustix::process::Signal;
use serde::Deserialize;

use crate::config::{RuntimeConfig, find_executable};
use crate::error::OciError;
use crate::exec::AttachedExec;
use crate::files;
use crate::handle::{
    CheckpointOptions, ConmonInfo, ContainerHandle, ExecOptions, LogDriver, OciRuntimeInfo, RestoreOptions,
};
use crate::process::{self, ParentPipe, conmon_pipe, pass_fds, pid_alive, wait_pid_gone};
use crate::runtime::{OciRuntime, RuntimeInfo};
use crate::seccomp_cache::SeccompCache;
use crate::status::{self, RuntimeState, apply_conmon_dead, apply_exit, read_exit_file};

/// How long conmon may take to report the container's pid (podman's
/// ContainerCreateTimeout).
pub(crate) const CREATE_TIMEOUT: Duration = Duration::from_secs(240);
/// Where crun keeps its containers' state when not told otherwise.
const CRUN_STATE_ROOT: &str = "/run/crun";
/// How long a container may take to die after SIGKILL.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a sync waits for conmon's exit file once the runtime reports the process gone.
const EXIT_FILE_GRACE: Duration = Duration::from_secs(2);
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

/// An OCI runtime (crun, runc or any runtime with runc's command line)
/// monitored by conmon.
#[derive(Debug)]
pub struct ConmonRuntime {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) conmon_path: PathBuf,
    pub(crate) conmon_env: Vec<String>,
    pub(crate) runtime_flags: Vec<String>,
    pub(crate) exits_dir: PathBuf,
    pub(crate) persist_dir: PathBuf,
    pub(crate) supports_json: bool,
    pub(crate) supports_no_cgroups: bool,
    pub(crate) supports_kvm: bool,
    pub(crate) no_pivot: bool,
    pub(crate) enable_keyring: bool,
    pub(crate) systemd_cgroup: bool,
    pub(crate) log_level: String,
    pub(crate) syslog: bool,
    checkpoint_support: OnceLock<bool>,
    /// Filters crun compiled before; None for other runtimes.
    seccomp_cache: Option<SeccompCache>,
}

impl ConmonRuntime {
    /// Finds the runtime called `name` and conmon from the config's path
    /// lists and creates the exit and persist directories.
    pub fn new(name: &str, config: &RuntimeConfig) -> Result<ConmonRuntime, OciError> {
        if name.is_empty() {
            return Err(OciError::InvalidArg(
                "the OCI runtime must be given a non-empty name".into(),
            ));
        }
        let config_key = Path::new(name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string());
        let candidates = config.runtimes.get(&config_key).cloned().unwrap_or_default();
        let mut search = candidates.clone();
        if Path::new(name).is_absolute() {
            search.insert(0, PathBuf::from(name));
        }
        let path = find_executable(&config_key, &search).ok_or_else(|| OciError::NoRuntimeExecutable {
            name: name.to_string(),
            searched: search.clone(),
        })?;
        let conmon_path = find_executable("conmon", &config.conmon_paths).ok_or_else(|| OciError::NoConmon {
            searched: config.conmon_paths.clone(),
        })?;
        let rt = ConmonRuntime {
            name: name.to_string(),
            path,
            conmon_path,
            conmon_env: config.conmon_env.clone(),
            runtime_flags: config.runtime_flags.get(&config_key).cloned().unwrap_or_default(),
            exits_dir: config.exits_dir(),
            persist_dir: config.persist_dir(),
            supports_json: config.supports_json.contains(&config_key),
            supports_no_cgroups: config.supports_no_cgroups.contains(&config_key),
            supports_kvm: config.supports_kvm.contains(&config_key),
            no_pivot: config.no_pivot,
            enable_keyring: config.enable_keyring,
            systemd_cgroup: config.systemd_cgroup,
            log_level: config.conmon_log_level.clone(),
            syslog: config.conmon_syslog,
            checkpoint_support: OnceLock::new(),
            seccomp_cache: (config_key == "crun").then(|| SeccompCache::new(config.seccomp_cache_dir())),
        };
        files::create_dir(&rt.exits_dir)?;
        files::create_dir(&rt.persist_dir)?;
        Ok(rt)
    }

    /// conmon's path.
    pub fn conmon_path(&self) -> &Path {
        &self.conmon_path
    }

    fn container_persist_dir(&self, ctr: &ContainerHandle) -> PathBuf {
        self.persist_dir.join(&ctr.id)
    }

    fn exit_file(&self, ctr: &ContainerHandle) -> PathBuf {
        self.exits_dir.join(&ctr.id)
    }

    fn oom_file(&self, ctr: &ContainerHandle) -> PathBuf {
        self.container_persist_dir(ctr).join("oom")
    }

    /// Where the runtime writes its JSON error log for a bundle, when it
    /// writes one.
    pub(crate) fn oci_log(&self, bundle: &Path) -> Option<PathBuf> {
        self.supports_json.then(|| bundle.join("oci-log"))
    }

    /// Puts the filter crun compiled for an earlier container with the same
    /// seccomp profile into the spec at `spec_path`. Returns the cache key when
    /// crun will compile the filter itself, for keeping what it compiles.
    fn use_cached_seccomp(&self, spec_path: &Path) -> Result<Option<String>, OciError> {
        let Some(cache) = &self.seccomp_cache else {
            return Ok(None);
        };
        let bytes = std::fs::read(spec_path).map_err(|e| OciError::io("reading", spec_path, e))?;
        let Ok(mut spec) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            // crun reports a spec it cannot read better than we would.
            return Ok(None);
        };
        let Some(key) = SeccompCache::key(&self.path, &spec) else {
            return Ok(None);
        };
        if !cache.apply(&key, &mut spec) {
            return Ok(Some(key));
        }
        let bytes = serde_json::to_vec(&spec).map_err(|source| OciError::Json {
            what: "encoding the OCI spec with a cached seccomp filter",
            path: spec_path.to_owned(),
            source,
        })?;
        files::write_atomic(spec_path, &bytes)?;
        Ok(None)
    }

    /// crun's state directory: `--root` among the runtime flags, else its default.
    fn crun_state_root(&self) -> PathBuf {
        let mut flags = self.runtime_flags.iter();
        while let Some(flag) = flags.next() {
            if let Some(dir) = flag.strip_prefix("--root=") {
                return PathBuf::from(dir);
            }
            if flag == "--root"
                && let Some(dir) = flags.next()
            {
                return PathBuf::from(dir);
            }
        }
        PathBuf::from(CRUN_STATE_ROOT)
    }

    /// Runs `runtime [flags] args...`, failing with the runtime's output.
    pub(crate) async fn run(&self, args: &[&str]) -> Result<std::process::Output, OciError> {
        let cmd = process::runtime_command(&self.path, &self.runtime_flags, args);
        let out = process::output(cmd, &self.path).await?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(OciError::runtime_command(
                &self.name,
                &process::failure_text(&self.path, &self.runtime_flags, args, &out),
            ))
        }
    }

    /// The arguments every conmon invocation shares (podman's
    /// sharedConmonArgs).
    pub(crate) fn shared_conmon_args(&self, s: &SharedArgs<'_>) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--api-version".into(),
            "1".into(),
            "-c".into(),
            s.ctr.id.clone(),
            "-u".into(),
            s.cuuid.to_string(),
            "-r".into(),
            self.path.display().to_string(),
            "-b".into(),
            s.bundle.display().to_string(),
            "-p".into(),
            s.pid_file.display().to_string(),
            "-n".into(),
            if s.ctr.name.is_empty() {
                s.ctr.id.clone()
            } else {
                s.ctr.name.clone()
            },
            "--exit-dir".into(),
            s.exit_dir.display().to_string(),
            "--persist-dir".into(),
            s.persist_dir.display().to_string(),
            "--full-attach".into(),
        ];
        for flag in &self.runtime_flags {
            args.push("--runtime-arg".into());
            args.push(flag.clone());
        }
        if self.systemd_cgroup && !s.ctr.no_cgroups {
            args.push("-s".into());
        }
        let log = match s.log_driver {
            LogDriver::Journald => "journald".to_string(),
            LogDriver::None => "none".to_string(),
            LogDriver::Passthrough => "passthrough".to_string(),
            LogDriver::K8sFile => format!("k8s-file:{}", s.log_path.display()),
        };
        args.extend(["-l".into(), log, "--log-level".into(), self.log_level.clone()]);
        if self.syslog {
            args.push("--syslog".into());
        }
        if s.log_size_max > 0 {
            args.extend(["--log-size-max".into(), s.log_size_max.to_string()]);
        }
        if let Some(oci_log) = s.oci_log {
            args.extend([
                "--runtime-arg".into(),
                "--log-format=json".into(),
                "--runtime-arg".into(),
                "--log".into(),
                format!("--runtime-arg={}", oci_log.display()),
            ]);
        }
        if let Some(tag) = s.ctr.log_tag.as_deref().filter(|t| !t.is_empty()) {
            args.extend(["--log-tag".into(), tag.to_string()]);
        }
        if s.ctr.no_cgroups {
            args.extend([
                "--runtime-arg".into(),
                "--cgroup-manager".into(),
                "--runtime-arg".into(),
                "disabled".into(),
            ]);
        }
        args
    }

    /// conmon's full command line to create (or restore) a container.
    pub(crate) fn create_args(&self, ctr: &ContainerHandle, restore: Option<&RestoreOptions>) -> Vec<String> {
        let mut args = self.shared_conmon_args(&SharedArgs {
            ctr,
            cuuid: &ctr.id,
            bundle: &ctr.bundle_dir,
            pid_file: &ctr.pid_file,
            log_driver: ctr.log_driver,
            log_path: &ctr.log_path,
            log_size_max: ctr.log_size_max,
            exit_dir: &self.exits_dir,
            persist_dir: &self.container_persist_dir(ctr),
            oci_log: self.oci_log(&ctr.bundle_dir).as_deref(),
        });
        if ctr.terminal {
            args.push("-t".into());
        } else if ctr.stdin {
            args.push("-i".into());
        }
        if ctr.timeout > 0 {
            args.push(format!("--timeout={}", ctr.timeout));
        }
        if !self.enable_keyring {
            args.push("--no-new-keyring".into());
        }
        args.extend(["--conmon-pidfile".into(), ctr.conmon_pid_file.display().to_string()]);
        if self.no_pivot {
            args.push("--no-pivot".into());
        }
        push_exit_command(&mut args, &ctr.exit_command, 0);
        if let Some(opts) = restore {
            args.extend(["--restore".into(), ctr.checkpoint_dir.display().to_string()]);
            for (on, flag) in [
                (opts.tcp_established, "--tcp-established"),
                (opts.tcp_close, "--tcp-close"),
                (opts.file_locks, "--file-locks"),
            ] {
                if on {
                    args.extend(["--runtime-opt".into(), flag.into()]);
                }
            }
        }
        args
    }

    /// Starts conmon with the sync and start pipes (and the attach pipe for
    /// exec) as descriptors 3, 4 (and 5), signals it once through the start
    /// pipe, and waits for its first process to exit (it daemonizes).
    pub(crate) async fn spawn_conmon(
        &self,
        args: &[String],
        cwd: &Path,
        passthrough: bool,
        with_attach_pipe: bool,
    ) -> Result<ConmonPipes, OciError> {
        let (sync, child_sync) = conmon_pipe()?;
        let (mut start, child_start) = conmon_pipe()?;
        let mut child_fds = vec![child_sync, child_start];
        let attach = if with_attach_pipe {
            let (attach, child_attach) = conmon_pipe()?;
            child_fds.push(child_attach);
            Some(attach)
        } else {
            None
        };
        let mut cmd = tokio::process::Command::new(&self.conmon_path);
        cmd.args(args).current_dir(cwd).process_group(0).kill_on_drop(false);
        cmd.env_clear();
        for (key, value) in std::env::vars_os() {
            if key != "NOTIFY_SOCKET"
                && key != "DBUS_SESSION_BUS_ADDRESS"
                && !key.to_string_lossy().starts_with("_OCI_")
            {
                cmd.env(key, value);
            }
        }
        for kv in &self.conmon_env {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
        cmd.env("_OCI_SYNCPIPE", "3").env("_OCI_STARTPIPE", "4");
        if with_attach_pipe {
            cmd.env("_OCI_ATTACHPIPE", "5");
        }
        if passthrough {
            cmd.stdin(Stdio::inherit())
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit());
        } else {
            // Piped only to report a conmon that fails before daemonizing
            // (it prints some errors on stdout); its daemon drops both.
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        pass_fds(&mut cmd, &child_fds);
        tracing::debug!(conmon = %self.conmon_path.display(), ?args, "running conmon");
        let mut child = cmd
            .spawn()
            .map_err(|e| OciError::io("starting conmon", &self.conmon_path, e))?;
        // conmon holds its ends now; ours must close so EOF can be seen.
        drop(child_fds);
        start.signal().await?;
        let status = child
            .wait()
            .await
            .map_err(|e| OciError::io("waiting for conmon", &self.conmon_path, e))?;
        if !status.success() {
            use tokio::io::AsyncReadExt;
            let mut text = String::new();
            let read_all = async {
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut text).await;
                }
                if let Some(mut pipe) = child.stdout.take() {
                    let _ = pipe.read_to_string(&mut text).await;
                }
            };
            // A grandchild may still hold the pipes: do not wait for it.
            let _ = tokio::time::timeout(Duration::from_secs(5), read_all).await;
            return Err(OciError::Conmon(format!("{status}: {}", text.trim())));
        }
        Ok(ConmonPipes { sync, start, attach })
    }

    /// Reads conmon's answer on a sync pipe: a pid (or exit code), or the
    /// runtime's error, preferring the runtime's own JSON log.
    pub(crate) async fn read_sync(
        &self,
        pipe: &mut ParentPipe,
        oci_log: Option<&Path>,
        timeout: Duration,
        what: &str,
    ) -> Result<i32, OciError> {
        let msg = match pipe.read_message(timeout, what).await {
            Ok(m) => m,
            Err(err) => {
                if let Some(text) = oci_log.and_then(read_oci_log) {
                    return Err(OciError::from_runtime_message(&self.name, &text));
                }
                return Err(err);
            }
        };
        if msg.data < 0 {
            if let Some(text) = oci_log.and_then(read_oci_log) {
                return Err(OciError::from_runtime_message(&self.name, &text));
            }
            if let Some(text) = msg.message.as_deref().filter(|m| !m.trim().is_empty()) {
                return Err(OciError::from_runtime_message(&self.name, text));
            }
            return Err(OciError::Conmon(format!("{what} failed: {}", msg.data)));
        }
        Ok(msg.data)
    }

    /// Ends an exec session or container process found alive without its
    /// conmon: SIGKILL through the runtime, then wait.
    async fn kill_runaway(&self, ctr: &ContainerHandle, pid: i32) -> Result<(), OciError> {
        if pid_alive(pid)? {
            if let Err(err) = self.run(&["kill", "--all", &ctr.id, &SIGKILL.to_string()]).await {
                tracing::warn!("killing container {} after its conmon died: {err}", ctr.id);
            }
            wait_pid_gone(pid, KILL_TIMEOUT).await?;
        }
        Ok(())
    }

    /// Sends one signal for `stop`; true when the container is already gone.
    async fn stop_signal(&self, ctr: &ContainerHandle, pid: i32, signal: i32, all: bool) -> Result<bool, OciError> {
        match self.kill(ctr, pid, signal, all).await {
            Ok(()) => Ok(false),
            Err(_) if !pid_alive(pid)? => Ok(true),
            Err(err) => Err(err),
        }
    }

    async fn kill(&self, ctr: &ContainerHandle, pid: i32, signal: i32, all: bool) -> Result<(), OciError> {
        tracing::debug!("sending signal {signal} to container {}", ctr.id);
        let sig = signal.to_string();
        let mut args = vec!["kill"];
        if all {
            args.push("--all");
        }
        args.extend([ctr.id.as_str(), sig.as_str()]);
        match self.run(&args).await {
            Ok(_) => Ok(()),
            Err(err) => {
                if !pid_alive(pid)? {
                    return Err(OciError::InvalidState(format!(
                        "sending signal {signal} to container {}: its process is not running",
                        ctr.id
                    )));
                }
                Err(err)
            }
        }
    }
}

/// The pieces of conmon's command line that differ between a container and
/// an exec session.
#[derive(Debug)]
pub(crate) struct SharedArgs<'a> {
    pub ctr: &'a ContainerHandle,
    pub cuuid: &'a str,
    pub bundle: &'a Path,
    pub pid_file: &'a Path,
    pub log_driver: LogDriver,
    pub log_path: &'a Path,
    pub log_size_max: i64,
    pub exit_dir: &'a Path,
    pub persist_dir: &'a Path,
    pub oci_log: Option<&'a Path>,
}

/// Our ends of a started conmon's pipes.
#[derive(Debug)]
pub(crate) struct ConmonPipes {
    pub sync: ParentPipe,
    pub start: ParentPipe,
    pub attach: Option<ParentPipe>,
}

pub(crate) fn push_exit_command(args: &mut Vec<String>, command: &[String], delay: u32) {
    if let Some((program, rest)) = command.split_first() {
        args.extend(["--exit-command".into(), program.clone()]);
        for arg in rest {
            args.extend(["--exit-command-arg".into(), arg.clone()]);
        }
        if delay > 0 {
            args.extend(["--exit-delay".into(), delay.to_string()]);
        }
    }
}

/// The message of the runtime's JSON error log (`{"level","time","msg"}`
/// lines): the last error, else the last message.
pub(crate) fn read_oci_log(path: &Path) -> Option<String> {
    #[derive(Deserialize)]
    struct Line {
        #[serde(default)]
        level: String,
        #[serde(default)]
        msg: String,
    }
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<Line> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Line>(l).ok())
        .filter(|l| !l.msg.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| l.level == "error")
        .or_else(|| lines.last())
        .map(|l| l.msg.clone())
}

/// True when `pid` is a conmon serving container `id` (`-c ID` among its arguments).
fn is_conmon_of(pid: i32, id: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.first().is_some_and(|a| a.ends_with(b"conmon")) && args.windows(2).any(|w| w == [&b"-c"[..], id.as_bytes()])
}

impl ConmonRuntime {
    /// Undoes a creation whose caller was killed before recording it: its conmon
    /// (still serving the container) is killed without running the exit command,
    /// and the runtime's container deleted, which would otherwise refuse the ID.
    /// A conmon pid file is what such a creation leaves; without one there is
    /// nothing to do (and no runtime call to pay for).
    async fn remove_leftover(&self, ctr: &ContainerHandle) -> Result<(), OciError> {
        let Ok(pid) = read_pid_file(&ctr.conmon_pid_file) else {
            return Ok(());
        };
        if is_conmon_of(pid, &ctr.id) {
            tracing::debug!(
                "killing conmon {pid} left by an unfinished creation of container {}",
                ctr.id
            );
            process::signal_pid(pid, Signal::KILL)?;
            wait_pid_gone(pid, KILL_TIMEOUT).await?;
        }
        if let Err(e) = self.delete_container(ctr).await {
            // The usual case: the last run was cleaned up and the runtime forgot it.
            tracing::debug!("deleting leftover runtime container {}: {e}", ctr.id);
        }
        Ok(())
    }
}

fn read_pid_file(path: &Path) -> Result<i32, OciError> {
    let text = std::fs::read_to_string(path).map_err(|e| OciError::io("reading pid file", path, e))?;
    text.trim()
        .parse()
        .map_err(|e| OciError::InvalidArg(format!("pid file {} holds {text:?}: {e}", path.display())))
}

/// Resizes the terminal of the conmon whose bundle is `dir`, through its
/// `ctl` FIFO.
pub(crate) fn write_resize(dir: &Path, size: WindowSize) -> Result<(), OciError> {
    Ok(corral_attach::resize_terminal(&dir.join("ctl"), size)?)
}

#[async_trait]
impl OciRuntime for ConmonRuntime {
    fn name(&self) -> &str {
        &self.name
    }

    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    async fn create_container(
        &self,
        ctr: &ContainerHandle,
        state: &mut ContainerState,
        restore: Option<&RestoreOptions>,
    ) -> Result<Duration, OciError> {
        let spec = ctr.bundle_dir.join("config.json");
        std::fs::metadata(&spec).map_err(|e| OciError::io("finding the container's OCI spec", &spec, e))?;
        let compiling_seccomp = self.use_cached_seccomp(&spec)?;
        let persist = self.container_persist_dir(ctr);
        files::create_dir(&persist)?;
        self.remove_leftover(ctr).await?;
        // Files of a previous run would make the new one look exited.
        for stale in [
            self.exit_file(ctr),
            self.oom_file(ctr),
            persist.join("exit"),
            ctr.conmon_pid_file.clone(),
        ] {
            files::remove_if_present(&stale)?;
        }
        let oci_log = self.oci_log(&ctr.bundle_dir);
        if let Some(log) = &oci_log {
            files::remove_if_present(log)?;
        }
        let args = self.create_args(ctr, restore);
        let started = Instant::now();
        let passthrough = ctr.log_driver == LogDriver::Passthrough;
        let mut pipes = self.spawn_conmon(&args, &ctr.bundle_dir, passthrough, false).await?;
        let pid = match self
            .read_sync(&mut pipes.sync, oci_log.as_deref(), CREATE_TIMEOUT, "container pid")
            .await
        {
            Ok(pid) => pid,
            Err(err) => {
                if let Err(del) = self.delete_container(ctr).await {
                    tracing::debug!("removing container {} after creation failed: {del}", ctr.id);
                }
                return Err(err);
            }
        };
        let took = started.elapsed();
        if let (Some(cache), Some(key)) = (&self.seccomp_cache, compiling_seccomp) {
            cache.store(&key, &self.crun_state_root().join(&ctr.id).join("seccomp.bpf"));
        }
        state.pid = pid;
        state.conmon_pid = match read_pid_file(&ctr.conmon_pid_file) {
            Ok(p) => p,
            Err(err) => {
                tracing::warn!("reading conmon pid file for container {}: {err}", ctr.id);
                0
            }
        };
        state.exited = false;
        state.exit_code = 0;
        state.oom_killed = false;
        state.error.clear();
        state.finished_time = None;
        if restore.is_some() {
            state.state = ContainerStatus::Running;
            state.restored_time = Some(Utc::now());
            state.started_time = Some(Utc::now());
            state.checkpointed = false;
            Ok(took)
        } else {
            state.state = ContainerStatus::Created;
            Ok(Duration::ZERO)
        }
    }

    async fn update_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        if !state.state.may_have_exited() {
            return Ok(());
        }
        let oom = || self.oom_file(ctr).exists();
        if let Some(exit) = read_exit_file(&self.exit_file(ctr))? {
            apply_exit(state, exit, oom());
            return Ok(());
        }
        if state.conmon_pid <= 0 || self.check_conmon_running(ctr, state)? {
            return Ok(());
        }
        // conmon writes the exit file before it exits: look once more.
        if let Some(exit) = read_exit_file(&self.exit_file(ctr))? {
            apply_exit(state, exit, oom());
            return Ok(());
        }
        self.kill_runaway(ctr, state.pid).await?;
        apply_conmon_dead(state);
        Ok(())
    }

    async fn sync_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        let cmd = process::runtime_command(&self.path, &self.runtime_flags, &["state", &ctr.id]);
        let out = process::output(cmd, &self.path).await?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lower = stderr.to_lowercase();
            if lower.contains("does not exist") || lower.contains("no such file") {
                // The runtime forgot the container: it is gone.
                files::remove_if_present(&self.exit_file(ctr))?;
                state.exit_code = -1;
                state.finished_time = Some(Utc::now());
                state.state = ContainerStatus::Exited;
                state.exited = true;
                state.pid = 0;
                return Ok(());
            }
            return Err(OciError::runtime_command(
                &self.name,
                &process::failure_text(&self.path, &self.runtime_flags, &["state", &ctr.id], &out),
            ));
        }
        let rt: RuntimeState = serde_json::from_slice(&out.stdout).map_err(|source| OciError::Json {
            what: "decoding the runtime's state of container",
            path: PathBuf::from(&ctr.id),
            source,
        })?;
        let was_active = state.state.is_active();
        status::apply_runtime_state(state, &rt)?;
        if state.state == ContainerStatus::Stopped {
            let exit_file = self.exit_file(ctr);
            // The runtime can report the process gone a moment before conmon has
            // written its exit code: wait for it rather than record no code at all.
            let exit = match read_exit_file(&exit_file)? {
                Some(exit) => Some(exit),
                None if was_active => status::wait_for_exit_file(&exit_file, EXIT_FILE_GRACE).await?,
                None => None,
            };
            if let Some(exit) = exit {
                apply_exit(state, exit, self.oom_file(ctr).exists());
            }
        }
        Ok(())
    }

    async fn start_container(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        self.run(&["start", &ctr.id]).await?;
        state.started_time = Some(Utc::now());
        state.state = ContainerStatus::Running;
        Ok(())
    }

    async fn kill_container(
        &self,
        ctr: &ContainerHandle,
        state: &ContainerState,
        signal: i32,
        all: bool,
    ) -> Result<(), OciError> {
        self.kill(ctr, state.pid, signal, all).await
    }

    async fn stop_container(
        &self,
        ctr: &ContainerHandle,
        state: &ContainerState,
        timeout: u32,
        all: bool,
    ) -> Result<(), OciError> {
        let pid = state.pid;
        tracing::debug!("stopping container {} (pid {pid})", ctr.id);
        if !pid_alive(pid)? {
            return Ok(());
        }
        if timeout > 0 {
            let signal = if ctr.stop_signal == 0 { SIGTERM } else { ctr.stop_signal };
            if self.stop_signal(ctr, pid, signal, all).await? {
                return Ok(());
            }
            if wait_pid_gone(pid, Duration::from_secs(u64::from(timeout))).await? {
                return Ok(());
            }
            tracing::warn!(
                "StopSignal {signal} failed to stop container {} in {timeout} seconds, resorting to SIGKILL",
                ctr.name
            );
        }
        if self.stop_signal(ctr, pid, SIGKILL, all).await? {
            return Ok(());
        }
        if wait_pid_gone(pid, KILL_TIMEOUT).await? {
            Ok(())
        } else {
            Err(OciError::Timeout(format!(
                "container {} (pid {pid}) did not die after SIGKILL",
                ctr.id
            )))
        }
    }

    async fn delete_container(&self, ctr: &ContainerHandle) -> Result<(), OciError> {
        self.run(&["delete", "--force", &ctr.id]).await.map(|_| ())
    }

    async fn pause_container(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        self.run(&["pause", &ctr.id]).await?;
        state.state = ContainerStatus::Paused;
        Ok(())
    }

    async fn unpause_container(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        self.run(&["resume", &ctr.id]).await?;
        state.state = ContainerStatus::Running;
        Ok(())
    }

    fn attach_socket_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(ctr.bundle_dir.join("attach"))
    }

    async fn attach_resize(&self, ctr: &ContainerHandle, size: WindowSize) -> Result<(), OciError> {
        write_resize(&ctr.bundle_dir, size)
    }

    async fn exec_container(
        &self,
        ctr: &ContainerHandle,
        session_id: &str,
        opts: &ExecOptions,
        attach_stdin: bool,
        size: Option<WindowSize>,
    ) -> Result<AttachedExec, OciError> {
        crate::exec::exec_attached(self, ctr, session_id, opts, attach_stdin, size).await
    }

    async fn exec_container_detached(
        &self,
        ctr: &ContainerHandle,
        session_id: &str,
        opts: &ExecOptions,
        stdin: bool,
    ) -> Result<i32, OciError> {
        crate::exec::exec_detached(self, ctr, session_id, opts, stdin).await
    }

    async fn exec_attach_resize(
        &self,
        ctr: &ContainerHandle,
        session_id: &str,
        size: WindowSize,
    ) -> Result<(), OciError> {
        write_resize(&ctr.exec_bundle_dir(session_id), size)
    }

    async fn exec_stop_container(
        &self,
        ctr: &ContainerHandle,
        session: &ExecSession,
        timeout: u32,
    ) -> Result<(), OciError> {
        let pid = session.pid;
        if !pid_alive(pid)? {
            return Ok(());
        }
        if timeout > 0 {
            tracing::debug!(
                "killing exec session {} (pid {pid}) of container {} with SIGTERM",
                session.id,
                ctr.id
            );
            if !process::signal_pid(pid, Signal::TERM)? {
                return Ok(());
            }
            if wait_pid_gone(pid, Duration::from_secs(u64::from(timeout))).await? {
                return Ok(());
            }
        }
        if !process::signal_pid(pid, Signal::KILL)? {
            return Ok(());
        }
        if wait_pid_gone(pid, KILL_TIMEOUT).await? {
            Ok(())
        } else {
            Err(OciError::Timeout(format!(
                "container {} exec session {} (pid {pid}) did not die after SIGKILL",
                ctr.id, session.id
            )))
        }
    }

    fn exec_update_status(&self, _ctr: &ContainerHandle, session: &ExecSession) -> Result<bool, OciError> {
        pid_alive(session.pid)
    }

    fn exec_exit_code(&self, ctr: &ContainerHandle, session_id: &str) -> Result<Option<i32>, OciError> {
        Ok(read_exit_file(&ctr.exec_exit_file(session_id))?.map(|e| e.code))
    }

    async fn exec_container_cleanup(&self, ctr: &ContainerHandle, session_id: &str) -> Result<(), OciError> {
        crate::exec::cleanup(ctr, session_id)
    }

    fn exec_attach_socket_path(&self, ctr: &ContainerHandle, session_id: &str) -> Result<PathBuf, OciError> {
        if session_id.is_empty() {
            return Err(OciError::InvalidArg(
                "must provide a valid session ID to get attach socket path".into(),
            ));
        }
        Ok(ctr.exec_bundle_dir(session_id).join("attach"))
    }

    async fn checkpoint_container(
        &self,
        ctr: &ContainerHandle,
        state: &mut ContainerState,
        opts: &CheckpointOptions,
    ) -> Result<Duration, OciError> {
        if !self.supports_checkpoint() {
            return Err(OciError::NotSupported(format!(
                "the OCI runtime {} ({}) cannot checkpoint containers",
                self.name,
                self.path.display()
            )));
        }
        let image_path = if opts.pre_checkpoint {
            ctr.checkpoint_dir.with_file_name("pre-checkpoint")
        } else {
            ctr.checkpoint_dir.clone()
        };
        files::create_dir(&image_path)?;
        let image = image_path.display().to_string();
        let work = ctr.bundle_dir.display().to_string();
        let mut args = vec!["checkpoint", "--image-path", &image, "--work-path", &work];
        if opts.keep_running && !opts.pre_checkpoint {
            args.push("--leave-running");
        }
        if opts.tcp_established {
            args.push("--tcp-established");
        }
        if opts.file_locks {
            args.push("--file-locks");
        }
        if opts.pre_checkpoint {
            args.push("--pre-dump");
        }
        if !opts.pre_checkpoint && opts.with_previous {
            args.extend(["--parent-path", "../pre-checkpoint"]);
        }
        args.push(&ctr.id);
        let started = Instant::now();
        self.run(&args).await.map_err(|err| match err {
            OciError::Runtime { runtime, message, kind } => OciError::Runtime {
                runtime,
                message: with_criu_log(message, &ctr.bundle_dir),
                kind,
            },
            other => other,
        })?;
        let took = started.elapsed();
        if !opts.pre_checkpoint {
            state.checkpointed = true;
            state.checkpointed_time = Some(Utc::now());
            if !opts.keep_running {
                state.state = ContainerStatus::Stopped;
            }
        }
        Ok(took)
    }

    fn check_conmon_running(&self, ctr: &ContainerHandle, state: &ContainerState) -> Result<bool, OciError> {
        if state.conmon_pid <= 0 {
            // Without a recorded conmon pid, trust the status.
            let active = matches!(state.state, ContainerStatus::Running | ContainerStatus::Paused);
            if active {
                tracing::warn!("conmon pid of running container {} is not known", ctr.id);
            }
            return Ok(active);
        }
        pid_alive(state.conmon_pid)
    }

    fn supports_checkpoint(&self) -> bool {
        *self.checkpoint_support.get_or_init(|| {
            // podman's test: the runtime knows a `checkpoint` command.
            std::process::Command::new(&self.path)
                .args(["checkpoint", "--help"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
    }

    fn supports_json_errors(&self) -> bool {
        self.supports_json
    }

    fn supports_no_cgroups(&self) -> bool {
        self.supports_no_cgroups
    }

    fn supports_kvm(&self) -> bool {
        self.supports_kvm
    }

    fn exit_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.exit_file(ctr))
    }

    fn oom_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.oom_file(ctr))
    }

    fn persist_directory_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.container_persist_dir(ctr))
    }

    async fn runtime_info(&self) -> Result<RuntimeInfo, OciError> {
        let runtime_version = process::version_of(&self.path).await?;
        let conmon_version = process::version_of(&self.conmon_path).await?;
        Ok(RuntimeInfo {
            conmon: Some(ConmonInfo {
                package: process::package_of(&self.conmon_path).await,
                path: self.conmon_path.display().to_string(),
                version: conmon_version.replacen('\n', ", ", 1),
            }),
            runtime: OciRuntimeInfo {
                name: self.name.clone(),
                package: process::package_of(&self.path).await,
                path: self.path.display().to_string(),
                version: runtime_version,
            },
        })
    }
}

/// Adds the tail of CRIU's dump log, which says why a checkpoint failed.
fn with_criu_log(message: String, work_dir: &Path) -> String {
    let log = work_dir.join("dump.log");
    match std::fs::read_to_string(&log) {
        Ok(text) => {
            let errors: Vec<&str> = text.lines().filter(|l| l.contains("Error")).collect();
            let tail = errors
                .iter()
                .rev()
                .take(3)
                .rev()
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            if tail.is_empty() {
                message
            } else {
                format!("{message}\nCRIU ({}):\n{tail}", log.display())
            }
        }
        Err(_) => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    fn runtime(dir: &Path) -> ConmonRuntime {
        let mut cfg = RuntimeConfig::with_tmp_dir(dir);
        let fake = dir.join("fake-crun");
        std::fs::write(&fake, b"").unwrap();
        let conmon = dir.join("fake-conmon");
        std::fs::write(&conmon, b"").unwrap();
        cfg.runtimes.insert("crun".into(), vec![fake]);
        cfg.conmon_paths = vec![conmon];
        cfg.runtime_flags.insert("crun".into(), vec!["--root=/x".into()]);
        ConmonRuntime::new("crun", &cfg).unwrap()
    }

    fn pairs(args: &[String]) -> Vec<(String, String)> {
        args.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect()
    }

    #[test]
    fn create_args_match_podman() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path());
        let mut ctr = ContainerHandle::in_bundle("abc", "web", "/b");
        ctr.exit_command = vec![
            "/usr/bin/corral".into(),
            "container".into(),
            "cleanup".into(),
            "abc".into(),
        ];
        ctr.log_size_max = 1000;
        ctr.stdin = true;
        let args = rt.create_args(&ctr, None);
        let p = pairs(&args);
        let has = |a: &str, b: &str| p.contains(&(a.to_string(), b.to_string()));
        assert_eq!(&args[..2], ["--api-version", "1"]);
        assert!(has("-c", "abc") && has("-u", "abc") && has("-n", "web"));
        assert!(has("-b", "/b") && has("-p", "/b/pidfile"));
        assert!(has("--exit-dir", &dir.path().join("exits").display().to_string()));
        assert!(has(
            "--persist-dir",
            &dir.path().join("persist/abc").display().to_string()
        ));
        assert!(has("-l", "k8s-file:/b/ctr.log"));
        assert!(has("--log-size-max", "1000"));
        assert!(has("--runtime-arg", "--root=/x"));
        assert!(has("--runtime-arg", "--log-format=json"));
        assert!(args.contains(&"--runtime-arg=/b/oci-log".to_string()));
        assert!(args.contains(&"--full-attach".to_string()));
        assert!(args.contains(&"-i".to_string()) && !args.contains(&"-t".to_string()));
        assert!(has("--conmon-pidfile", "/b/conmon.pid"));
        assert!(has("--exit-command", "/usr/bin/corral"));
        let exit_args: Vec<&String> = p
            .iter()
            .filter(|(a, _)| a == "--exit-command-arg")
            .map(|(_, b)| b)
            .collect();
        assert_eq!(exit_args, ["container", "cleanup", "abc"]);
        assert!(!args.contains(&"--restore".to_string()));
        assert!(!args.contains(&"-s".to_string()), "cgroupfs is the runtimes' default");
    }

    #[test]
    fn restore_and_terminal_args() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path());
        let mut ctr = ContainerHandle::in_bundle("abc", "", "/b");
        ctr.terminal = true;
        ctr.stdin = true;
        ctr.no_cgroups = true;
        ctr.timeout = 5;
        let opts = RestoreOptions {
            tcp_established: true,
            ..Default::default()
        };
        let args = rt.create_args(&ctr, Some(&opts));
        let p = pairs(&args);
        let has = |a: &str, b: &str| p.contains(&(a.to_string(), b.to_string()));
        assert!(has("-n", "abc"), "an empty name falls back to the ID");
        assert!(args.contains(&"-t".to_string()) && !args.contains(&"-i".to_string()));
        assert!(has("--restore", "/b/checkpoint"));
        assert!(has("--runtime-opt", "--tcp-established"));
        assert!(has("--runtime-arg", "--cgroup-manager") && has("--runtime-arg", "disabled"));
        assert!(args.contains(&"--timeout=5".to_string()));
    }

    #[test]
    fn oci_log_prefers_the_last_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("oci-log");
        std::fs::write(
            &p,
            "{\"msg\":\"starting\",\"level\":\"info\"}\n{\"msg\":\"boom: permission denied\",\"level\":\"error\"}\n{\"msg\":\"later\",\"level\":\"warning\"}\n",
        )
        .unwrap();
        assert_eq!(read_oci_log(&p).as_deref(), Some("boom: permission denied"));
        assert_eq!(read_oci_log(&dir.path().join("none")), None);
    }

    #[test]
    fn resize_writes_the_ctl_line() {
        let dir = tempfile::tempdir().unwrap();
        let ctl = dir.path().join("ctl");
        rustix::fs::mkfifoat(rustix::fs::CWD, &ctl, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
        // conmon keeps the FIFO open for reading; so does this reader.
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&ctl)
            .unwrap();
        write_resize(dir.path(), WindowSize { rows: 40, cols: 120 }).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut &reader, &mut text).unwrap();
        assert_eq!(text, "1 40 120\n");
        drop(reader);
        let err = write_resize(dir.path(), WindowSize { rows: 1, cols: 1 }).unwrap_err();
        assert_eq!(
            corral_define::HasKind::kind(&err),
            corral_define::ErrorKind::ConmonDead,
            "no reader: {err}"
        );
    }
}
