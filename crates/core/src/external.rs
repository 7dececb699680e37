//! Storage containers the state does not know (podman's "external" containers: made
//! by another tool on the same store, or left behind by a failed create): listed by
//! `ps --external`, removed by `rm --storage`.

use corral_storage::{ContainerFsRecord, ContainerFsStore};

use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

impl Runtime {
    /// The storage containers whose IDs no container of the state has.
    pub fn external_containers(&self) -> Result<Vec<ContainerFsRecord>> {
        let mut external = Vec::new();
        for record in self.storage()?.containers()? {
            if !self.inner.state.has_container(&record.id)? {
                external.push(record);
            }
        }
        Ok(external)
    }

    /// Removes the storage container `reference` (ID, ID prefix or name), unmounting it;
    /// one the state knows is refused, as podman refuses it. Returns its ID.
    pub fn remove_storage_container(&self, reference: &str) -> Result<String> {
        let record = self.storage()?.container(reference)?;
        if self.inner.state.has_container(&record.id)? {
            return Err(CoreError::InvalidArg(format!(
                "refusing to remove {reference:?} as it exists in libpod as container {}",
                record.id
            )));
        }
        self.storage()?.remove_container(&record.id, true)?;
        // A create that died before recording the container made its directory too.
        let dir = self.container_static_dir(&record.id);
        if let Some(container_dir) = dir.parent() {
            match std::fs::remove_dir_all(container_dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(CoreError::io("removing directory", container_dir, e));
                }
                _ => {}
            }
        }
        Ok(record.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{RuntimeOptions, StateBackend};
    use corral_define::{ErrorKind, HasKind};

    #[test]
    fn unknown_references_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = RuntimeOptions::with_roots(dir.path().join("root"), dir.path().join("run"));
        options.state_backend = StateBackend::InMemory;
        options.storage_driver = Some(corral_storage::Driver::Vfs);
        let rt = Runtime::new(options).unwrap();
        assert!(rt.external_containers().unwrap().is_empty());
        let err = rt.remove_storage_container("nosuch").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoSuchContainer);
    }
}
