//! `rename`: a new name for the container, whatever its status.

use corral_define::{DefineError, ErrorKind, HasKind, NAME_PATTERN, validate_name};

use super::Container;
use crate::error::{CoreError, Result};

impl Container {
    /// Gives the container `new_name` and returns it under that name (this handle
    /// keeps the config it was made with). The name must be valid and used by no
    /// other container or pod; a pod's infra container cannot be renamed.
    pub async fn rename(&self, new_name: &str) -> Result<Container> {
        if validate_name(new_name).is_err() {
            return Err(CoreError::InvalidArg(format!("names must match {NAME_PATTERN}")));
        }
        if self.config.misc.is_infra {
            return Err(CoreError::InvalidArg(format!(
                "cannot rename infra container {}",
                self.id()
            )));
        }
        let (_guard, _rec) = self.lock_and_sync().await?;
        // Another process may have renamed it since this handle was made.
        let mut config = self.rt.inner.state.get_container_config(self.id())?;
        let old_name = std::mem::replace(&mut config.name, new_name.into());
        let state = &self.rt.inner.state;
        match state.safe_rewrite_container_config(&old_name, new_name, &config) {
            Err(e) if e.kind() == ErrorKind::ContainerExists || e.kind() == ErrorKind::PodExists => {
                let id = self.id();
                return Err(DefineError::new(
                    ErrorKind::ContainerExists,
                    format!(
                        "renaming container {id}: name {new_name} already in use, cannot rename container {id}: container already exists"
                    ),
                )
                .into());
            }
            other => other?,
        }
        // Storage keeps names unique too: the old name must be free for a new container.
        if let Err(e) = self.rt.inner.rootfs.rename(self.id(), new_name) {
            let mut back = config.clone();
            back.name = old_name.clone();
            if let Err(undo) = state.safe_rewrite_container_config(new_name, &old_name, &back) {
                tracing::warn!("restoring the name {old_name} of container {}: {undo}", self.id());
            }
            return Err(e);
        }
        let renamed = Container::new(self.rt.clone(), config)?;
        renamed.event("rename");
        Ok(renamed)
    }
}
