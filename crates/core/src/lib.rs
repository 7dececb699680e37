//! corral's engine, libpod's Runtime and Container rebuilt on corral's crates: the
//! state store ([`corral_state`]), per-object locks ([`corral_lock`]), images and
//! root filesystems ([`corral_storage`]) and the OCI runtime under conmon
//! ([`corral_oci`]).
//!
//! - [`Runtime::new`] opens everything from [`RuntimeOptions`];
//!   [`Runtime::new_container`] creates a container from a [`ContainerSpec`];
//!   [`Runtime::lookup_container`], [`Runtime::get_containers`] and
//!   [`Runtime::latest`] find them; [`Runtime::cleanup_container`] is what conmon's
//!   exit command (`corral container cleanup ID`) runs.
//! - Volumes: [`ContainerSpec::volumes`] makes missing named volumes and anonymous ones
//!   (also for the image's VOLUMEs) at create; init mounts them (copying the image's
//!   content up into an empty one) and cleanup unmounts them;
//!   [`Runtime::remove_anonymous_volumes`] is `rm -v`.
//! - [`Runtime::external_containers`] and [`Runtime::remove_storage_container`]: storage
//!   containers the state does not know (`ps --external`, `rm --storage`).
//! - [`Runtime::read_events`] reads (and follows) the [`Event`]s every operation records.
//! - Engine-wide: [`Runtime::info`] (podman's `info`), [`Runtime::reset`] (`system
//!   reset`), [`Runtime::renumber`] (`system renumber`), [`Runtime::migrate`] (`system
//!   migrate`) and [`Runtime::shutdown`]; the first three hold the engine lock
//!   (`<runroot>/alive.lck`) exclusively, so no corral process starts meanwhile.
//! - [`Container`] has the lifecycle: `init`, `start`, `wait`, `stop`, `kill`,
//!   `pause`, `unpause`, `cleanup`, `restart`, `remove`, `logs`, `follow_logs`, `exec`, `attach`,
//!   `start_and_attach`, `rename`, `top`, `inspect`. Each takes the
//!   container's lock, re-reads its state and conmon's exit file, acts and saves; a
//!   move the status does not allow fails with `InvalidState` and changes nothing.
//!   [`Container::wait_for_condition`] waits for any statuses; [`Container::sync`] asks
//!   the OCI runtime itself; [`Container::batch`] runs several operations under one
//!   taking of the lock. Exec sessions are objects: [`Container::exec_create`],
//!   `exec_start`, `exec_start_and_attach`, `exec_resize`, `exec_stop`, `exec_remove`,
//!   `exec_inspect` (podman's InspectExecSession), `exec_sessions`.
//! - [`Runtime::get_containers_filtered`] takes podman's `ps` filters
//!   ([`ContainerFilters`]); [`Runtime::prune_containers`] is `container prune`;
//!   [`Runtime::evict_container`] removes a container whose record, lock or storage
//!   is broken. [`ContainerGraph`] orders containers by their dependencies
//!   (dependencies start first, stop last) and refuses cycles.
//!
//! # On disk
//!
//! ```text
//! <root>/storage/                          images, layers, container root filesystems
//! <root>/libpod/state.db                   the state (sqlite; state.sled/ with sled)
//! <root>/libpod/containers/<id>/userdata/  persistent per-container files: ctr.log
//! <root>/volumes/                          named volumes
//! <runroot>/alive                          written after the post-reboot refresh
//! <runroot>/alive.lck                      the engine lock: shared while opening, exclusive
//!                                          to refresh, renumber, migrate or reset
//! <runroot>/events/events.log              events, one JSON object a line (podman's file backend)
//! <runroot>/locks/<n>                      one flock file per container/pod/volume lock
//! <runroot>/storage/                       storage's mount counts
//! <runroot>/containers/<id>/userdata/      the OCI bundle: config.json, hosts, hostname,
//!                                          resolv.conf, pid files, attach socket, ctl
//! <tmp dir = runroot>/exits/<id>           conmon's exit files
//! <tmp dir = runroot>/persist/<id>/        conmon's persist dir (exit, oom)
//! ```
//!
//! Containers get cgroup `/libpod_parent/libpod-<id>` (cgroupfs), as podman gives
//! them.
//!
//! # Example
//!
//! Create a container from an image built in memory (nothing runs: that needs conmon
//! and crun, see the crate's integration tests):
//!
//! ```
//! use corral_core::{ContainerSpec, Runtime, RuntimeOptions, StateBackend};
//! use corral_define::{ContainerStatus, ErrorKind, HasKind};
//! use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive};
//! use corral_storage::spec::{ContainerSettings, ImageConfig};
//! use corral_storage::{Driver, ImageStore};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let mut options = RuntimeOptions::with_roots(dir.path().join("root"), dir.path().join("run"));
//! options.state_backend = StateBackend::InMemory;
//! options.storage_driver = Some(Driver::Vfs);
//! let runtime = Runtime::new(options).unwrap();
//! assert!(dir.path().join("run/alive").exists());
//!
//! // An image whose CMD is `sh`.
//! let mut layer = LayerBuilder::new();
//! layer.dir("etc", 0o755).file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n");
//! let settings = ContainerSettings { cmd: Some(vec!["sh".into()]), ..Default::default() };
//! let (image, blobs) = ImageBuilder::new(ImageConfig { os: "linux".into(), config: Some(settings), ..Default::default() })
//!     .name("tiny").unwrap()
//!     .layer(&layer.to_tar().unwrap(), Compression::Gzip).unwrap()
//!     .build().unwrap();
//! let archive = dir.path().join("tiny.tar");
//! write_docker_archive(std::fs::File::create(&archive).unwrap(), &[image], &blobs).unwrap();
//! runtime.storage().unwrap().load(&archive, None).unwrap();
//!
//! let mut spec = ContainerSpec::new("tiny");
//! spec.name = Some("web".into());
//! let ctr = runtime.new_container(spec).unwrap();
//! assert_eq!(ctr.config().image.command, ["sh"]);
//! assert_eq!(ctr.status().await.unwrap(), ContainerStatus::Configured);
//! assert_eq!(runtime.lookup_container("web").unwrap().id(), ctr.id());
//!
//! // Invalid moves say why and change nothing.
//! let err = ctr.pause().await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidState);
//!
//! ctr.remove(Default::default()).await.unwrap();
//! assert_eq!(runtime.lookup_container("web").unwrap_err().kind(), ErrorKind::NoSuchContainer);
//! # });
//! ```

mod admin;
mod container;
mod container_spec;
mod error;
mod events;
mod evict;
mod external;
mod filters;
mod gotime;
mod graph;
mod logs;
mod names;
mod no_store;
mod oci_runtimes;
mod options;
mod prune;
mod rootfs;
mod runtime;
mod spec;
#[cfg(test)]
mod testing;
mod volume;

pub use admin::{
    ConmonInfo, ContainerStoreInfo, DistributionInfo, HostInfo, IdMap, IdMappings, ImageStoreInfo, Info, MigrateReport,
    OciRuntimeInfo, Plugins, SecurityInfo, StoreInfo, Version,
};
pub use container::{
    Batch, Container, DEFAULT_WAIT_INTERVAL, ExecProcessInspect, ExecRequest, ExecSessionInspect, RemoveOptions,
};
pub use container_spec::{
    ContainerSpec, MountKind, MountSpec, NetworkMode, RestartPolicy, Seccomp, Ulimit, VolumeMount, parse_sysctls,
};
pub use corral_attach::{AttachEnd, AttachOptions, AttachStreams};
pub use error::{CoreError, Result};
pub use events::{Event, EventFilter, EventReader, EventsLogger, ReadOptions, parse_go_duration, parse_input_time};
pub use filters::{ContainerFilters, parse_status_name};
pub use gotime::{go_rfc3339_nano, go_time_string};
pub use graph::{ContainerGraph, DependencyMap, GraphNode};
pub use logs::{LogLine, LogOptions, LogStream, parse_log, read_log};
pub use options::{CgroupManager, RuntimeOptions, StateBackend};
pub use prune::ContainerPruneReport;
pub use runtime::{ALIVE_FILE, Runtime};
pub use spec::go_io_text;
pub use volume::{Volume, VolumeFilters, VolumeInspect, VolumePruneReport, VolumeSpec};

/// `SIGTERM`, `TERM` or `15` as a signal number, as `--stop-signal` and `kill` take it.
pub use container::parse_signal;
