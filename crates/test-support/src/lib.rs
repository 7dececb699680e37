//! What corral's tests and `cargo xtask` share, so each is written once:
//!
//! - [`BusyboxImage`]: the busybox test image, built offline from Debian's busybox-static
//!   and reproducible byte for byte, in the variants the callers load (the image
//!   `cargo xtask test-image` publishes, the same tree with a bare config, the root-only
//!   tree the cli tests use, optionally with `VOLUME /data`);
//! - [`Scratch`]: a temporary directory holding a root, a runroot and the image written as
//!   a docker archive, the base of each test crate's environment;
//! - [`remove_leftovers`] and [`unmount_all_below`]: the best-effort cleanup a test
//!   environment runs on drop, so a failed test leaves no process or mount behind.
//!
//! Errors: every fallible function returns [`Result`] and nothing here panics, so `xtask`
//! reports a missing busybox as an error and tests decide for themselves (they `unwrap`).
//! The cleanup functions return nothing: they run in `Drop`, where there is no one to
//! report to, and skip what they cannot do.
//!
//! ```
//! use corral_test_support::{BusyboxImage, IMAGE_NAME};
//!
//! let (image, _blobs) = BusyboxImage::published().build()?;
//! assert_eq!(image.names, [IMAGE_NAME]);
//! // Two builds give the same image ID: nothing depends on the time or the machine's state.
//! assert_eq!(image.config_digest, BusyboxImage::published().build()?.0.config_digest);
//! # Ok::<(), corral_test_support::Error>(())
//! ```

mod image;
mod scratch;

use std::path::PathBuf;

pub use image::{BUSYBOX, BusyboxImage, IMAGE_NAME, Tree};
pub use scratch::{Scratch, conmons_serving, mounts_below, remove_leftovers, unmount_all_below};

/// Why building or writing the test image failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// `busybox --list-full` did not run or did not give the applet list.
    #[error("listing the applets of {BUSYBOX} (is busybox-static installed?): {0}")]
    Applets(String),
    /// corral-storage refused the layer, the config or the archive.
    #[error(transparent)]
    Storage(#[from] corral_storage::StorageError),
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}
