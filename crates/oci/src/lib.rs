//! corral's OCI runtime layer: makes processes out of OCI bundles by driving
//! conmon with crun (the default) or runc, as podman's libpod does.
//!
//! [`OciRuntime`] is libpod's OCIRuntime interface. [`ConmonRuntime`]
//! implements it with conmon (exit files, persist dir, exit command, k8s-file
//! log, sync and start pipes, attach sockets, exec sessions, checkpoints);
//! [`MissingRuntime`] stands in for a runtime that is no longer installed.
//! A container's status comes from conmon's exit files and pid checks, not
//! from asking the runtime each time.
//!
//! ```
//! use corral_define::{ContainerState, ContainerStatus, ErrorKind, HasKind};
//! use corral_oci::{ContainerHandle, RuntimeConfig};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let tmp = tempfile::tempdir().unwrap();
//! let config = RuntimeConfig::with_tmp_dir(tmp.path());
//!
//! // A runtime that is not installed still answers for its containers...
//! let runtime = config.runtime("no-such-runtime");
//! let ctr = ContainerHandle::in_bundle("c0ffee", "web", tmp.path().join("c0ffee"));
//! assert_eq!(runtime.exit_file_path(&ctr).unwrap(), tmp.path().join("exits/c0ffee"));
//!
//! // ...and reads their exit files, but cannot run anything.
//! let exit_file = runtime.exit_file_path(&ctr).unwrap();
//! std::fs::create_dir_all(exit_file.parent().unwrap()).unwrap();
//! std::fs::write(&exit_file, "137").unwrap(); // as conmon writes it
//! let mut state = ContainerState { state: ContainerStatus::Running, ..Default::default() };
//! runtime.update_container_status(&ctr, &mut state).await.unwrap();
//! assert_eq!((state.state, state.exit_code), (ContainerStatus::Stopped, 137));
//! let err = runtime.start_container(&ctr, &mut state).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::RuntimeMissing);
//! # });
//! ```

#[cfg(feature = "bench")]
pub mod bench;
mod config;
mod conmon;
mod error;
mod exec;
mod files;
mod handle;
mod missing;
mod process;
mod runtime;
mod seccomp_cache;
mod status;
#[cfg(feature = "testutil")]
pub mod testutil;

pub use config::RuntimeConfig;
pub use conmon::ConmonRuntime;
pub use corral_attach::WindowSize;
pub use error::{OciError, classify_runtime_message};
pub use exec::{AttachedExec, exec_exit_code};
pub use handle::{
    CheckpointOptions, ConmonInfo, ContainerHandle, ExecOptions, ExecUser, LogDriver, OciRuntimeInfo, RestoreOptions,
};
pub use missing::MissingRuntime;
pub use runtime::{OciRuntime, RuntimeInfo};
pub use status::{CONMON_DIED_MESSAGE, ExitFile, apply_conmon_dead, apply_exit, read_exit_file, wait_for_exit_file};
