//! The crate's error type.

use std::io;
use std::path::{Path, PathBuf};

use corral_define::{ErrorKind, HasKind};

/// Everything that can go wrong in the storage crate.
///
/// Messages follow podman's shape where podman has one (`<context>: <kind text>`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    #[error("{reference}: image not known")]
    NoSuchImage { reference: String },

    #[error("layer {id} not known")]
    NoSuchLayer { id: String },

    #[error("{reference}: more than one image matches: {candidates:?}")]
    AmbiguousImage { reference: String, candidates: Vec<String> },

    #[error("image {id} is in use by {containers} container(s): image is in use by a container")]
    ImageInUse { id: String, containers: usize },

    #[error("unable to delete image {id} by ID with more than one tag ({names:?}): please force removal")]
    ImageHasManyNames { id: String, names: Vec<String> },

    #[error("{name} is not a tag of image {id}")]
    TagNotSet { id: String, name: String },

    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest { digest: String, reason: String },

    #[error("invalid image name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },

    #[error("unsafe archive entry {path:?}: {reason}")]
    UnsafeArchiveEntry { path: String, reason: String },

    #[error("corrupt or truncated archive ({what}): {reason}")]
    CorruptArchive { what: String, reason: String },

    #[error("malformed {what}: {reason}")]
    MalformedManifest { what: String, reason: String },

    #[error("unsupported {what}: {value}")]
    Unsupported { what: String, value: String },

    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{reference}: container not known")]
    NoSuchContainer { reference: String },

    #[error("{reference}: more than one container matches: {candidates:?}")]
    AmbiguousContainer { reference: String, candidates: Vec<String> },

    #[error("the container ID {id} is already in use")]
    ContainerIdInUse { id: String },

    #[error(
        "the container name \"{name}\" is already in use by {id}. You have to remove that container to be able to reuse that name: that name is already in use"
    )]
    ContainerNameInUse { name: String, id: String },

    #[error("container {id} is mounted by {users} user(s): unmount it first or force the removal")]
    ContainerMounted { id: String, users: u32 },

    #[error("no volume with name \"{name}\" found: no such volume")]
    NoSuchVolume { name: String },

    #[error("volume with name {name} already exists: volume already exists")]
    VolumeExists { name: String },

    #[error("volume {name} is mounted ({reason}): volume is being used")]
    VolumeInUse { name: String, reason: String },

    /// A volume option podman would refuse; the message is podman's.
    #[error("{message}")]
    InvalidVolumeOption { message: String },

    #[error("invalid change \"{change}\" - {reason}")]
    InvalidChange { change: String, reason: String },

    #[error("{what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
}

impl StorageError {
    /// Wraps an I/O error with what was being done and to which path.
    pub(crate) fn io(op: &'static str, path: impl AsRef<Path>, source: io::Error) -> Self {
        StorageError::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub(crate) fn volume_option(message: impl Into<String>) -> Self {
        StorageError::InvalidVolumeOption {
            message: message.into(),
        }
    }

    pub(crate) fn unsafe_entry(path: impl Into<String>, reason: impl Into<String>) -> Self {
        StorageError::UnsafeArchiveEntry {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, reason: impl ToString) -> Self {
        StorageError::CorruptArchive {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn malformed(what: impl Into<String>, reason: impl ToString) -> Self {
        StorageError::MalformedManifest {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

impl HasKind for StorageError {
    fn kind(&self) -> ErrorKind {
        match self {
            StorageError::NoSuchImage { .. } => ErrorKind::NoSuchImage,
            StorageError::NoSuchLayer { .. } => ErrorKind::NoSuchObject,
            StorageError::AmbiguousImage { .. } | StorageError::AmbiguousContainer { .. } => ErrorKind::Ambiguous,
            StorageError::ImageInUse { .. } | StorageError::ImageHasManyNames { .. } => ErrorKind::ImageInUse,
            StorageError::TagNotSet { .. }
            | StorageError::InvalidName { .. }
            | StorageError::InvalidDigest { .. }
            | StorageError::DigestMismatch { .. }
            | StorageError::UnsafeArchiveEntry { .. }
            | StorageError::CorruptArchive { .. }
            | StorageError::MalformedManifest { .. } => ErrorKind::InvalidArg,
            StorageError::Unsupported { .. } => ErrorKind::NotImplemented,
            StorageError::NoSuchContainer { .. } => ErrorKind::NoSuchContainer,
            StorageError::ContainerIdInUse { .. } | StorageError::ContainerNameInUse { .. } => {
                ErrorKind::ContainerExists
            }
            StorageError::ContainerMounted { .. } => ErrorKind::InvalidState,
            StorageError::NoSuchVolume { .. } => ErrorKind::NoSuchVolume,
            StorageError::VolumeExists { .. } => ErrorKind::VolumeExists,
            StorageError::VolumeInUse { .. } => ErrorKind::VolumeInUse,
            StorageError::InvalidVolumeOption { .. } | StorageError::InvalidChange { .. } => ErrorKind::InvalidArg,
            StorageError::Io { .. } => ErrorKind::Io,
            StorageError::Json { .. } => ErrorKind::Internal,
        }
    }
}

/// Short for `Result<T, StorageError>`.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e = StorageError::NoSuchImage {
            reference: "busybox".into(),
        };
        assert_eq!(e.kind(), ErrorKind::NoSuchImage);
        assert_eq!(e.to_string(), "busybox: image not known");
        let e = StorageError::io("reading", "/x", io::Error::from(io::ErrorKind::NotFound));
        assert!(e.to_string().starts_with("reading /x: "), "{e}");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(
            StorageError::unsafe_entry("../x", "leaves the layer").kind(),
            ErrorKind::InvalidArg
        );
    }
}
