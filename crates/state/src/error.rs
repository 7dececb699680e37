//! The store's one error type. Messages follow podman's shape: what failed,
//! then the kind's text (`no container with name or ID "x" found: no such container`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use corral_define::{ErrorKind, HasKind};

/// The kinds of object the store keeps, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Container,
    Pod,
    Volume,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Container => "container",
            ObjectKind::Pod => "pod",
            ObjectKind::Volume => "volume",
        })
    }
}

/// Everything the state store can refuse or fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("no container with name or ID {0:?} found: no such container")]
    NoSuchContainer(String),
    #[error("{0:?} is a pod, not a container: no such container")]
    NotAContainer(String),
    #[error("container {container} is not in pod {pod}: no such container")]
    NotInPod { container: String, pod: String },
    #[error("no pod with name or ID {0:?} found: no such pod")]
    NoSuchPod(String),
    #[error("{0:?} is a container, not a pod: no such pod")]
    NotAPod(String),
    #[error("no volume with name {0:?} found: no such volume")]
    NoSuchVolume(String),
    #[error("no exec session with ID {0:?} found: no such exec session")]
    NoSuchExecSession(String),
    #[error("container {container} is not connected to network {network:?}: network not found")]
    NotConnected { container: String, network: String },
    #[error("container {container} is already connected to network {network:?}: network is already connected")]
    AlreadyConnected { container: String, network: String },
    #[error("name {name:?} is in use: {} already exists", .object)]
    NameInUse { name: String, object: ObjectKind },
    #[error("ID {id} is in use: {} already exists", .object)]
    IdInUse { id: String, object: ObjectKind },
    #[error("volume with name {0} already exists: volume already exists")]
    VolumeExists(String),
    #[error("exec session with ID {0} already exists: exec session already exists")]
    ExecSessionExists(String),
    /// podman's wording: an ambiguous prefix reads as the object already existing.
    #[error(
        "more than one result for {object} {} {given}: {object} already exists",
        if matches!(.object, ObjectKind::Volume) { "name" } else { "ID" }
    )]
    Ambiguous { object: ObjectKind, given: String },
    #[error(
        "cannot access {id} as it is in namespace {namespace:?} and we are in namespace {current:?}: target is in a different namespace"
    )]
    NamespaceMismatch {
        id: String,
        namespace: String,
        current: String,
    },
    #[error("container {id} has dependent containers which must be removed before it: {}: dependency exists", .dependents.join(", "))]
    ContainerInUse { id: String, dependents: Vec<String> },
    #[error("container {id} has active exec sessions: {}: exec session already exists", .sessions.join(", "))]
    HasExecSessions { id: String, sessions: Vec<String> },
    #[error("container {dependent} depends on container {container} outside of pod {pod}: dependency exists")]
    DependencyOutsidePod {
        container: String,
        dependent: String,
        pod: String,
    },
    #[error("container {container} cannot depend on nonexistent container {dependency}: no such container")]
    MissingDependency { container: String, dependency: String },
    #[error("pod {0} is not empty: container already exists")]
    PodNotEmpty(String),
    #[error("volume {name} is being used by the following container(s): {}: volume is being used", .users.join(", "))]
    VolumeInUse { name: String, users: Vec<String> },
    #[error("{0}: invalid argument")]
    InvalidArg(String),
    #[error(
        "database {field} {stored:?} does not match our {field} {given:?}: database configuration mismatch \
         (the store was created with other paths; use the same --root/--runroot or another database)"
    )]
    DbConfigMismatch {
        field: &'static str,
        stored: String,
        given: String,
    },
    #[error("the state store is closed: database connection closed")]
    Closed,
    #[error("waited {waited:?} for the state store at {}: timed out", .path.display())]
    Timeout { path: PathBuf, waited: Duration },
    #[error("{action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{action} in the SQLite database {}: {source}", .path.display())]
    Sqlite {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{action} in the sled database {}: {source}", .path.display())]
    Sled {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("decoding the {what} record {key:?}: {source}: internal libpod error")]
    Corrupt {
        what: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("encoding a {what} record: {source}: internal libpod error")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}: internal libpod error")]
    Internal(String),
}

impl HasKind for StateError {
    fn kind(&self) -> ErrorKind {
        use StateError::*;
        match self {
            NoSuchContainer(_) | NotAContainer(_) | NotInPod { .. } | MissingDependency { .. } => {
                ErrorKind::NoSuchContainer
            }
            NoSuchPod(_) | NotAPod(_) => ErrorKind::NoSuchPod,
            NoSuchVolume(_) => ErrorKind::NoSuchVolume,
            NoSuchExecSession(_) => ErrorKind::NoSuchExecSession,
            NotConnected { .. } => ErrorKind::NoSuchNetwork,
            AlreadyConnected { .. } | InvalidArg(_) => ErrorKind::InvalidArg,
            NameInUse { object, .. } | IdInUse { object, .. } => match object {
                ObjectKind::Pod => ErrorKind::PodExists,
                ObjectKind::Volume => ErrorKind::VolumeExists,
                ObjectKind::Container => ErrorKind::ContainerExists,
            },
            VolumeExists(_) => ErrorKind::VolumeExists,
            ExecSessionExists(_) | HasExecSessions { .. } => ErrorKind::ExecSessionExists,
            Ambiguous { .. } => ErrorKind::Ambiguous,
            NamespaceMismatch { .. } => ErrorKind::NamespaceMismatch,
            ContainerInUse { .. } | DependencyOutsidePod { .. } => ErrorKind::DependencyExists,
            PodNotEmpty(_) => ErrorKind::ContainerExists,
            VolumeInUse { .. } => ErrorKind::VolumeInUse,
            DbConfigMismatch { .. } => ErrorKind::DbConfigMismatch,
            Closed => ErrorKind::DbClosed,
            Timeout { .. } => ErrorKind::Timeout,
            Io { .. } | Sqlite { .. } | Sled { .. } => ErrorKind::Io,
            Corrupt { .. } | Encode { .. } | Internal(_) => ErrorKind::Internal,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_shaped_like_podman() {
        let e = StateError::NoSuchContainer("x".into());
        assert_eq!(
            e.to_string(),
            "no container with name or ID \"x\" found: no such container"
        );
        assert_eq!(e.kind(), ErrorKind::NoSuchContainer);
        let e = StateError::NameInUse {
            name: "web".into(),
            object: ObjectKind::Pod,
        };
        assert_eq!(e.to_string(), "name \"web\" is in use: pod already exists");
        assert_eq!(e.kind(), ErrorKind::PodExists);
        let e = StateError::ContainerInUse {
            id: "a".into(),
            dependents: vec!["b".into(), "c".into()],
        };
        assert!(e.to_string().contains("b, c"));
        assert_eq!(e.kind(), ErrorKind::DependencyExists);
    }
}
