//! Pods and their members.

use corral_define::{ContainerConfig, PodConfig, PodState};

use super::containers::{add_container, delete_container_rows, read_container, remove_container};
use super::{
    IdEntry, Store, check_free, check_id, check_name, decode, entry_of, get_required, link, linked, lookup_id, put,
    visible,
};
use crate::error::{ObjectKind, Result, StateError};
use crate::kv::{Backend, KvRead, Table};
use crate::record::{ContainerRecord, PodRecord};
use crate::traits::PodStore;

fn read_pod(r: &dyn KvRead, id: &str) -> Result<PodRecord> {
    Ok(PodRecord {
        config: get_required(r, Table::PodConfig, id)?,
        state: get_required(r, Table::PodState, id)?,
    })
}

impl<B: Backend> PodStore for Store<B> {
    fn pod(&self, id: &str) -> Result<PodRecord> {
        self.read(|r, ns| {
            entry_of(r, ns, id, ObjectKind::Pod)?;
            read_pod(r, id)
        })
    }

    fn lookup_pod(&self, id_or_name: &str) -> Result<PodRecord> {
        self.read(|r, ns| {
            let id = lookup_id(r, ns, id_or_name, ObjectKind::Pod)?;
            read_pod(r, &id)
        })
    }

    fn has_pod(&self, id: &str) -> Result<bool> {
        self.read(|r, ns| match entry_of(r, ns, id, ObjectKind::Pod) {
            Ok(_) => Ok(true),
            Err(StateError::NoSuchPod(_) | StateError::NamespaceMismatch { .. }) => Ok(false),
            Err(e) => Err(e),
        })
    }

    fn pod_has_container(&self, pod_id: &str, ctr_id: &str) -> Result<bool> {
        self.read(|r, ns| {
            entry_of(r, ns, pod_id, ObjectKind::Pod)?;
            super::non_empty("container ID", ctr_id)?;
            Ok(r.get(Table::PodMembers, &link(pod_id, ctr_id))?.is_some())
        })
    }

    fn pod_containers_by_id(&self, pod_id: &str) -> Result<Vec<String>> {
        self.read(|r, ns| {
            entry_of(r, ns, pod_id, ObjectKind::Pod)?;
            linked(r, Table::PodMembers, pod_id)
        })
    }

    fn pod_containers(&self, pod_id: &str) -> Result<Vec<ContainerRecord>> {
        self.read(|r, ns| {
            entry_of(r, ns, pod_id, ObjectKind::Pod)?;
            linked(r, Table::PodMembers, pod_id)?
                .iter()
                .map(|id| read_container(r, id))
                .collect()
        })
    }

    fn add_pod(&self, pod: &PodRecord) -> Result<()> {
        self.write(|w, ns| {
            let c = &pod.config;
            check_id("pod ID", &c.id)?;
            check_name(&c.name)?;
            if !visible(ns, &c.namespace) {
                return Err(StateError::NamespaceMismatch {
                    id: c.id.clone(),
                    namespace: c.namespace.clone(),
                    current: ns.to_owned(),
                });
            }
            check_free(w, &c.id, &c.name)?;
            let entry = IdEntry {
                kind: ObjectKind::Pod,
                name: c.name.clone(),
                namespace: c.namespace.clone(),
            };
            put(w, Table::Ids, &c.id, &entry)?;
            put(w, Table::Names, &c.name, &c.id)?;
            put(w, Table::PodConfig, &c.id, c)?;
            put(w, Table::PodState, &c.id, &pod.state)
        })
    }

    fn remove_pod(&self, id: &str) -> Result<()> {
        self.write(|w, ns| {
            let entry = entry_of(w, ns, id, ObjectKind::Pod)?;
            if !linked(w, Table::PodMembers, id)?.is_empty() {
                return Err(StateError::PodNotEmpty(id.to_owned()));
            }
            w.delete(Table::Ids, id)?;
            w.delete(Table::Names, &entry.name)?;
            w.delete(Table::PodConfig, id)?;
            w.delete(Table::PodState, id)
        })
    }

    fn remove_pod_containers(&self, pod_id: &str) -> Result<()> {
        self.write(|w, ns| {
            entry_of(w, ns, pod_id, ObjectKind::Pod)?;
            let members = linked(w, Table::PodMembers, pod_id)?;
            for member in &members {
                for dependent in linked(w, Table::CtrDeps, member)? {
                    if members.binary_search(&dependent).is_err() {
                        return Err(StateError::DependencyOutsidePod {
                            container: member.clone(),
                            dependent,
                            pod: pod_id.to_owned(),
                        });
                    }
                }
            }
            let mut configs = Vec::with_capacity(members.len());
            for member in &members {
                // Dependents inside the pod go too; only exec sessions block.
                let sessions = linked(w, Table::CtrExec, member)?;
                if !sessions.is_empty() {
                    return Err(StateError::HasExecSessions {
                        id: member.clone(),
                        sessions,
                    });
                }
                configs.push(get_required::<ContainerConfig>(w, Table::CtrConfig, member)?);
            }
            for config in &configs {
                delete_container_rows(w, config)?;
            }
            Ok(())
        })
    }

    fn add_container_to_pod(&self, pod_id: &str, ctr: &ContainerRecord) -> Result<()> {
        self.write(|w, ns| add_container(w, ns, ctr, Some(pod_id)))
    }

    fn remove_container_from_pod(&self, pod_id: &str, ctr_id: &str) -> Result<()> {
        self.write(|w, ns| remove_container(w, ns, ctr_id, Some(pod_id)))
    }

    fn update_pod(&self, pod: &mut PodRecord) -> Result<()> {
        let id = pod.config.id.clone();
        pod.state = self.read(|r, ns| {
            entry_of(r, ns, &id, ObjectKind::Pod)?;
            get_required::<PodState>(r, Table::PodState, &id)
        })?;
        Ok(())
    }

    fn save_pod(&self, pod: &PodRecord) -> Result<()> {
        self.write(|w, ns| {
            entry_of(w, ns, pod.id(), ObjectKind::Pod)?;
            put(w, Table::PodState, pod.id(), &pod.state)
        })
    }

    fn all_pods(&self) -> Result<Vec<PodRecord>> {
        self.read(|r, ns| {
            let mut out = Vec::new();
            for (id, bytes) in r.scan(Table::PodConfig, "")? {
                let config: PodConfig = decode(Table::PodConfig, &id, &bytes)?;
                if visible(ns, &config.namespace) {
                    let state = get_required(r, Table::PodState, &id)?;
                    out.push(PodRecord { config, state });
                }
            }
            Ok(out)
        })
    }

    fn rewrite_pod_config(&self, config: &PodConfig) -> Result<()> {
        self.write(|w, ns| {
            entry_of(w, ns, &config.id, ObjectKind::Pod)?;
            let old: PodConfig = get_required(w, Table::PodConfig, &config.id)?;
            let changed = if old.name != config.name {
                Some("name")
            } else if old.namespace != config.namespace {
                Some("namespace")
            } else {
                None
            };
            if let Some(field) = changed {
                return Err(StateError::InvalidArg(format!(
                    "rewriting the config of pod {} cannot change its {field}",
                    config.id
                )));
            }
            put(w, Table::PodConfig, &config.id, config)
        })
    }
}

#[cfg(test)]
mod tests {
    use corral_define::{ContainerConfig, DbConfig, ErrorKind, HasKind, PodConfig, new_id};

    use super::*;
    use crate::traits::{ContainerStore, StateControl};

    fn record(name: &str, pod: Option<&str>) -> ContainerRecord {
        ContainerRecord {
            config: ContainerConfig {
                id: new_id().unwrap().into(),
                name: name.into(),
                pod: pod.map(Into::into),
                ..Default::default()
            },
            state: Default::default(),
        }
    }

    /// The API never lets a dependency cross a pod's boundary, so forge one
    /// in the tables and check that RemovePodContainers refuses and changes nothing.
    fn crossing_dependency_blocks_removal<B: Backend>(s: &Store<B>) {
        let pod = PodRecord {
            config: PodConfig {
                id: new_id().unwrap(),
                name: "pod".into(),
                ..Default::default()
            },
            state: Default::default(),
        };
        s.add_pod(&pod).unwrap();
        let member = record("member", Some(pod.id()));
        s.add_container_to_pod(pod.id(), &member).unwrap();
        let outsider = record("outsider", None);
        s.add_container(&outsider).unwrap();
        s.write(|w, _| {
            let mut config: ContainerConfig = get_required(w, Table::CtrConfig, outsider.id())?;
            config.misc.dependencies.push(member.id().into());
            put(w, Table::CtrConfig, outsider.id(), &config)?;
            w.put(Table::CtrDeps, &link(member.id(), outsider.id()), Vec::new())
        })
        .unwrap();
        assert_eq!(s.check_consistency().unwrap(), Vec::<String>::new());
        let before = (
            s.all_containers(true).unwrap(),
            s.pod_containers_by_id(pod.id()).unwrap(),
        );

        let err = s.remove_pod_containers(pod.id()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DependencyExists);
        assert!(err.to_string().contains(outsider.id()), "{err}");
        let after = (
            s.all_containers(true).unwrap(),
            s.pod_containers_by_id(pod.id()).unwrap(),
        );
        assert_eq!(before, after);
        assert_eq!(s.check_consistency().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn crossing_dependency_memory() {
        crossing_dependency_blocks_removal(&Store::new());
    }

    #[test]
    fn crossing_dependency_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        crossing_dependency_blocks_removal(
            &Store::<crate::kv::SqliteKv>::open(dir.path().join("db"), &DbConfig::default()).unwrap(),
        );
    }

    #[test]
    fn crossing_dependency_sled() {
        let dir = tempfile::tempdir().unwrap();
        crossing_dependency_blocks_removal(
            &Store::<crate::kv::SledKv>::open(dir.path().join("db"), &DbConfig::default()).unwrap(),
        );
    }
}
