//! corral's state store: containers, pods, volumes, exec sessions and
//! network attachments, with libpod's rules (unique names and IDs, lookups by
//! name or ID prefix, namespaces, dependencies, pods, volumes in use).
//!
//! [`State`] is the sum of narrow traits ([`ContainerStore`], [`PodStore`],
//! [`VolumeStore`], [`ExecSessionStore`], [`NetworkAttachments`],
//! [`StateControl`]), implemented identically by [`SqliteState`] (the
//! default, shared safely by many processes), [`SledState`] (one process at a
//! time behind a global file lock) and [`InMemoryState`]. Every call is one
//! atomic transaction. Records ([`ContainerRecord`], ...) are plain data:
//! `update_*` re-reads a record's state from the store, `save_*` writes it.
//!
//! ```
//! use corral_define::{ContainerConfig, DbConfig, ErrorKind, HasKind, new_id};
//! use corral_state::{ContainerRecord, ContainerStore, SqliteState};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = DbConfig { static_dir: "/var/lib/corral".into(), ..Default::default() };
//! let state = SqliteState::open(dir.path().join("state.db"), &db).unwrap();
//!
//! let id = new_id().unwrap();
//! let config = ContainerConfig { id: id.as_str().into(), name: "web".into(), ..Default::default() };
//! let mut ctr = ContainerRecord { config, state: Default::default() };
//! state.add_container(&ctr).unwrap();
//!
//! // By name, by unique ID prefix, or by full ID.
//! assert_eq!(state.lookup_container_id("web").unwrap(), id);
//! assert_eq!(state.lookup_container_id(&id[..6]).unwrap(), id);
//! let err = state.lookup_container("nope").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::NoSuchContainer);
//! assert_eq!(err.to_string(), "no container with name or ID \"nope\" found: no such container");
//!
//! // Save and re-read the mutable half.
//! ctr.state.pid = 42;
//! state.save_container(&ctr).unwrap();
//! let mut copy = state.container(&id).unwrap();
//! copy.state.pid = 0;
//! state.update_container(&mut copy).unwrap();
//! assert_eq!(copy.state.pid, 42);
//!
//! // Names are unique across containers and pods.
//! let clash = ContainerRecord {
//!     config: ContainerConfig { id: new_id().unwrap().into(), name: "web".into(), ..Default::default() },
//!     state: Default::default(),
//! };
//! assert_eq!(state.add_container(&clash).unwrap_err().kind(), ErrorKind::ContainerExists);
//!
//! // The paths recorded at creation are checked on every later open.
//! drop(state);
//! let other = DbConfig { static_dir: "/elsewhere".into(), ..Default::default() };
//! let err = SqliteState::open(dir.path().join("state.db"), &other).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::DbConfigMismatch);
//! assert!(err.to_string().contains("static dir"));
//! ```

mod error;
mod kv;
mod record;
mod store;
mod traits;

/// The vocabulary crate the records are made of.
pub use corral_define;
pub use error::{ObjectKind, Result, StateError};
pub use kv::{Backend, MemoryKv, SledHold, SledKv, SqliteKv};
pub use record::{ContainerRecord, PodRecord, VolumeRecord};
pub use store::{DEFAULT_TIMEOUT, InMemoryState, SledState, SqliteState, Store, StoreOptions};
pub use traits::{ContainerStore, ExecSessionStore, NetworkAttachments, PodStore, State, StateControl, VolumeStore};
