use std::io;
use std::path::PathBuf;
use std::time::Duration;

use corral_define::{ErrorKind, HasKind};

/// What went wrong with a lock or while managing locks.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock number is not allocated (never was, or was freed).
    #[error("lock {id} is not allocated: no such lock")]
    NoSuchLock { id: u32 },
    /// `allocate_given_lock` was asked for a number that is already taken.
    #[error("lock {id} is already allocated")]
    AlreadyAllocated { id: u32 },
    /// A bounded manager has handed out every lock it has.
    #[error("allocation failed: all {capacity} locks are allocated")]
    Exhausted { capacity: u64 },
    /// A bounded manager's numbers are `0..capacity`.
    #[error("lock ID {id} is too large: the highest lock ID is {}", u64::from(*capacity) - 1)]
    OutOfRange { id: u32, capacity: u32 },
    /// The lock stayed held by someone else for the whole wait.
    #[error("timed out after {timeout:?} waiting for lock {id}")]
    Timeout { id: u32, timeout: Duration },
    /// A filesystem call on a lock file or the lock directory failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl LockError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        LockError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl HasKind for LockError {
    fn kind(&self) -> ErrorKind {
        match self {
            LockError::NoSuchLock { .. } => ErrorKind::NoSuchObject,
            LockError::AlreadyAllocated { .. } => ErrorKind::InvalidArg,
            LockError::OutOfRange { .. } => ErrorKind::InvalidArg,
            LockError::Exhausted { .. } => ErrorKind::Internal,
            LockError::Timeout { .. } => ErrorKind::Timeout,
            LockError::Io { .. } => ErrorKind::Io,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e = LockError::NoSuchLock { id: 7 };
        assert_eq!(e.kind(), ErrorKind::NoSuchObject);
        assert_eq!(e.to_string(), "lock 7 is not allocated: no such lock");

        let e = LockError::Timeout {
            id: 3,
            timeout: Duration::from_millis(250),
        };
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.to_string(), "timed out after 250ms waiting for lock 3");

        let e = LockError::io(
            "open lock file",
            "/run/corral/locks/4",
            io::Error::from(io::ErrorKind::NotFound),
        );
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.to_string().starts_with("open lock file /run/corral/locks/4: "), "{e}");

        assert_eq!(LockError::AlreadyAllocated { id: 1 }.kind(), ErrorKind::InvalidArg);
        assert_eq!(LockError::Exhausted { capacity: 2 }.kind(), ErrorKind::Internal);
        let e = LockError::OutOfRange { id: 9, capacity: 8 };
        assert_eq!(e.kind(), ErrorKind::InvalidArg);
        assert_eq!(e.to_string(), "lock ID 9 is too large: the highest lock ID is 7");
    }
}
