//! `batch`: several operations on one container under a single taking of its
//! lock (libpod's Batch), so nothing else acts on it in between.

use corral_define::{ContainerState, ContainerStatus};
use corral_state::ContainerRecord;

use super::Container;
use super::exec::ExecRequest;
use crate::error::Result;

/// A container whose lock [`Container::batch`] holds. Its operations act on the
/// record read when the lock was taken and never take the lock again (the lock is
/// not re-entrant: a public operation of the same container inside a batch would
/// wait for itself).
#[derive(Debug)]
pub struct Batch<'a> {
    container: &'a Container,
    rec: ContainerRecord,
}

impl Batch<'_> {
    pub fn container(&self) -> &Container {
        self.container
    }

    /// The state as the operations so far left it.
    pub fn state(&self) -> &ContainerState {
        &self.rec.state
    }

    pub fn status(&self) -> ContainerStatus {
        self.rec.state.state
    }

    /// [`Container::sync`]: the OCI runtime's own view.
    pub async fn sync(&mut self) -> Result<()> {
        self.container.sync_with_runtime_unlocked(&mut self.rec).await
    }

    /// [`Container::init`].
    pub async fn init(&mut self) -> Result<()> {
        self.container.init_checked_unlocked(&mut self.rec).await
    }

    /// [`Container::start`]: the container's dependencies (other containers, each
    /// under its own lock) first.
    pub async fn start(&mut self) -> Result<()> {
        self.container.start_dependencies().await?;
        self.container.start_unlocked(&mut self.rec, false).await
    }

    /// [`Container::stop`].
    pub async fn stop(&mut self, timeout: Option<u32>) -> Result<()> {
        self.container.stop_checked_unlocked(&mut self.rec, timeout).await
    }

    /// [`Container::kill`].
    pub async fn kill(&mut self, signal: i32) -> Result<()> {
        self.container.kill_unlocked(&mut self.rec, signal).await
    }

    /// [`Container::pause`].
    pub async fn pause(&mut self) -> Result<()> {
        self.container.pause_unlocked(&mut self.rec).await
    }

    /// [`Container::unpause`].
    pub async fn unpause(&mut self) -> Result<()> {
        self.container.unpause_unlocked(&mut self.rec).await
    }

    /// Waits for the process to exit, at most `limit`, and returns its exit code.
    /// Holding the lock meanwhile, so conmon's exit command waits too.
    pub async fn wait_for_exit(&mut self, limit: std::time::Duration) -> Result<i32> {
        self.container.wait_for_exit_unlocked(&mut self.rec, limit).await?;
        Ok(self.rec.state.exit_code)
    }

    /// [`Container::exec_create`].
    pub fn exec_create(&mut self, request: &ExecRequest) -> Result<String> {
        self.container.exec_create_unlocked(&mut self.rec, request)
    }
}

impl Container {
    /// Takes the lock once, brings the record up to date, and runs `ops` on a
    /// [`Batch`] whose operations do not lock again; the lock is released when
    /// `ops` ends. Every operation saves what it changes, so an error part way
    /// leaves the earlier ones done.
    ///
    /// ```no_run
    /// # async fn f(ctr: corral_core::Container) -> corral_core::Result<()> {
    /// let status = ctr
    ///     .batch(async |c| {
    ///         c.pause().await?;
    ///         c.unpause().await?;
    ///         Ok(c.status())
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn batch<T>(&self, ops: impl AsyncFnOnce(&mut Batch<'_>) -> Result<T>) -> Result<T> {
        let (_guard, rec) = self.lock_and_sync().await?;
        let mut batch = Batch { container: self, rec };
        ops(&mut batch).await
    }
}
