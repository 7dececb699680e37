//! Error kinds shared by every crate.
//!
//! Each crate has its own `thiserror` enum; every variant maps to one
//! [`ErrorKind`] so that callers (the CLI above all) can pick podman's exit
//! code and wording without knowing which crate failed.

use std::fmt;

/// What went wrong, independent of the crate that noticed it.
///
/// [`ErrorKind::text`] is podman's wording for the kind, which podman puts at
/// the end of its messages (`no container with name or ID "x" found: no such
/// container`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    NoSuchContainer,
    NoSuchPod,
    NoSuchVolume,
    NoSuchExecSession,
    NoSuchImage,
    NoSuchNetwork,
    NoSuchObject,
    /// A container with this name or ID already exists.
    ContainerExists,
    PodExists,
    VolumeExists,
    ExecSessionExists,
    NetworkExists,
    /// A name or ID prefix matched more than one object.
    Ambiguous,
    /// The object is in a status that does not allow the operation.
    InvalidState,
    /// The exec session is in a status that does not allow the operation.
    ExecSessionStateInvalid,
    /// Other objects depend on this one.
    DependencyExists,
    VolumeInUse,
    ImageInUse,
    /// The object was removed while the caller held a handle to it.
    Removed,
    /// The object lives in another libpod namespace than the one set.
    NamespaceMismatch,
    InvalidArg,
    /// The store was opened with paths that differ from those it recorded.
    DbConfigMismatch,
    DbClosed,
    /// Waiting for a lock or the store took longer than allowed.
    Timeout,
    NotImplemented,
    /// The OCI runtime failed.
    OciRuntime,
    /// The OCI runtime could not execute the command (exit code 126).
    PermissionDenied,
    /// The OCI runtime did not find the command (exit code 127).
    CommandNotFound,
    RuntimeMissing,
    ConmonDead,
    Detached,
    Io,
    Internal,
}

impl ErrorKind {
    /// podman's wording for this kind.
    pub fn text(self) -> &'static str {
        match self {
            ErrorKind::NoSuchContainer => "no such container",
            ErrorKind::NoSuchPod => "no such pod",
            ErrorKind::NoSuchVolume => "no such volume",
            ErrorKind::NoSuchExecSession => "no such exec session",
            ErrorKind::NoSuchImage => "image not known",
            ErrorKind::NoSuchNetwork => "network not found",
            ErrorKind::NoSuchObject => "no such object",
            ErrorKind::ContainerExists => "container already exists",
            ErrorKind::PodExists => "pod already exists",
            ErrorKind::VolumeExists => "volume already exists",
            ErrorKind::ExecSessionExists => "exec session already exists",
            ErrorKind::NetworkExists => "network already exists",
            ErrorKind::Ambiguous => "more than one result",
            ErrorKind::InvalidState => "container state improper",
            ErrorKind::ExecSessionStateInvalid => "exec session state improper",
            ErrorKind::DependencyExists => "dependency exists",
            ErrorKind::VolumeInUse => "volume is being used",
            ErrorKind::ImageInUse => "image is in use by a container",
            ErrorKind::Removed => "object has already been removed",
            ErrorKind::NamespaceMismatch => "target is in a different namespace",
            ErrorKind::InvalidArg => "invalid argument",
            ErrorKind::DbConfigMismatch => "database configuration mismatch",
            ErrorKind::DbClosed => "database connection closed",
            ErrorKind::Timeout => "timed out",
            ErrorKind::NotImplemented => "not implemented",
            ErrorKind::OciRuntime => "OCI runtime error",
            ErrorKind::PermissionDenied => "OCI permission denied",
            ErrorKind::CommandNotFound => "OCI runtime attempted to invoke a command that was not found",
            ErrorKind::RuntimeMissing => "OCI runtime not found",
            ErrorKind::ConmonDead => "conmon process killed",
            ErrorKind::Detached => "detached from container",
            ErrorKind::Io => "input/output error",
            ErrorKind::Internal => "internal libpod error",
        }
    }

    /// The exit code podman uses when a command fails with this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::PermissionDenied => 126,
            ErrorKind::CommandNotFound => 127,
            _ => 125,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// Implemented by every crate's error enum, so callers can ask any error
/// what kind it is.
pub trait HasKind {
    fn kind(&self) -> ErrorKind;
}

/// An error of this crate: a kind and a complete message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DefineError {
    kind: ErrorKind,
    message: String,
}

impl DefineError {
    /// An error whose message is given whole.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// An error whose message is `context: <kind text>`, podman's shape.
    pub fn with_context(kind: ErrorKind, context: impl fmt::Display) -> Self {
        Self {
            kind,
            message: format!("{context}: {}", kind.text()),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl HasKind for DefineError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_shape_and_exit_codes() {
        let e = DefineError::with_context(ErrorKind::NoSuchContainer, "no container with name or ID \"x\" found");
        assert_eq!(
            e.to_string(),
            "no container with name or ID \"x\" found: no such container"
        );
        assert_eq!(e.kind().exit_code(), 125);
        assert_eq!(ErrorKind::PermissionDenied.exit_code(), 126);
        assert_eq!(ErrorKind::CommandNotFound.exit_code(), 127);
    }
}
