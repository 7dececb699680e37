//! The crate's error type.

use std::io;
use std::path::PathBuf;

use corral_define::{ErrorKind, HasKind};

/// Everything that can go wrong while attaching to a container or an exec
/// session, parsing detach keys or decoding multiplexed frames.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// A detach-key spec named a key podman does not know.
    #[error("invalid detach keys: Unknown character: '{key}'")]
    InvalidDetachKeys { key: String },

    /// The user typed the detach-key sequence: not a failure, but it ends
    /// the stream the same way one does.
    #[error("detached from container")]
    Detached,

    /// The caller asked for nothing to be attached, or passed a value that
    /// makes no sense.
    #[error("{0}: invalid argument")]
    InvalidArg(String),

    /// Opening or connecting to conmon's attach socket failed.
    #[error("failed to connect to container's attach socket: {}: {source}", path.display())]
    Connect { path: PathBuf, source: io::Error },

    /// Writing a message to conmon's control FIFO failed.
    #[error("failed to write to control file {}: {source}", path.display())]
    Control { path: PathBuf, source: io::Error },

    /// The control FIFO exists but nothing reads it: conmon is gone.
    #[error("no process reads control file {}: conmon process killed", path.display())]
    ControlNotRead { path: PathBuf },

    /// A terminal operation (reading or setting its mode or size) failed.
    #[error("{action}: {source}")]
    Terminal { action: &'static str, source: io::Error },

    /// Copying a stream (container output, stdin, frames) failed.
    #[error("{action}: {source}")]
    Stream { action: &'static str, source: io::Error },

    /// conmon sent a packet for a stream it does not define.
    #[error("received unexpected attach type {0}")]
    UnexpectedAttachType(u8),

    /// A multiplexed stream held a frame header that is not one.
    #[error("invalid multiplexed stream frame: {0}")]
    InvalidFrame(String),
}

impl AttachError {
    /// A stream error: `action` says what was being copied.
    pub(crate) fn stream(action: &'static str, source: io::Error) -> Self {
        AttachError::Stream { action, source }
    }

    /// Whether this error is the detach-key sequence being typed.
    pub fn is_detached(&self) -> bool {
        matches!(self, AttachError::Detached)
    }
}

impl HasKind for AttachError {
    fn kind(&self) -> ErrorKind {
        match self {
            AttachError::InvalidDetachKeys { .. } | AttachError::InvalidArg(_) => ErrorKind::InvalidArg,
            AttachError::Detached => ErrorKind::Detached,
            AttachError::ControlNotRead { .. } => ErrorKind::ConmonDead,
            AttachError::UnexpectedAttachType(_) => ErrorKind::Internal,
            AttachError::Connect { .. }
            | AttachError::Control { .. }
            | AttachError::Terminal { .. }
            | AttachError::Stream { .. }
            | AttachError::InvalidFrame(_) => ErrorKind::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_kinds_follow_podman() {
        let e = AttachError::InvalidDetachKeys { key: "ctrl-1".into() };
        assert_eq!(e.to_string(), "invalid detach keys: Unknown character: 'ctrl-1'");
        assert_eq!(e.kind(), ErrorKind::InvalidArg);

        assert_eq!(AttachError::Detached.to_string(), "detached from container");
        assert_eq!(AttachError::Detached.kind(), ErrorKind::Detached);
        assert!(AttachError::Detached.is_detached());

        let e = AttachError::Connect {
            path: "/run/x/attach".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(
            e.to_string()
                .starts_with("failed to connect to container's attach socket: /run/x/attach: ")
        );
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(
            AttachError::ControlNotRead { path: "/b/ctl".into() }.kind(),
            ErrorKind::ConmonDead
        );
    }
}
