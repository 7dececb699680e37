//! `container prune`: remove every container that is not running (libpod's
//! PruneContainers), dependents before their dependencies, reporting each one's
//! ID and the size of its writable layer.

use std::path::Path;

use corral_define::{ContainerState, ContainerStatus};
use corral_storage::Driver;

use crate::container::{Container, RemoveOptions};
use crate::error::{CoreError, Result};
use crate::filters::ContainerFilters;
use crate::graph::ContainerGraph;
use crate::runtime::Runtime;

/// One container [`Runtime::prune_containers`] tried to remove (podman's
/// `PruneReport`).
#[derive(Debug)]
pub struct ContainerPruneReport {
    pub id: String,
    /// Bytes of the writable layer freed; 0 when removal failed.
    pub size: u64,
    /// Why it could not be removed, if it could not.
    pub error: Option<CoreError>,
}

/// Bytes of the regular files and symlinks under `path` (not following links); 0
/// when it does not exist.
fn disk_usage(path: &Path) -> Result<u64> {
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(p) = pending.pop() {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(CoreError::io("measuring", &p, e)),
        };
        if meta.is_dir() {
            let entries = std::fs::read_dir(&p).map_err(|e| CoreError::io("listing", &p, e))?;
            for entry in entries {
                pending.push(entry.map_err(|e| CoreError::io("listing", &p, e))?.path());
            }
        } else {
            total += meta.len();
        }
    }
    Ok(total)
}

impl Runtime {
    /// Bytes in the container's writable layer (podman's RWSize): overlay's upper
    /// directory, or the whole copy with the vfs driver.
    pub fn container_rw_size(&self, id: &str) -> Result<u64> {
        let dir = self.storage()?.root().join("containers").join(id);
        let layer = match self.storage()?.driver() {
            Driver::Overlay => dir.join("upper"),
            Driver::Vfs => dir.join("merged"),
        };
        disk_usage(&layer)
    }

    /// Removes every container that passes `filters` and is not running, paused or
    /// in a pod (configured, created, stopped or exited), dependents first. A
    /// container that cannot be removed is reported with its error; the others go
    /// on.
    pub async fn prune_containers(&self, filters: &ContainerFilters) -> Result<Vec<ContainerPruneReport>> {
        let mut filters = filters.clone();
        filters.resolve(self)?;
        let prunable: Vec<(Container, ContainerState)> = self
            .get_containers_with_state()
            .await?
            .into_iter()
            .filter(|(c, s)| {
                let config = c.config();
                config.pod.is_none()
                    && !config.misc.is_infra
                    && matches!(
                        s.state,
                        ContainerStatus::Configured
                            | ContainerStatus::Created
                            | ContainerStatus::Stopped
                            | ContainerStatus::Exited
                    )
                    && filters.matches(config, s)
            })
            .collect();
        let graph = ContainerGraph::of_containers(prunable.iter().map(|(c, _)| c))?;
        let mut reports = Vec::new();
        for (container, _) in graph.arrange_for_stop(prunable, |(c, _)| c.id()) {
            let id = container.id().to_owned();
            let size = match self.container_rw_size(&id) {
                Ok(size) => size,
                Err(error) => {
                    reports.push(ContainerPruneReport {
                        id,
                        size: 0,
                        error: Some(error),
                    });
                    continue;
                }
            };
            let report = match container.remove(RemoveOptions::default()).await {
                Ok(()) => ContainerPruneReport { id, size, error: None },
                Err(error) => ContainerPruneReport {
                    id,
                    size: 0,
                    error: Some(error),
                },
            };
            reports.push(report);
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_usage_counts_files_not_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("g"), [0u8; 20]).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("l")).unwrap();
        assert_eq!(disk_usage(dir.path()).unwrap(), 100 + 20 + "/etc/passwd".len() as u64);
        assert_eq!(disk_usage(&dir.path().join("missing")).unwrap(), 0);
    }
}
