//! [`Runtime::shutdown`]: libpod's Shutdown.

use std::sync::atomic::Ordering;

use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

impl Runtime {
    /// Closes the runtime, as libpod's Shutdown: with `force`, every running or
    /// paused container is stopped first (its own stop timeout; a failure is logged
    /// and the next one stopped). Then the state store is closed, and every later
    /// call on this runtime or any clone of it fails with
    /// [`CoreError::RuntimeStopped`] (or, for a call that reaches the store, a closed
    /// store). Shutting down twice does nothing. The engine's files stay as they are:
    /// [`Runtime::new`] opens them again.
    pub async fn shutdown(&self, force: bool) -> Result<()> {
        if self.is_shut_down() {
            return Ok(());
        }
        if force {
            match self.get_containers_with_state().await {
                Ok(listed) => {
                    for (ctr, state) in listed {
                        if state.state.is_active()
                            && let Err(e) = ctr.stop(None).await
                        {
                            tracing::error!("stopping container {}: {e}", ctr.id());
                        }
                    }
                }
                Err(e) => tracing::error!("listing the containers to stop: {e}"),
            }
        }
        if self.inner.shut_down.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        Ok(self.inner.state.close()?)
    }

    /// Whether [`Runtime::shutdown`] (or renumber, or reset, which end with it) ran.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::SeqCst)
    }

    /// [`CoreError::RuntimeStopped`] once the runtime is shut down.
    pub(crate) fn ensure_valid(&self) -> Result<()> {
        if self.is_shut_down() {
            return Err(CoreError::RuntimeStopped);
        }
        Ok(())
    }
}
