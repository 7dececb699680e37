//! A container's status from conmon's exit files and the pids, and from the
//! runtime's `state` answer.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use corral_define::{ContainerState, ContainerStatus};
use serde::Deserialize;

use crate::error::OciError;

/// What podman records when conmon died without leaving an exit file.
pub const CONMON_DIED_MESSAGE: &str =
    "conmon died without writing exit file, container exit code could not be retrieved";

/// An exit file conmon wrote: the exit code and when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitFile {
    pub code: i32,
    pub time: DateTime<Utc>,
}

/// Reads an exit file; None while it does not exist (or is still empty:
/// conmon writes it in one go but a reader may be faster).
pub fn read_exit_file(path: &Path) -> Result<Option<ExitFile>, OciError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(OciError::io("reading exit file", path, e)),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let code = text.trim().parse::<i32>().map_err(|e| {
        OciError::InvalidArg(format!(
            "exit file {} holds {text:?}, not an exit code: {e}",
            path.display()
        ))
    })?;
    let time = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now());
    Ok(Some(ExitFile { code, time }))
}

/// Waits for an exit file; None when `timeout` passed first. Watches the
/// directory with inotify (conmon writes the file under a temporary name
/// and renames it) and also polls, in case the directory is not watchable.
pub async fn wait_for_exit_file(path: &Path, timeout: Duration) -> Result<Option<ExitFile>, OciError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let watch = path.parent().and_then(|dir| watch_dir(dir).ok());
    loop {
        if let Some(exit) = read_exit_file(path)? {
            return Ok(Some(exit));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        let nap = (deadline - now).min(Duration::from_millis(100));
        match &watch {
            Some(fd) => {
                if let Ok(Ok(mut guard)) = tokio::time::timeout(nap, fd.readable()).await {
                    let mut buf = [0u8; 4096];
                    while rustix::io::read(fd.get_ref(), &mut buf).is_ok_and(|n| n > 0) {}
                    guard.clear_ready();
                }
            }
            None => tokio::time::sleep(nap.min(Duration::from_millis(10))).await,
        }
    }
}

/// An inotify descriptor reporting files completed or moved into `dir`.
fn watch_dir(dir: &Path) -> std::io::Result<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    use rustix::fs::inotify;
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
    inotify::add_watch(
        &fd,
        dir,
        inotify::WatchFlags::CLOSE_WRITE | inotify::WatchFlags::MOVED_TO | inotify::WatchFlags::CREATE,
    )?;
    // SAFETY: the OwnedFd moves into the AsyncFd, which keeps it open and
    // returns the same descriptor from as_raw_fd for its whole life.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
        .map_err(std::io::Error::from)
}

/// Records a container exit read from its exit file, as podman's
/// checkExitFile does.
pub fn apply_exit(state: &mut ContainerState, exit: ExitFile, oom_killed: bool) {
    state.state = ContainerStatus::Stopped;
    state.pid = 0;
    state.conmon_pid = 0;
    state.exit_code = exit.code;
    state.finished_time = Some(exit.time);
    state.oom_killed = oom_killed;
    state.exited = true;
}

/// Records that conmon died without an exit file: the exit code is lost.
pub fn apply_conmon_dead(state: &mut ContainerState) {
    state.state = ContainerStatus::Stopped;
    state.pid = 0;
    state.conmon_pid = 0;
    state.exit_code = -1;
    state.finished_time = Some(Utc::now());
    state.exited = true;
    state.error = CONMON_DIED_MESSAGE.into();
}

/// The runtime's `state` answer (the OCI state JSON).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RuntimeState {
    pub status: String,
    #[serde(default)]
    pub pid: i32,
}

/// Records the runtime's `state` answer; a container still stopping stays
/// stopping while the runtime says it runs.
pub(crate) fn apply_runtime_state(state: &mut ContainerState, rt: &RuntimeState) -> Result<(), OciError> {
    let new = match rt.status.as_str() {
        "created" => ContainerStatus::Created,
        "running" => ContainerStatus::Running,
        "paused" => ContainerStatus::Paused,
        "stopped" => ContainerStatus::Stopped,
        other => {
            return Err(OciError::InvalidArg(format!(
                "unrecognized status {other:?} returned by the runtime"
            )));
        }
    };
    state.pid = rt.pid;
    if !(state.state == ContainerStatus::Stopping && matches!(new, ContainerStatus::Running | ContainerStatus::Paused))
    {
        state.state = new;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exit_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id");
        assert_eq!(read_exit_file(&p).unwrap(), None);
        std::fs::write(&p, "").unwrap();
        assert_eq!(read_exit_file(&p).unwrap(), None);
        std::fs::write(&p, "137").unwrap();
        assert_eq!(read_exit_file(&p).unwrap().unwrap().code, 137);
        std::fs::write(&p, "nope").unwrap();
        assert!(read_exit_file(&p).is_err());
    }

    #[tokio::test]
    async fn waiting_for_an_exit_file_times_out_or_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id");
        assert_eq!(wait_for_exit_file(&p, Duration::from_millis(30)).await.unwrap(), None);
        let writer = {
            let p = p.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                crate::files::write_atomic(&p, b"3").unwrap();
            })
        };
        let got = wait_for_exit_file(&p, Duration::from_secs(30)).await.unwrap().unwrap();
        writer.await.unwrap();
        assert_eq!(got.code, 3);
    }

    #[test]
    fn runtime_state_mapping() {
        let mut st = ContainerState {
            state: ContainerStatus::Stopping,
            ..Default::default()
        };
        let running = RuntimeState {
            status: "running".into(),
            pid: 9,
        };
        apply_runtime_state(&mut st, &running).unwrap();
        assert_eq!(st.state, ContainerStatus::Stopping);
        assert_eq!(st.pid, 9);
        let stopped = RuntimeState {
            status: "stopped".into(),
            pid: 0,
        };
        apply_runtime_state(&mut st, &stopped).unwrap();
        assert_eq!(st.state, ContainerStatus::Stopped);
        let odd = RuntimeState {
            status: "odd".into(),
            pid: 0,
        };
        assert!(apply_runtime_state(&mut st, &odd).is_err());
    }

    fn any_status() -> impl Strategy<Value = ContainerStatus> {
        proptest::sample::select(ContainerStatus::ALL.to_vec())
    }

    proptest! {
        /// From any status whose process may have exited, both ways of
        /// noticing the exit land on a legal move to Stopped and clear the pids.
        #[test]
        fn exits_are_legal_moves(status in any_status(), code in -1i32..256, oom in any::<bool>(), dead in any::<bool>()) {
            prop_assume!(status.may_have_exited());
            let mut st = ContainerState { state: status, pid: 10, conmon_pid: 9, ..Default::default() };
            if dead {
                apply_conmon_dead(&mut st);
                prop_assert_eq!(st.exit_code, -1);
                prop_assert!(!st.error.is_empty());
            } else {
                apply_exit(&mut st, ExitFile { code, time: Utc::now() }, oom);
                prop_assert_eq!(st.exit_code, code);
                prop_assert_eq!(st.oom_killed, oom);
            }
            prop_assert!(status.can_transition_to(st.state));
            prop_assert_eq!(st.state, ContainerStatus::Stopped);
            prop_assert_eq!((st.pid, st.conmon_pid), (0, 0));
            prop_assert!(st.exited);
        }
    }
}
