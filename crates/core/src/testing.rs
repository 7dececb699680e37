//! Fakes for unit tests: an OCI runtime that records moves and writes exit files as
//! conmon would, and a root filesystem store of plain directories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use corral_attach::WindowSize;
use corral_define::{ContainerState, ContainerStatus, ExecSession};
use corral_lock::InProcessLockManager;
use corral_oci::{
    AttachedExec, CheckpointOptions, ContainerHandle, ExecOptions, OciError, OciRuntime, OciRuntimeInfo,
    RestoreOptions, RuntimeConfig, RuntimeInfo, apply_exit, read_exit_file,
};
use corral_state::InMemoryState;
use corral_storage::spec::ContainerSettings;
use corral_storage::{Driver, StorageError, Store, StoreOptions, UnpackOptions};

use crate::error::Result;
use crate::options::RuntimeOptions;
use crate::rootfs::{ImageInfo, RootfsStore};
use crate::runtime::Runtime;

#[derive(Debug)]
pub(crate) struct FakeOci {
    dir: PathBuf,
    pub fail_create: Mutex<bool>,
    pub deleted: Mutex<Vec<String>>,
}

impl FakeOci {
    fn exit_file(&self, id: &str) -> PathBuf {
        self.dir.join("exits").join(id)
    }

    /// The container's process exits with `code`, as conmon would record it.
    pub fn exit(&self, id: &str, code: i32) {
        std::fs::create_dir_all(self.dir.join("exits")).unwrap();
        std::fs::write(self.exit_file(id), code.to_string()).unwrap();
    }

    fn unsupported<T>() -> Result<T, OciError> {
        Err(OciError::NotSupported("fake runtime".into()))
    }
}

#[async_trait]
impl OciRuntime for FakeOci {
    fn name(&self) -> &str {
        "fake"
    }

    fn path(&self) -> PathBuf {
        PathBuf::from("/fake")
    }

    async fn create_container(
        &self,
        ctr: &ContainerHandle,
        state: &mut ContainerState,
        _restore: Option<&RestoreOptions>,
    ) -> Result<Duration, OciError> {
        assert!(ctr.bundle_dir.join("config.json").exists());
        if *self.fail_create.lock().unwrap() {
            return Err(OciError::Conmon("fake create failure".into()));
        }
        let _ = std::fs::remove_file(self.exit_file(&ctr.id));
        state.pid = 100;
        state.conmon_pid = 0;
        state.exited = false;
        state.state = ContainerStatus::Created;
        Ok(Duration::ZERO)
    }

    async fn update_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        if state.state.may_have_exited()
            && let Some(exit) = read_exit_file(&self.exit_file(&ctr.id))?
        {
            apply_exit(state, exit, false);
        }
        Ok(())
    }

    async fn sync_container_status(&self, ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        self.update_container_status(ctr, state).await
    }

    async fn start_container(&self, _ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        state.state = ContainerStatus::Running;
        state.started_time = Some(chrono::Utc::now());
        Ok(())
    }

    async fn kill_container(
        &self,
        ctr: &ContainerHandle,
        _state: &ContainerState,
        signal: i32,
        _all: bool,
    ) -> Result<(), OciError> {
        if signal == 9 || signal == 15 {
            self.exit(&ctr.id, 128 + signal);
        }
        Ok(())
    }

    async fn stop_container(
        &self,
        ctr: &ContainerHandle,
        _state: &ContainerState,
        timeout: u32,
        _all: bool,
    ) -> Result<(), OciError> {
        self.exit(&ctr.id, if timeout == 0 { 137 } else { 143 });
        Ok(())
    }

    async fn delete_container(&self, ctr: &ContainerHandle) -> Result<(), OciError> {
        self.deleted.lock().unwrap().push(ctr.id.clone());
        Ok(())
    }

    async fn pause_container(&self, _ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        state.state = ContainerStatus::Paused;
        Ok(())
    }

    async fn unpause_container(&self, _ctr: &ContainerHandle, state: &mut ContainerState) -> Result<(), OciError> {
        state.state = ContainerStatus::Running;
        Ok(())
    }

    fn attach_socket_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(ctr.bundle_dir.join("attach"))
    }

    async fn attach_resize(&self, _ctr: &ContainerHandle, _size: WindowSize) -> Result<(), OciError> {
        Self::unsupported()
    }

    async fn exec_container(
        &self,
        _ctr: &ContainerHandle,
        _session_id: &str,
        _opts: &ExecOptions,
        _attach_stdin: bool,
        _size: Option<WindowSize>,
    ) -> Result<AttachedExec, OciError> {
        Self::unsupported()
    }

    async fn exec_container_detached(
        &self,
        _ctr: &ContainerHandle,
        _session_id: &str,
        _opts: &ExecOptions,
        _stdin: bool,
    ) -> Result<i32, OciError> {
        Self::unsupported()
    }

    async fn exec_attach_resize(
        &self,
        _ctr: &ContainerHandle,
        _session_id: &str,
        _size: WindowSize,
    ) -> Result<(), OciError> {
        Self::unsupported()
    }

    async fn exec_stop_container(
        &self,
        _ctr: &ContainerHandle,
        _session: &ExecSession,
        _timeout: u32,
    ) -> Result<(), OciError> {
        Self::unsupported()
    }

    fn exec_update_status(&self, _ctr: &ContainerHandle, _session: &ExecSession) -> Result<bool, OciError> {
        Self::unsupported()
    }

    fn exec_exit_code(&self, _ctr: &ContainerHandle, _session_id: &str) -> Result<Option<i32>, OciError> {
        Self::unsupported()
    }

    async fn exec_container_cleanup(&self, _ctr: &ContainerHandle, _session_id: &str) -> Result<(), OciError> {
        Self::unsupported()
    }

    fn exec_attach_socket_path(&self, _ctr: &ContainerHandle, _session_id: &str) -> Result<PathBuf, OciError> {
        Self::unsupported()
    }

    async fn checkpoint_container(
        &self,
        _ctr: &ContainerHandle,
        _state: &mut ContainerState,
        _opts: &CheckpointOptions,
    ) -> Result<Duration, OciError> {
        Self::unsupported()
    }

    fn check_conmon_running(&self, _ctr: &ContainerHandle, _state: &ContainerState) -> Result<bool, OciError> {
        Ok(true)
    }

    fn supports_checkpoint(&self) -> bool {
        false
    }

    fn supports_json_errors(&self) -> bool {
        false
    }

    fn supports_no_cgroups(&self) -> bool {
        true
    }

    fn supports_kvm(&self) -> bool {
        false
    }

    fn exit_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.exit_file(&ctr.id))
    }

    fn oom_file_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.dir.join("persist").join(&ctr.id).join("oom"))
    }

    fn persist_directory_path(&self, ctr: &ContainerHandle) -> Result<PathBuf, OciError> {
        Ok(self.dir.join("persist").join(&ctr.id))
    }

    async fn runtime_info(&self) -> Result<RuntimeInfo, OciError> {
        Ok(RuntimeInfo {
            conmon: None,
            runtime: OciRuntimeInfo::default(),
        })
    }
}

/// Root filesystems as plain directories with an /etc/passwd, and counted mounts.
#[derive(Debug)]
pub(crate) struct FakeRootfs {
    dir: PathBuf,
    pub mounts: Mutex<HashMap<String, u32>>,
}

impl RootfsStore for FakeRootfs {
    fn image(&self, reference: &str) -> Result<ImageInfo> {
        if reference != "busybox" {
            return Err(StorageError::NoSuchImage {
                reference: reference.into(),
            }
            .into());
        }
        Ok(ImageInfo {
            id: "f".repeat(64),
            name: "localhost/busybox:latest".into(),
            settings: ContainerSettings {
                cmd: Some(vec!["sh".into()]),
                env: Some(vec!["PATH=/bin".into()]),
                ..Default::default()
            },
        })
    }

    fn create(&self, id: &str, _image_id: &str, _name: &str) -> Result<()> {
        let etc = self.dir.join(id).join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        Ok(())
    }

    fn mount(&self, id: &str) -> Result<PathBuf> {
        *self.mounts.lock().unwrap().entry(id.to_string()).or_default() += 1;
        Ok(self.dir.join(id))
    }

    fn unmount(&self, id: &str, _force: bool) -> Result<()> {
        let mut mounts = self.mounts.lock().unwrap();
        let n = mounts.get_mut(id).expect("unmount of a filesystem never mounted");
        assert!(*n > 0, "unmounted more often than mounted");
        *n -= 1;
        Ok(())
    }

    fn remove(&self, id: &str) -> Result<()> {
        std::fs::remove_dir_all(self.dir.join(id)).unwrap();
        Ok(())
    }

    fn rename(&self, _id: &str, _name: &str) -> Result<()> {
        Ok(())
    }
}

/// A runtime over an in-memory state, in-process locks and the fakes.
#[derive(Debug)]
pub(crate) struct FakeEnv {
    pub rt: Runtime,
    pub oci: Arc<FakeOci>,
    pub rootfs: Arc<FakeRootfs>,
    _dir: tempfile::TempDir,
}

impl FakeEnv {
    pub fn new() -> FakeEnv {
        let dir = tempfile::tempdir().unwrap();
        let path = |p: &str| -> PathBuf { dir.path().join(p) };
        let options = RuntimeOptions::with_roots(path("root"), path("run"));
        let storage = Arc::new(
            Store::open_with_options(
                &path("storage"),
                StoreOptions {
                    unpack: UnpackOptions { privileged: false },
                    run_root: path("storage-run"),
                    driver: Driver::Vfs,
                },
            )
            .unwrap(),
        );
        let oci = Arc::new(FakeOci {
            dir: path("run"),
            fail_create: Mutex::new(false),
            deleted: Mutex::new(Vec::new()),
        });
        let rootfs = Arc::new(FakeRootfs {
            dir: path("rootfs"),
            mounts: Mutex::new(HashMap::new()),
        });
        let rt = Runtime::from_parts(
            options,
            Box::new(InMemoryState::new()),
            Arc::new(InProcessLockManager::new()),
            Some(storage),
            rootfs.clone(),
            oci.clone(),
            RuntimeConfig::with_tmp_dir(path("run")),
        );
        FakeEnv {
            rt,
            oci,
            rootfs,
            _dir: dir,
        }
    }

    pub fn mount_count(&self, id: &str) -> u32 {
        self.rootfs.mounts.lock().unwrap().get(id).copied().unwrap_or(0)
    }
}
