//! `rename`: a new name for the container, whatever its status.

use corral_define::validate_name;

use super::Container;
use crate::error::{CoreError, Result};

impl Container {
    /// Gives the container `new_name` and returns it under that name (this handle
    /// keeps the config it was made with). The name must be valid and used by no
    /// other container or pod; a pod's infra container cannot be renamed.
    pub async fn rename(&self, new_name: &str) -> Result<Container> {
        validate_name(new_name)?;
        if self.config.misc.is_infra {
            return Err(CoreError::InvalidArg(format!(
                "cannot rename infra container {}",
                self.id()
            )));
        }
        let (_guard, _rec) = self.lock_and_sync().await?;
        // Another process may have renamed it since this handle was made.
        let mut config = self.rt.inner.state.get_container_config(self.id())?;
        let old_name = std::mem::replace(&mut config.name, new_name.to_string());
        self.rt
            .inner
            .state
            .safe_rewrite_container_config(&old_name, new_name, &config)?;
        let renamed = Container::new(self.rt.clone(), config)?;
        renamed.event("rename");
        Ok(renamed)
    }
}
