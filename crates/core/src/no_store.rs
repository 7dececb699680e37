//! The root filesystem store of a runtime made without container storage
//! ([`crate::RuntimeOptions::no_store`]): it refuses everything.

use std::path::PathBuf;

use crate::error::{CoreError, Result};
use crate::rootfs::{ImageInfo, RootfsStore};

/// Stands in for [`corral_storage::Store`] when it was not opened.
#[derive(Debug)]
pub(crate) struct NoStore;

impl RootfsStore for NoStore {
    fn image(&self, _reference: &str) -> Result<ImageInfo> {
        Err(CoreError::NoStore("look up an image"))
    }

    fn create(&self, _id: &str, _image_id: &str, _name: &str) -> Result<()> {
        Err(CoreError::NoStore("create a root filesystem"))
    }

    fn mount(&self, _id: &str) -> Result<PathBuf> {
        Err(CoreError::NoStore("mount a root filesystem"))
    }

    fn unmount(&self, _id: &str, _force: bool) -> Result<()> {
        Err(CoreError::NoStore("unmount a root filesystem"))
    }

    fn remove(&self, _id: &str) -> Result<()> {
        Err(CoreError::NoStore("remove a root filesystem"))
    }

    fn rename(&self, _id: &str, _name: &str) -> Result<()> {
        Err(CoreError::NoStore("rename a root filesystem"))
    }
}

#[cfg(test)]
mod tests {
    use corral_define::{ErrorKind, HasKind};

    use super::*;

    #[test]
    fn refuses_with_a_clear_error() {
        let err = NoStore.mount("abc").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArg);
        assert_eq!(
            err.to_string(),
            "cannot mount a root filesystem: runtime has no container storage: invalid argument"
        );
    }
}
