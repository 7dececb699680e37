//! [`Runtime`]: the engine's entry point, owning the state store, the locks, storage
//! and the OCI runtime, as libpod's Runtime does.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use corral_define::{ContainerState, DbConfig, ErrorKind, HasKind};
use corral_lock::{FileLockManager, LockError, LockManager};
use corral_oci::{OciRuntime, RuntimeConfig};
use corral_state::{InMemoryState, SledState, SqliteState, State};
use corral_storage::{Driver, Store, StoreOptions, UnpackOptions};

use crate::admin::EngineLock;
use crate::container::Container;
use crate::error::{CoreError, Result};
use crate::events::EventsLogger;
use crate::no_store::NoStore;
use crate::options::{RuntimeOptions, StateBackend};
use crate::rootfs::RootfsStore;

/// The file whose absence in the runroot means the machine rebooted.
pub const ALIVE_FILE: &str = "alive";

/// The engine. Cheap to clone; every clone is the same runtime.
#[derive(Debug, Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

/// What a [`Runtime`] is made of.
pub(crate) struct Inner {
    pub options: RuntimeOptions,
    pub state: Box<dyn State>,
    pub locks: Arc<dyn LockManager>,
    /// None for a runtime made with [`RuntimeOptions::no_store`].
    pub storage: Option<Arc<Store>>,
    pub rootfs: Arc<dyn RootfsStore>,
    pub oci: Arc<dyn OciRuntime>,
    pub oci_config: RuntimeConfig,
    /// Runtimes other than the default that containers were created with.
    pub oci_cache: crate::oci_runtimes::OciRuntimeCache,
    /// Set by [`Runtime::shutdown`]: every later call fails.
    pub shut_down: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("options", &self.options)
            .field("oci", &self.oci.name())
            .finish_non_exhaustive()
    }
}

fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| CoreError::io("creating directory", path, e))
}

impl Runtime {
    /// Opens (creating what is missing) everything under the options' root and
    /// runroot. When the runroot's `alive` marker is missing (first use, or the machine
    /// rebooted and the runroot's tmpfs is empty) every container's runtime state is
    /// reset and the locks are allocated again before the marker is written.
    pub fn new(options: RuntimeOptions) -> Result<Runtime> {
        for dir in [
            &options.root,
            &options.runroot,
            &options.static_dir(),
            &options.tmp_dir(),
        ] {
            create_dir(dir)?;
        }
        let driver = options.storage_driver.unwrap_or_else(Driver::detect);
        let storage = if options.no_store {
            None
        } else {
            Some(Arc::new(Store::open_with_options(
                &options.storage_root(),
                StoreOptions {
                    unpack: UnpackOptions::for_current_user(),
                    run_root: options.storage_run_root(),
                    driver,
                },
            )?))
        };
        let db = DbConfig {
            static_dir: options.static_dir().display().to_string(),
            tmp_dir: options.tmp_dir().display().to_string(),
            graph_root: options.storage_root().display().to_string(),
            run_root: options.storage_run_root().display().to_string(),
            graph_driver: driver.as_str().to_string(),
            volume_path: options.volume_path().display().to_string(),
        };
        let state: Box<dyn State> = match options.state_backend {
            StateBackend::Sqlite => Box::new(SqliteState::open(options.static_dir().join("state.db"), &db)?),
            StateBackend::Sled => Box::new(SledState::open(options.static_dir().join("state.sled"), &db)?),
            StateBackend::InMemory => Box::new(InMemoryState::new()),
        };
        state.set_namespace(&options.namespace)?;
        let locks: Arc<dyn LockManager> = Arc::new(FileLockManager::for_runroot(&options.runroot)?);
        let mut oci_config = RuntimeConfig::with_tmp_dir(options.tmp_dir());
        oci_config.default_runtime = options.oci_runtime.clone();
        if !options.oci_runtime_flags.is_empty() {
            oci_config
                .runtime_flags
                .insert(options.oci_runtime.clone(), options.oci_runtime_flags.clone());
        }
        if let Some(conmon) = &options.conmon_path {
            oci_config.conmon_paths = vec![conmon.clone()];
        }
        let oci = oci_config.runtime(&options.oci_runtime);
        let rootfs: Arc<dyn RootfsStore> = match &storage {
            Some(store) => store.clone(),
            None => Arc::new(NoStore),
        };
        let rt = Runtime::from_parts(options, state, locks, storage, rootfs, oci, oci_config);
        rt.refresh_if_rebooted()?;
        Ok(rt)
    }

    /// A runtime of the given parts, for tests that fake some of them.
    pub(crate) fn from_parts(
        options: RuntimeOptions,
        state: Box<dyn State>,
        locks: Arc<dyn LockManager>,
        storage: Option<Arc<Store>>,
        rootfs: Arc<dyn RootfsStore>,
        oci: Arc<dyn OciRuntime>,
        oci_config: RuntimeConfig,
    ) -> Runtime {
        Runtime {
            inner: Arc::new(Inner {
                options,
                state,
                locks,
                storage,
                rootfs,
                oci,
                oci_config,
                oci_cache: Default::default(),
                shut_down: Default::default(),
            }),
        }
    }

    /// The image and layer store (`<root>/storage`), for `images`, `load`, `save`, ...;
    /// refused by a runtime made with [`RuntimeOptions::no_store`].
    pub fn storage(&self) -> Result<&Store> {
        self.inner
            .storage
            .as_deref()
            .ok_or(CoreError::NoStore("use images or container storage"))
    }

    /// Whether the image and layer store is open (not a [`RuntimeOptions::no_store`] runtime).
    pub fn has_store(&self) -> bool {
        self.inner.storage.is_some()
    }

    /// The state store.
    pub fn state(&self) -> &dyn State {
        self.inner.state.as_ref()
    }

    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.options
    }

    /// The OCI runtime new containers get.
    pub fn oci_runtime(&self) -> &Arc<dyn OciRuntime> {
        &self.inner.oci
    }

    /// The OCI runtime a container was created with.
    pub(crate) fn oci_for(&self, name: &str) -> Arc<dyn OciRuntime> {
        self.cached_oci(name)
    }

    /// `<runroot>/containers/<id>/userdata`: the OCI bundle (config.json, pid files,
    /// attach socket, generated /etc files).
    pub fn bundle_dir(&self, id: &str) -> PathBuf {
        self.inner.options.runroot.join("containers").join(id).join("userdata")
    }

    /// `<static dir>/containers/<id>/userdata`: the container's persistent files (its log).
    pub fn container_static_dir(&self, id: &str) -> PathBuf {
        self.inner
            .options
            .static_dir()
            .join("containers")
            .join(id)
            .join("userdata")
    }

    /// `<runroot>/events/events.log`: the file events backend.
    pub fn events_log_path(&self) -> PathBuf {
        self.inner.options.runroot.join("events").join("events.log")
    }

    /// The container called `id_or_name` (full ID, name, or unique ID prefix).
    pub fn lookup_container(&self, id_or_name: &str) -> Result<Container> {
        self.ensure_valid()?;
        let rec = self.inner.state.lookup_container(id_or_name)?;
        Container::new(self.clone(), rec.config)
    }

    /// Every container (of the namespace set), ordered by ID.
    pub fn get_containers(&self) -> Result<Vec<Container>> {
        self.ensure_valid()?;
        let mut containers = self
            .inner
            .state
            .all_containers(false)?
            .into_iter()
            .map(|rec| Container::new(self.clone(), rec.config))
            // A container removed by another process since the listing is left out.
            .filter(|found| !matches!(found, Err(e) if e.kind() == ErrorKind::NoSuchContainer))
            .collect::<Result<Vec<_>>>()?;
        containers.sort_unstable_by(|a, b| a.id().cmp(b.id()));
        Ok(containers)
    }

    /// Every container with its state, read in one pass. Only a container whose
    /// process may have ended behind the store's back (created, running, paused,
    /// stopping) is locked and synced with conmon's exit file; any other status
    /// changes only through a corral command, which saves what it changes. A
    /// container removed meanwhile is left out.
    pub async fn get_containers_with_state(&self) -> Result<Vec<(Container, ContainerState)>> {
        self.ensure_valid()?;
        let mut listed = Vec::new();
        for rec in self.inner.state.all_containers(true)? {
            let may_have_exited = rec.state.state.may_have_exited();
            let container = match Container::new(self.clone(), rec.config) {
                Ok(container) => container,
                Err(e) if e.kind() == ErrorKind::NoSuchContainer => continue,
                Err(e) => return Err(e),
            };
            let state = if may_have_exited {
                match container.state().await {
                    Ok(state) => state,
                    Err(e) if e.kind() == ErrorKind::NoSuchContainer => continue,
                    Err(e) => return Err(e),
                }
            } else {
                rec.state
            };
            listed.push((container, state));
        }
        Ok(listed)
    }

    /// The most recently created container (`--latest`).
    pub fn latest(&self) -> Result<Container> {
        self.ensure_valid()?;
        let newest = self
            .inner
            .state
            .all_containers(false)?
            .into_iter()
            .max_by_key(|rec| rec.config.created_time)
            .ok_or_else(|| CoreError::from(corral_state::StateError::NoSuchContainer("latest".into())))?;
        Container::new(self.clone(), newest.config)
    }

    /// What conmon's exit command runs (`corral container cleanup ID`): the container's
    /// exit is recorded, then its restart policy applied, or else it is cleaned up
    /// (unmounted, deleted from the runtime) and removed when created with auto-remove.
    pub async fn cleanup_container(&self, id_or_name: &str) -> Result<()> {
        self.lookup_container(id_or_name)?.cleanup().await
    }

    /// The exit command conmon runs for container `id`, empty without an exit binary.
    pub(crate) fn exit_command(&self, id: &str) -> Vec<String> {
        let o = &self.inner.options;
        let Some(bin) = &o.exit_command_binary else {
            return Vec::new();
        };
        let mut cmd = vec![
            bin.display().to_string(),
            "--root".into(),
            o.root.display().to_string(),
            "--runroot".into(),
            o.runroot.display().to_string(),
        ];
        if o.state_backend != StateBackend::Sqlite {
            cmd.extend(["--db-backend".into(), o.state_backend.as_str().into()]);
        }
        if o.events_logger != EventsLogger::File {
            cmd.extend(["--events-backend".into(), o.events_logger.as_str().into()]);
        }
        // A restart inits the container again in the cleanup process: same hooks and mounts.
        if o.hooks_dirs != RuntimeOptions::default().hooks_dirs {
            for dir in &o.hooks_dirs {
                cmd.extend(["--hooks-dir".into(), dir.display().to_string()]);
            }
        }
        if let Some(file) = &o.default_mounts_file {
            cmd.extend(["--default-mounts-file".into(), file.display().to_string()]);
        }
        cmd.extend(["container".into(), "cleanup".into(), id.to_string()]);
        cmd
    }

    /// libpod's refresh after a reboot, under the engine lock: looking for the marker
    /// takes it shared (so waits while renumber, migrate or reset hold it), refreshing
    /// exclusively, so one process refreshes while others wait.
    fn refresh_if_rebooted(&self) -> Result<()> {
        let runroot = &self.inner.options.runroot;
        let alive = runroot.join(ALIVE_FILE);
        let looking = EngineLock::shared(runroot)?;
        if alive.exists() {
            return Ok(());
        }
        drop(looking);
        let _refreshing = EngineLock::exclusive(runroot)?;
        if alive.exists() {
            return Ok(());
        }
        tracing::info!("{} is missing: refreshing the state after a reboot", alive.display());
        self.inner.state.refresh()?;
        self.reallocate_locks()?;
        File::create(&alive).map_err(|e| CoreError::io("creating", &alive, e))?;
        self.system_event("refresh");
        Ok(())
    }

    /// Gives every container its recorded lock number again; one whose number is taken
    /// (two records with one number) gets a new one (libpod's renumber).
    fn reallocate_locks(&self) -> Result<()> {
        let st = &self.inner.state;
        self.inner.locks.free_all_locks()?;
        for rec in st.all_containers(false)? {
            match self.inner.locks.allocate_given_lock(rec.config.lock_id) {
                Ok(_) => {}
                Err(LockError::AlreadyAllocated { .. }) => {
                    let mut config = rec.config;
                    config.lock_id = self.inner.locks.allocate_lock()?.id();
                    st.rewrite_container_config(&config)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        for pod in st.all_pods()? {
            if let Err(e) = self.inner.locks.allocate_given_lock(pod.config.lock_id)
                && e.kind() != corral_define::ErrorKind::InvalidArg
            {
                return Err(e.into());
            }
        }
        for vol in st.all_volumes()? {
            if let Err(e) = self.inner.locks.allocate_given_lock(vol.config.lock_id)
                && e.kind() != corral_define::ErrorKind::InvalidArg
            {
                return Err(e.into());
            }
        }
        Ok(())
    }
}
