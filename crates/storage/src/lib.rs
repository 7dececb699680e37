//! corral's storage: a content-addressed image store whose layers are unpacked once into
//! overlayfs-ready directories and shared by every image that uses them.
//!
//! - [`blob`]: blobs by sha256 digest, verified on the way in.
//! - [`layer`]: unpacked layers ([`LayerStore`]).
//! - [`image`]: image records, lookup by name / short name / ID / prefix, podman's
//!   inspect and list documents ([`ImageStore`]).
//! - [`archive`]: safe layer unpacking (whiteouts, escapes, device nodes), reading and
//!   writing OCI layouts, oci-archives and docker-archives, and reproducible image building.
//! - [`rootfs`]: container root filesystems ([`ContainerFsStore`]): overlay or vfs, counted
//!   mounts, `diff`, `export`, `commit`; and `import` of tarballs as images.
//! - [`volume`]: named volumes ([`VolumeDriver`], podman's `local` driver).
//! - [`Store`]: all of it under one root directory, safe for several processes at once.
//!
//! Build an image in memory, save it as a docker-archive, load it into a store:
//!
//! ```
//! use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive};
//! use corral_storage::spec::ImageConfig;
//! use corral_storage::{ImageStore, LayerStore, Store, UnpackOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut layer = LayerBuilder::new();
//! layer.dir("etc", 0o755).file("etc/motd", 0o644, "hello\n");
//! let (image, blobs) = ImageBuilder::new(ImageConfig { os: "linux".into(), ..Default::default() })
//!     .name("hello").unwrap()
//!     .layer(&layer.to_tar().unwrap(), Compression::Gzip).unwrap()
//!     .build().unwrap();
//! let archive = dir.path().join("hello.tar");
//! write_docker_archive(std::fs::File::create(&archive).unwrap(), &[image], &blobs).unwrap();
//!
//! let store = Store::open_with(&dir.path().join("store"), UnpackOptions { privileged: false }).unwrap();
//! let ids = store.load(&archive, None).unwrap();
//! let found = store.lookup("hello").unwrap();
//! assert_eq!(found.id, ids[0]);
//! assert_eq!(found.names, ["localhost/hello:latest"]);
//! let top = store.layer_dirs("hello").unwrap().remove(0);
//! assert_eq!(std::fs::read_to_string(top.join("etc/motd")).unwrap(), "hello\n");
//! assert_eq!(store.layer_users(found.top_layer().unwrap()).unwrap(), ids);
//! ```
//!
//! A container's filesystem on that image (the `vfs` driver needs no privileges), changed
//! and committed as a new image:
//!
//! ```
//! # use corral_storage::archive::{Compression, ImageBuilder, LayerBuilder, write_docker_archive};
//! # use corral_storage::spec::ImageConfig;
//! use corral_storage::{CommitOptions, ContainerFsStore, Driver, ImageStore, Store, StoreOptions, UnpackOptions};
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let mut layer = LayerBuilder::new();
//! # layer.dir("etc", 0o755).file("etc/motd", 0o644, "hello\n");
//! # let (image, blobs) = ImageBuilder::new(ImageConfig { os: "linux".into(), ..Default::default() })
//! #     .name("hello").unwrap().layer(&layer.to_tar().unwrap(), Compression::Gzip).unwrap().build().unwrap();
//! # let archive = dir.path().join("hello.tar");
//! # write_docker_archive(std::fs::File::create(&archive).unwrap(), &[image], &blobs).unwrap();
//! let root = dir.path().join("store");
//! let store = Store::open_with_options(&root, StoreOptions {
//!     unpack: UnpackOptions { privileged: false },
//!     run_root: dir.path().join("run"),
//!     driver: Driver::Vfs,
//! }).unwrap();
//! store.load(&archive, None).unwrap();
//! let ctr = store.create_container("", "hello", &["web".to_string()], "").unwrap();
//! let fs_root = store.mount("web").unwrap();
//! std::fs::write(fs_root.join("etc/motd"), "changed\n").unwrap();
//! let changes: Vec<String> = store.diff("web").unwrap().iter().map(|c| c.to_string()).collect();
//! assert_eq!(changes, ["C /etc", "C /etc/motd"]);
//! assert_eq!(store.unmount("web", false).unwrap(), 0);
//! let new_image = store.commit("web", &CommitOptions { name: Some("hello:v2".into()), ..Default::default() }).unwrap();
//! assert_eq!(store.lookup("hello:v2").unwrap().id, new_image);
//! store.remove_container(&ctr.id, false).unwrap();
//! ```

pub mod archive;
pub mod blob;
pub mod digest;
mod error;
mod fsutil;
pub mod image;
pub mod layer;
mod lock;
pub mod reference;
pub mod rootfs;
pub mod spec;
mod store;
pub mod volume;

pub use archive::{ArchiveFormat, UnpackOptions};
pub use digest::Digest;
pub use error::{Result, StorageError};
pub use image::{ImageInspect, ImageRecord, ImageStore, ImageSummary, RemoveOptions, RemoveReport};
pub use layer::{LayerRecord, LayerStore};
pub use rootfs::{Change, ChangeKind, CommitOptions, ContainerFsRecord, ContainerFsStore, Driver, ImportOptions};
pub use store::{Store, StoreOptions};
pub use volume::{LocalVolumeDriver, VolumeDriver};
