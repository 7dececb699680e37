//! The crate's error type and the mapping of an OCI runtime's own messages
//! to podman's error kinds.

use std::io;
use std::path::PathBuf;

use corral_define::{ErrorKind, HasKind};

/// Everything that can go wrong while driving conmon and an OCI runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The OCI runtime reported a failure; `message` is the runtime's own
    /// text and `kind` says whether it could not find or could not execute
    /// the container's command.
    #[error("{runtime}: {message}: {}", kind.text())]
    Runtime {
        runtime: String,
        message: String,
        kind: ErrorKind,
    },
    /// The runtime this container was created with is no longer installed.
    #[error("runtime {name} is missing: {}", ErrorKind::RuntimeMissing.text())]
    Missing { name: String },
    #[error("no valid executable found for OCI runtime {name} (searched {searched:?}): {}", ErrorKind::InvalidArg.text())]
    NoRuntimeExecutable { name: String, searched: Vec<PathBuf> },
    #[error("no conmon executable found (searched {searched:?})")]
    NoConmon { searched: Vec<PathBuf> },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{action}: {source}")]
    Sys {
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("conmon failed: {0}")]
    Conmon(String),
    #[error("{what} {}: {source}", path.display())]
    Json {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: {}", .0, ErrorKind::Timeout.text())]
    Timeout(String),
    #[error("{}: {}", .0, ErrorKind::InvalidArg.text())]
    InvalidArg(String),
    #[error("{}: {}", .0, ErrorKind::InvalidState.text())]
    InvalidState(String),
    #[error("{}: {}", .0, ErrorKind::NotImplemented.text())]
    NotSupported(String),
    /// Streaming to or from an attach socket, or resizing a terminal, failed.
    #[error(transparent)]
    Attach(#[from] corral_attach::AttachError),
    #[error("container {id} conmon exited prematurely, exit code could not be retrieved: {}", ErrorKind::ConmonDead.text())]
    ConmonDead { id: String },
}

impl HasKind for OciError {
    fn kind(&self) -> ErrorKind {
        match self {
            OciError::Runtime { kind, .. } => *kind,
            OciError::Missing { .. } => ErrorKind::RuntimeMissing,
            OciError::NoRuntimeExecutable { .. } | OciError::InvalidArg(_) => ErrorKind::InvalidArg,
            OciError::NoConmon { .. } | OciError::Conmon(_) => ErrorKind::OciRuntime,
            OciError::Io { .. } | OciError::Sys { .. } => ErrorKind::Io,
            OciError::Json { .. } => ErrorKind::Internal,
            OciError::Timeout(_) => ErrorKind::Timeout,
            OciError::InvalidState(_) => ErrorKind::InvalidState,
            OciError::NotSupported(_) => ErrorKind::NotImplemented,
            OciError::ConmonDead { .. } => ErrorKind::ConmonDead,
            OciError::Attach(e) => e.kind(),
        }
    }
}

impl OciError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        OciError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sys(action: &'static str, source: impl Into<io::Error>) -> Self {
        OciError::Sys {
            action,
            source: source.into(),
        }
    }

    /// A runtime command other than create/exec failed: podman reports the
    /// command's own output as a plain OCI runtime error.
    pub(crate) fn runtime_command(runtime: &str, message: &str) -> Self {
        OciError::Runtime {
            runtime: runtime.to_string(),
            message: message.trim().to_string(),
            kind: ErrorKind::OciRuntime,
        }
    }

    /// An error message from creating a container or an exec session,
    /// classified as podman classifies it so that the CLI exits 126 when the
    /// command could not be executed and 127 when it was not found.
    pub fn from_runtime_message(runtime: &str, message: &str) -> Self {
        let (kind, matched) = classify_runtime_message(message);
        OciError::Runtime {
            runtime: runtime.to_string(),
            message: matched.trim().to_string(),
            kind,
        }
    }
}

/// Finds the line of a runtime's error output that tells why the command
/// failed, and its kind. podman matches, case-insensitively, "permission
/// denied"/"operation not permitted" first, then "executable file not
/// found in"/"no such file or directory"/"open executable", and reports
/// only the matching line.
pub fn classify_runtime_message(message: &str) -> (ErrorKind, &str) {
    const DENIED: [&str; 2] = ["permission denied", "operation not permitted"];
    const NOT_FOUND: [&str; 3] = [
        "executable file not found in",
        "no such file or directory",
        "open executable",
    ];
    let find = |needles: &[&str]| {
        message.lines().find(|line| {
            let lower = line.to_lowercase();
            needles.iter().any(|n| lower.contains(n))
        })
    };
    if let Some(line) = find(&DENIED) {
        return (ErrorKind::PermissionDenied, line);
    }
    if let Some(line) = find(&NOT_FOUND) {
        return (ErrorKind::CommandNotFound, line);
    }
    (ErrorKind::OciRuntime, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_podman() {
        let crun = "executable file `nosuch` not found in $PATH: No such file or directory";
        let e = OciError::from_runtime_message("crun", crun);
        assert_eq!(e.kind(), ErrorKind::CommandNotFound);
        assert_eq!(e.kind().exit_code(), 127);
        assert!(e.to_string().starts_with("crun: executable file `nosuch`"), "{e}");

        let runc = "runc create failed: unable to start container process: exec: \"/etc\": permission denied";
        let e = OciError::from_runtime_message("runc", runc);
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert_eq!(e.kind().exit_code(), 126);

        let other = "some\nmultiline failure";
        let e = OciError::from_runtime_message("crun", other);
        assert_eq!(e.kind(), ErrorKind::OciRuntime);
        assert_eq!(e.to_string(), "crun: some\nmultiline failure: OCI runtime error");
    }

    #[test]
    fn only_the_matching_line_is_kept() {
        let msg = "first line\nopen executable: Operation not permitted\nlast";
        let (kind, line) = classify_runtime_message(msg);
        assert_eq!(kind, ErrorKind::PermissionDenied);
        assert_eq!(line, "open executable: Operation not permitted");
    }

    #[test]
    fn missing_runtime_names_it() {
        let e = OciError::Missing { name: "kata".into() };
        assert_eq!(e.to_string(), "runtime kata is missing: OCI runtime not found");
        assert_eq!(e.kind(), ErrorKind::RuntimeMissing);
    }
}
