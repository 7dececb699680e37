//! corral's shared vocabulary: object IDs and names, the statuses of
//! containers, pods and exec sessions with the moves the lifecycle allows,
//! the config and state records the store keeps, and the error kinds every
//! crate maps its errors to.
//!
//! It depends on no other corral crate, so it can be used alone:
//!
//! ```
//! use corral_define::{new_id, short_id, validate_name, ContainerStatus, ErrorKind};
//!
//! let id = new_id().unwrap();
//! assert_eq!(id.len(), 64);
//! assert_eq!(short_id(&id).len(), 12);
//!
//! assert!(validate_name("web-1").is_ok());
//! assert_eq!(validate_name("-bad").unwrap_err().kind(), ErrorKind::InvalidArg);
//!
//! assert!(ContainerStatus::Created.can_transition_to(ContainerStatus::Running));
//! assert!(ContainerStatus::Exited.check_transition(ContainerStatus::Paused).is_err());
//! ```

mod caps;
mod container;
mod db;
mod error;
mod exec;
mod id;
mod name;
mod network;
mod pod;
mod raw_json;
mod status;
mod volume;

pub use caps::DEFAULT_CAPABILITIES;
pub use compact_str::{CompactString, ToCompactString};
pub use container::{
    ContainerConfig, ContainerImageConfig, ContainerMiscConfig, ContainerNamespaceConfig, ContainerNetworkConfig,
    ContainerRootFsConfig, ContainerSecurityConfig, ContainerState, IdMap, NamedVolumeMount,
};
pub use db::DbConfig;
pub use error::{DefineError, ErrorKind, HasKind};
pub use exec::{ExecConfig, ExecSession};
pub use id::{ID_LEN, SHORT_ID_LEN, is_full_id, is_id_prefix, new_id, short_id};
pub use name::{MAX_NAME_LEN, NAME_PATTERN, validate_name};
pub use network::{PerNetworkOptions, PortMapping};
pub use pod::{InfraContainerConfig, PodConfig, PodState};
pub use raw_json::RawJson;
pub use status::{ContainerStatus, ExecStatus, PodStatus};
pub use volume::{LOCAL_DRIVER, VolumeConfig, VolumeState};
