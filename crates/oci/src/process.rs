//! Processes and pipes: pid checks, conmon's sync/start pipes, running the
//! runtime's commands.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketFlags, SocketType, socketpair};
use rustix::process::{Pid, Signal};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::error::OciError;

/// How often a dying process is polled.
const POLL: Duration = Duration::from_millis(10);

/// A pid that names one process (0 and negative pids name groups).
pub(crate) fn positive_pid(pid: i32) -> Option<Pid> {
    if pid > 0 { Pid::from_raw(pid) } else { None }
}

/// True when a process with this pid exists (zombies included).
pub(crate) fn pid_alive(pid: i32) -> Result<bool, OciError> {
    let Some(pid) = positive_pid(pid) else {
        return Ok(false);
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => Ok(true),
        Err(Errno::SRCH) => Ok(false),
        // It exists; we may just not signal it.
        Err(Errno::PERM) => Ok(true),
        Err(e) => Err(OciError::sys("pinging a process with signal 0", e)),
    }
}

/// Sends a signal to a pid; false when the process was already gone.
pub(crate) fn signal_pid(pid: i32, signal: Signal) -> Result<bool, OciError> {
    let Some(p) = positive_pid(pid) else {
        return Ok(false);
    };
    match rustix::process::kill_process(p, signal) {
        Ok(()) => Ok(true),
        Err(Errno::SRCH) => Ok(false),
        Err(e) => Err(OciError::sys("signalling a process", e)),
    }
}

/// Polls until the pid is gone; false when `timeout` passed first.
pub(crate) async fn wait_pid_gone(pid: i32, timeout: Duration) -> Result<bool, OciError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if !pid_alive(pid)? {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One message of conmon's sync and attach pipes:
/// `{"data": N, "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct SyncMessage {
    pub data: i32,
    #[serde(default)]
    pub message: Option<String>,
}

impl SyncMessage {
    pub(crate) fn parse(bytes: &[u8]) -> Result<SyncMessage, OciError> {
        let text = String::from_utf8_lossy(bytes);
        let line = text.lines().next().unwrap_or_default();
        serde_json::from_str(line).map_err(|e| OciError::Conmon(format!("conmon bytes {text:?}: {e}")))
    }
}

/// Our end of a pipe shared with conmon: a SOCK_SEQPACKET socket pair, as
/// podman uses, so each message arrives whole.
#[derive(Debug)]
pub(crate) struct ParentPipe {
    stream: UnixStream,
}

/// Makes a pipe to conmon: our end and the end conmon inherits.
pub(crate) fn conmon_pipe() -> Result<(ParentPipe, OwnedFd), OciError> {
    let (ours, theirs) = socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(|e| OciError::sys("creating a socket pair for conmon", e))?;
    // conmon blocks on its end; only ours is driven by tokio.
    rustix::io::ioctl_fionbio(&theirs, false).map_err(|e| OciError::sys("making conmon's pipe blocking", e))?;
    let std_stream = std::os::unix::net::UnixStream::from(ours);
    let stream = UnixStream::from_std(std_stream).map_err(|e| OciError::sys("registering conmon's pipe", e))?;
    Ok((ParentPipe { stream }, theirs))
}

impl ParentPipe {
    /// Reads one message; `what` names it in errors.
    pub(crate) async fn read_message(&mut self, timeout: Duration, what: &str) -> Result<SyncMessage, OciError> {
        let mut buf = vec![0u8; 8192];
        let read = tokio::time::timeout(timeout, self.stream.read(&mut buf))
            .await
            .map_err(|_| OciError::Timeout(format!("waiting for conmon's {what}")))?
            .map_err(|e| OciError::sys("reading conmon's pipe", e))?;
        if read == 0 {
            return Err(OciError::Conmon(format!(
                "conmon closed its pipe without sending the {what} (no logs from conmon)"
            )));
        }
        SyncMessage::parse(&buf[..read])
    }

    /// Writes the one-byte go-ahead conmon waits for. A conmon that already
    /// died makes this fail with EPIPE, which the caller learns about from
    /// conmon's exit status instead.
    pub(crate) async fn signal(&mut self) -> Result<(), OciError> {
        match self.stream.write_all(&[0]).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(OciError::sys("writing conmon's start pipe", e)),
        }
    }
}

/// Gives the child `fds` as descriptors 3, 4, 5, ... (in order), the way
/// conmon finds its `_OCI_*PIPE` descriptors.
pub(crate) fn pass_fds(cmd: &mut tokio::process::Command, fds: &[OwnedFd]) {
    const MAX: usize = 8;
    let mut raw = [-1; MAX];
    for (slot, fd) in raw.iter_mut().zip(fds) {
        *slot = fd.as_raw_fd();
    }
    let count = fds.len().min(MAX);
    // SAFETY: the closure runs in the forked child before exec and calls
    // only fcntl and dup2, which are async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let mut high = [-1; MAX];
            // Move every source above the targets first so that no dup2
            // overwrites a source not yet moved.
            for i in 0..count {
                let fd = libc::fcntl(raw[i], libc::F_DUPFD_CLOEXEC, 64);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                high[i] = fd;
            }
            for (i, fd) in high.iter().enumerate().take(count) {
                // dup2 leaves the new descriptor without FD_CLOEXEC.
                if libc::dup2(*fd, 3 + i as i32) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// The environment the runtime's own commands run with: podman gives them
/// only PATH and XDG_RUNTIME_DIR.
pub(crate) fn runtime_command(path: &Path, flags: &[String], args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(path);
    cmd.env_clear();
    for key in ["PATH", "XDG_RUNTIME_DIR"] {
        if let Some(value) = std::env::var_os(key) {
            cmd.env(key, value);
        }
    }
    cmd.args(flags).args(args);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.kill_on_drop(true);
    cmd
}

/// Runs a command to its end, collecting its output.
pub(crate) async fn output(mut cmd: tokio::process::Command, program: &Path) -> Result<Output, OciError> {
    cmd.output().await.map_err(|e| OciError::io("running", program, e))
}

/// Runs `program --version` and returns its output.
pub(crate) async fn version_of(program: &Path) -> Result<String, OciError> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg("--version").stdin(Stdio::null()).kill_on_drop(true);
    let out = output(cmd, program).await?;
    if !out.status.success() {
        return Err(OciError::Conmon(format!(
            "{} --version failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// The Debian package that installed `path`, when dpkg knows it.
pub(crate) async fn package_of(path: &Path) -> String {
    let mut cmd = tokio::process::Command::new("dpkg-query");
    cmd.arg("-S")
        .arg(path)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let Ok(out) = cmd.output().await else {
        return "Unknown".into();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next().and_then(|l| l.split_once(':')) {
        Some((pkg, _)) if out.status.success() => {
            let pkg = pkg.trim();
            let mut q = tokio::process::Command::new("dpkg-query");
            q.args(["-W", "-f=${Package}: ${Version}"])
                .arg(pkg)
                .stdin(Stdio::null())
                .stderr(Stdio::null());
            match q.output().await {
                Ok(v) if v.status.success() => String::from_utf8_lossy(&v.stdout).trim().to_string(),
                _ => pkg.to_string(),
            }
        }
        _ => "Unknown".into(),
    }
}

/// Text of a failed command for error messages: stderr, else stdout, else
/// the exit status.
pub(crate) fn failure_text(program: impl AsRef<OsStr>, flags: &[String], args: &[&str], out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let detail = if !stderr.trim().is_empty() {
        stderr.trim().to_string()
    } else if !stdout.trim().is_empty() {
        stdout.trim().to_string()
    } else {
        format!("{}", out.status)
    };
    let words: Vec<&str> = flags.iter().map(String::as_str).chain(args.iter().copied()).collect();
    format!(
        "`{} {}` failed: {detail}",
        program.as_ref().to_string_lossy(),
        words.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sync_messages() {
        assert_eq!(
            SyncMessage::parse(b"{\"data\": 4242}\n").unwrap(),
            SyncMessage {
                data: 4242,
                message: None
            }
        );
        let failed = SyncMessage::parse(b"{\"data\": -1, \"message\": \"exec: \\\"x\\\": not found\\n\"}\n").unwrap();
        assert_eq!(failed.data, -1);
        assert_eq!(failed.message.as_deref(), Some("exec: \"x\": not found\n"));
        assert!(SyncMessage::parse(b"garbage").is_err());
    }

    #[test]
    fn own_pid_is_alive_and_bogus_pids_are_not() {
        assert!(pid_alive(std::process::id() as i32).unwrap());
        assert!(!pid_alive(0).unwrap());
        assert!(!pid_alive(-5).unwrap());
        // Above the kernel's pid_max (at most 2^22).
        assert!(!pid_alive(4_194_304 + 10).unwrap());
    }

    #[tokio::test]
    async fn fds_arrive_at_three_and_four() {
        let (mut p1, c1) = conmon_pipe().unwrap();
        let (mut p2, c2) = conmon_pipe().unwrap();
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg("printf '{\"data\": 7}' >&3; printf '{\"data\": 8}' >&4")
            .stdin(Stdio::null());
        let fds = [c1, c2];
        pass_fds(&mut cmd, &fds);
        let status = cmd.status().await.unwrap();
        drop(fds);
        assert!(status.success());
        let t = Duration::from_secs(10);
        assert_eq!(p1.read_message(t, "test").await.unwrap().data, 7);
        assert_eq!(p2.read_message(t, "test").await.unwrap().data, 8);
    }
}
