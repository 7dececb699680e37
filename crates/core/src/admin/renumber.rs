//! [`Runtime::renumber`]: libpod's RenumberLocks (`system renumber`).

use std::collections::BTreeSet;
use std::time::Duration;

use corral_define::ContainerStatus;
use corral_lock::{LockError, LockGuard};

use super::EngineLock;
use crate::container::Container;
use crate::error::{CoreError, Result};
use crate::runtime::Runtime;

/// How long renumber waits for another process to release an object's lock.
const BUSY_LOCK_WAIT: Duration = Duration::from_secs(10);

fn refuse_if_active(id: &str, status: ContainerStatus) -> Result<()> {
    if status.is_active() {
        return Err(CoreError::InvalidState(format!(
            "container {id} is {status}: stop every container before renumbering locks"
        )));
    }
    Ok(())
}

impl Runtime {
    /// Frees every lock and gives each container, pod and volume a fresh one,
    /// saving its new number in its config; then records a `system renumber` event
    /// and shuts this runtime down, as podman does (handles made before hold the
    /// old numbers: open a new [`Runtime`] to go on).
    ///
    /// podman only asks, in its manual, that nothing else run meanwhile. corral
    /// makes sure: it holds the engine lock exclusively (no corral process starts
    /// until it is done), and refuses, changing nothing, while a container is
    /// running, paused or stopping (a `wait`, `attach` or `logs -f` of it may hold
    /// its old number for long) or while another process holds an object's lock
    /// for more than 10 s (a cleanup already under way is waited for).
    pub async fn renumber(&self) -> Result<()> {
        self.ensure_valid()?;
        let _engine = EngineLock::exclusive(&self.inner.options.runroot)?;
        let st = self.state();
        for rec in st.all_containers(true)? {
            if rec.state.state.is_active() {
                // The record may be behind: conmon's exit file says whether it still runs.
                let status = match Container::new(self.clone(), rec.config.clone()) {
                    Ok(ctr) => ctr.status().await.unwrap_or(rec.state.state),
                    Err(_) => rec.state.state,
                };
                refuse_if_active(&rec.config.id, status)?;
            }
        }
        let containers = st.all_containers(false)?;
        let pods = st.all_pods()?;
        let volumes = st.all_volumes()?;
        let owners = containers
            .iter()
            .map(|c| ("container", c.config.id.as_str(), c.config.lock_id))
            .chain(pods.iter().map(|p| ("pod", p.config.id.as_str(), p.config.lock_id)))
            .chain(
                volumes
                    .iter()
                    .map(|v| ("volume", v.config.name.as_str(), v.config.lock_id)),
            );
        // Held until every number is freed: whoever waits on one then learns it is gone.
        let _held = self.take_every_lock(owners, BUSY_LOCK_WAIT)?;
        // Nothing changes a container without its lock: check once more, now they are all held.
        for rec in st.all_containers(true)? {
            refuse_if_active(&rec.config.id, rec.state.state)?;
        }
        self.inner.locks.free_all_locks()?;
        for rec in containers {
            let mut config = rec.config;
            config.lock_id = self.inner.locks.allocate_lock()?.id();
            st.rewrite_container_config(&config)?;
        }
        for rec in pods {
            let mut config = rec.config;
            config.lock_id = self.inner.locks.allocate_lock()?.id();
            st.rewrite_pod_config(&config)?;
        }
        for rec in volumes {
            let mut config = rec.config;
            config.lock_id = self.inner.locks.allocate_lock()?.id();
            st.rewrite_volume_config(&config)?;
        }
        self.system_event("renumber");
        self.shutdown(false).await
    }

    /// Takes each listed lock, waiting at most `wait` for each; one held longer
    /// elsewhere is an error. A
    /// number two records share is taken once; a missing one is skipped (renumber
    /// is what repairs it).
    pub(super) fn take_every_lock<'a>(
        &self,
        owners: impl Iterator<Item = (&'a str, &'a str, u32)>,
        wait: Duration,
    ) -> Result<Vec<LockGuard>> {
        let mut taken = BTreeSet::new();
        let mut guards = Vec::new();
        for (kind, owner, id) in owners {
            if !taken.insert(id) {
                continue;
            }
            let lock = match self.inner.locks.retrieve_lock(id) {
                Ok(lock) => lock,
                Err(LockError::NoSuchLock { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            // A short wait lets commands already under way finish, such as the
            // cleanup conmon starts when a container stops.
            match lock.lock_timeout(wait) {
                Ok(guard) => guards.push(guard),
                Err(LockError::Timeout { .. }) => {
                    return Err(CoreError::InvalidState(format!(
                        "lock {id} of {kind} {owner} is held by another process: \
                         renumber locks when no other corral command is running"
                    )));
                }
                Err(LockError::NoSuchLock { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(guards)
    }
}
