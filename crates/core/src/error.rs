//! The crate's error type: the errors of the crates it composes, and its own.

use std::io;
use std::path::PathBuf;

use corral_attach::AttachError;
use corral_define::{DefineError, ErrorKind, HasKind};
use corral_lock::LockError;
use corral_oci::OciError;
use corral_state::StateError;
use corral_storage::StorageError;

/// Everything the engine can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error(transparent)]
    Define(#[from] DefineError),
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// The operation is not allowed in the container's current status.
    #[error("{0}: container state improper")]
    InvalidState(String),
    #[error("{0}: invalid argument")]
    InvalidArg(String),
    /// An option or a configuration file is refused with podman's whole message, which
    /// names no error kind (`sysctl 'vm.swappiness' is not allowed`).
    #[error("{0}")]
    Rejected(String),
    /// Other containers depend on this one.
    #[error("{0}: dependency exists")]
    DependencyExists(String),
    #[error("{0}: timed out")]
    Timeout(String),
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{what} {}: {source}", path.display())]
    Json {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}: internal libpod error")]
    Internal(String),
    /// The runtime was shut down ([`crate::Runtime::shutdown`]); its store is closed.
    #[error("runtime has already been stopped")]
    RuntimeStopped,
    /// The runtime was made with [`crate::RuntimeOptions::no_store`] and the operation
    /// (named here) needs images or root filesystems.
    #[error("cannot {0}: runtime has no container storage: invalid argument")]
    NoStore(&'static str),
}

impl CoreError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl HasKind for CoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            CoreError::State(e) => e.kind(),
            CoreError::Lock(e) => e.kind(),
            CoreError::Storage(e) => e.kind(),
            CoreError::Oci(e) => e.kind(),
            CoreError::Define(e) => e.kind(),
            CoreError::Attach(e) => e.kind(),
            CoreError::InvalidState(_) => ErrorKind::InvalidState,
            CoreError::InvalidArg(_) | CoreError::Rejected(_) => ErrorKind::InvalidArg,
            CoreError::DependencyExists(_) => ErrorKind::DependencyExists,
            CoreError::Timeout(_) => ErrorKind::Timeout,
            CoreError::Io { .. } => ErrorKind::Io,
            CoreError::Json { .. } | CoreError::Internal(_) => ErrorKind::Internal,
            CoreError::RuntimeStopped => ErrorKind::DbClosed,
            CoreError::NoStore(_) => ErrorKind::InvalidArg,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_pass_through() {
        let e = CoreError::from(StateError::NoSuchContainer("x".into()));
        assert_eq!(e.kind(), ErrorKind::NoSuchContainer);
        assert_eq!(
            e.to_string(),
            "no container with name or ID \"x\" found: no such container"
        );
        let e = CoreError::InvalidState("container x is exited".into());
        assert_eq!(e.kind(), ErrorKind::InvalidState);
        assert!(e.to_string().ends_with("container state improper"));
    }
}
