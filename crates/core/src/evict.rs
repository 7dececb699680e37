//! `remove_container` (libpod's RemoveContainer: force, volumes) and
//! `evict_container` (libpod's EvictContainer): removes a container even when its
//! record, lock or storage is broken, doing what can be done.

use corral_define::{ErrorKind, HasKind};
use corral_oci::ContainerHandle;
use corral_storage::ContainerFsStore;

use crate::container::{Container, RemoveOptions};
use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

/// Keeps the first error of a best-effort sequence, logging the others.
#[derive(Default)]
struct FirstError(Option<CoreError>);

impl FirstError {
    fn note<T>(&mut self, what: &str, result: Result<T>) {
        if let Err(e) = result {
            tracing::warn!("evicting: {what}: {e}");
            self.0.get_or_insert(e);
        }
    }
}

fn remove_if_present(path: &std::path::Path) -> Result<()> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CoreError::io("removing", path, e)),
        _ => Ok(()),
    }
}

impl Runtime {
    /// Removes `container` ([`Container::remove`]: with `options.force` a running one is
    /// stopped first), then with `remove_volumes` its anonymous volumes (`rm -v`).
    pub async fn remove_container(
        &self,
        container: &Container,
        options: RemoveOptions,
        remove_volumes: bool,
    ) -> Result<()> {
        container.remove(options).await?;
        if remove_volumes {
            self.remove_anonymous_volumes(&container.config().root_fs.named_volumes)
                .await?;
        }
        Ok(())
    }

    /// Removes the container `id_or_name` (forcing, as `rm -f`); when that fails
    /// (its config, lock or storage broken) removes what is left piece by piece:
    /// the runtime's container, its mount, its record and exec sessions, its lock,
    /// its storage, its files, and with `remove_volumes` its anonymous volumes.
    /// Returns the full ID; the error is the first piece that failed, after every
    /// other piece was tried. Containers depending on it are still refused.
    pub async fn evict_container(&self, id_or_name: &str, remove_volumes: bool) -> Result<String> {
        let state = &self.inner.state;
        let id = state.lookup_container_id(id_or_name)?;
        let normal = match state.container(&id) {
            Ok(rec) => match Container::new(self.clone(), rec.config) {
                Ok(container) => {
                    let options = RemoveOptions {
                        force: true,
                        timeout: None,
                    };
                    self.remove_container(&container, options, remove_volumes).await
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e.into()),
        };
        match normal {
            Ok(()) => return Ok(id),
            Err(e) if e.kind() == ErrorKind::DependencyExists => return Err(e),
            Err(e) => tracing::warn!("removing container {id} normally failed, evicting it: {e}"),
        }
        if !state.has_container(&id)? {
            return Ok(id);
        }
        let config = state.get_container_config(&id).ok();
        let mut first = FirstError::default();
        let name = config.as_ref().map(|c| c.name.to_string()).unwrap_or_default();
        let handle = ContainerHandle::in_bundle(&id, &name, self.bundle_dir(&id));
        let oci = self.oci_for(config.as_ref().map_or("", |c| c.oci_runtime.as_str()));
        if let Err(e) = oci.delete_container(&handle).await {
            tracing::debug!("evicting: deleting container {id} from the runtime: {e}");
        }
        if let Err(e) = self.inner.rootfs.unmount(&id, true) {
            tracing::debug!("evicting: unmounting container {id}: {e}");
        }
        first.note(
            "removing exec sessions",
            state.remove_container_exec_sessions(&id).map_err(Into::into),
        );
        match state.remove_container(&id) {
            Err(e) if e.kind() == ErrorKind::DependencyExists => return Err(e.into()),
            other => first.note("removing the record", other.map_err(Into::into)),
        }
        if let Some(config) = &config {
            let lock = self
                .inner
                .locks
                .retrieve_lock(config.lock_id)
                .and_then(|lock| lock.free());
            if let Err(e) = lock {
                tracing::debug!("evicting: freeing lock {} of container {id}: {e}", config.lock_id);
            }
        }
        match self.storage().and_then(|store| Ok(store.remove_container(&id, true)?)) {
            Err(e) if e.kind() == ErrorKind::NoSuchContainer => {}
            other => first.note("removing the storage container", other),
        }
        for path in [
            oci.exit_file_path(&handle),
            oci.oom_file_path(&handle),
            oci.persist_directory_path(&handle),
        ] {
            match path {
                Ok(path) => first.note("removing runtime files", remove_if_present(&path)),
                Err(e) => first.note::<()>("finding runtime files", Err(e.into())),
            }
        }
        for dir in [self.bundle_dir(&id), self.container_static_dir(&id)] {
            if let Some(parent) = dir.parent() {
                first.note("removing container files", remove_if_present(parent));
            }
        }
        if let Some(config) = &config {
            if remove_volumes {
                first.note(
                    "removing anonymous volumes",
                    self.remove_anonymous_volumes(&config.root_fs.named_volumes).await,
                );
            }
            self.container_event(config, "remove", None);
        }
        match first.0 {
            None => Ok(id),
            Some(e) => Err(e),
        }
    }
}
