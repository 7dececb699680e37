//! Containers: adding, removing, reading, saving, renaming.

use std::collections::BTreeSet;

use corral_define::{ContainerConfig, ContainerState};

use super::listing;
use super::{
    IdEntry, Store, check_free, check_id, check_name, check_name_free, entry_of, get, get_required, link, linked,
    lookup_id, put, visible,
};
use crate::error::{ObjectKind, Result, StateError};
use crate::kv::{Backend, KvRead, KvWrite, Table};
use crate::record::ContainerRecord;
use crate::traits::ContainerStore;

fn volume_names(config: &ContainerConfig) -> BTreeSet<&str> {
    config.root_fs.named_volumes.iter().map(|v| v.name.as_str()).collect()
}

pub(super) fn read_container(r: &dyn KvRead, id: &str) -> Result<ContainerRecord> {
    Ok(ContainerRecord {
        config: get_required(r, Table::CtrConfig, id)?,
        state: get_required(r, Table::CtrState, id)?,
    })
}

/// Adds a container, alone (`pod` None) or as a member of `pod`.
pub(super) fn add_container(w: &mut dyn KvWrite, ns: &str, ctr: &ContainerRecord, pod: Option<&str>) -> Result<()> {
    let c = &ctr.config;
    check_id("container ID", &c.id)?;
    check_name(&c.name)?;
    match (pod, c.pod.as_deref()) {
        (None, Some(p)) => {
            return Err(StateError::InvalidArg(format!(
                "container {} is in pod {p}: add it with add_container_to_pod",
                c.id
            )));
        }
        (Some(p), member_of) if member_of != Some(p) => {
            return Err(StateError::InvalidArg(format!(
                "container {} does not name pod {p} as its pod",
                c.id
            )));
        }
        _ => {}
    }
    if !visible(ns, &c.namespace) {
        return Err(StateError::NamespaceMismatch {
            id: c.id.to_string(),
            namespace: c.namespace.to_string(),
            current: ns.to_owned(),
        });
    }
    check_free(w, &c.id, &c.name)?;
    if let Some(p) = pod {
        let pod_entry = entry_of(w, ns, p, ObjectKind::Pod)?;
        if pod_entry.namespace != c.namespace {
            return Err(StateError::NamespaceMismatch {
                id: p.to_owned(),
                namespace: pod_entry.namespace,
                current: c.namespace.to_string(),
            });
        }
    }
    if c.network.networks.keys().any(|name| name.is_empty()) {
        return Err(StateError::InvalidArg("network names must not be empty".into()));
    }
    let deps = c.dependencies();
    for dep in &deps {
        let missing = || StateError::MissingDependency {
            container: c.id.to_string(),
            dependency: dep.clone(),
        };
        let entry: IdEntry = get(w, Table::Ids, dep)?.ok_or_else(missing)?;
        if entry.kind != ObjectKind::Container {
            return Err(missing());
        }
        let dep_config: ContainerConfig = get_required(w, Table::CtrConfig, dep)?;
        if dep_config.pod.as_deref() != pod {
            return Err(StateError::InvalidArg(match pod {
                Some(p) => format!(
                    "container {} cannot depend on container {dep} as it is not in pod {p}",
                    c.id
                ),
                None => format!(
                    "container {} cannot depend on container {dep} in a pod it is not part of",
                    c.id
                ),
            }));
        }
        if dep_config.namespace != c.namespace {
            return Err(StateError::NamespaceMismatch {
                id: dep.clone(),
                namespace: dep_config.namespace.to_string(),
                current: c.namespace.to_string(),
            });
        }
    }
    let volumes = volume_names(c);
    for volume in &volumes {
        if w.get(Table::VolConfig, volume)?.is_none() {
            return Err(StateError::NoSuchVolume((*volume).to_owned()));
        }
    }

    let entry = IdEntry {
        kind: ObjectKind::Container,
        name: c.name.to_string(),
        namespace: c.namespace.to_string(),
    };
    put(w, Table::Ids, &c.id, &entry)?;
    put(w, Table::Names, &c.name, &c.id)?;
    put(w, Table::CtrConfig, &c.id, c)?;
    put(w, Table::CtrState, &c.id, &ctr.state)?;
    for dep in &deps {
        w.put(Table::CtrDeps, &link(dep, &c.id), Vec::new())?;
    }
    for volume in &volumes {
        w.put(Table::VolUsers, &link(volume, &c.id), Vec::new())?;
    }
    if let Some(p) = pod {
        w.put(Table::PodMembers, &link(p, &c.id), Vec::new())?;
    }
    for (network, options) in &c.network.networks {
        put(w, Table::Networks, &link(&c.id, network), options)?;
    }
    Ok(())
}

/// Refuses to remove a container others depend on or with exec sessions.
pub(super) fn check_removable(r: &dyn KvRead, id: &str) -> Result<()> {
    let dependents = linked(r, Table::CtrDeps, id)?;
    if !dependents.is_empty() {
        return Err(StateError::ContainerInUse {
            id: id.to_owned(),
            dependents,
        });
    }
    let sessions = linked(r, Table::CtrExec, id)?;
    if !sessions.is_empty() {
        return Err(StateError::HasExecSessions {
            id: id.to_owned(),
            sessions,
        });
    }
    Ok(())
}

/// Deletes every row of a container (the caller checked it may go).
pub(super) fn delete_container_rows(w: &mut dyn KvWrite, config: &ContainerConfig) -> Result<()> {
    let id = config.id.as_str();
    w.delete(Table::Ids, id)?;
    w.delete(Table::Names, &config.name)?;
    w.delete(Table::CtrConfig, id)?;
    w.delete(Table::CtrState, id)?;
    for dep in config.dependencies() {
        w.delete(Table::CtrDeps, &link(&dep, id))?;
    }
    for volume in volume_names(config) {
        w.delete(Table::VolUsers, &link(volume, id))?;
    }
    if let Some(pod) = &config.pod {
        w.delete(Table::PodMembers, &link(pod, id))?;
    }
    for network in linked(w, Table::Networks, id)? {
        w.delete(Table::Networks, &link(id, &network))?;
    }
    for session in linked(w, Table::CtrExec, id)? {
        w.delete(Table::CtrExec, &link(id, &session))?;
        w.delete(Table::Exec, &session)?;
    }
    Ok(())
}

/// Removes a container, alone (`pod` None) or as a member of `pod`.
pub(super) fn remove_container(w: &mut dyn KvWrite, ns: &str, id: &str, pod: Option<&str>) -> Result<()> {
    if let Some(p) = pod {
        entry_of(w, ns, p, ObjectKind::Pod)?;
    }
    entry_of(w, ns, id, ObjectKind::Container)?;
    let config: ContainerConfig = get_required(w, Table::CtrConfig, id)?;
    match (pod, config.pod.as_deref()) {
        (None, Some(p)) => {
            return Err(StateError::InvalidArg(format!(
                "container {id} is in pod {p}: remove it with remove_container_from_pod"
            )));
        }
        (Some(p), member_of) if member_of != Some(p) => {
            return Err(StateError::NotInPod {
                container: id.to_owned(),
                pod: p.to_owned(),
            });
        }
        _ => {}
    }
    check_removable(w, id)?;
    delete_container_rows(w, &config)
}

/// Refuses a config rewrite that would change what the indexes were built from.
fn check_rewrite(old: &ContainerConfig, new: &ContainerConfig, renaming: bool) -> Result<()> {
    let changed = if !renaming && old.name != new.name {
        Some("name")
    } else if old.pod != new.pod {
        Some("pod")
    } else if old.namespace != new.namespace {
        Some("namespace")
    } else if old.dependencies() != new.dependencies() {
        Some("dependencies")
    } else if volume_names(old) != volume_names(new) {
        Some("named volumes")
    } else {
        None
    };
    match changed {
        Some(field) => Err(StateError::InvalidArg(format!(
            "rewriting the config of container {} cannot change its {field}",
            old.id
        ))),
        None => Ok(()),
    }
}

impl<B: Backend> ContainerStore for Store<B> {
    fn container(&self, id: &str) -> Result<ContainerRecord> {
        self.read(|r, ns| {
            entry_of(r, ns, id, ObjectKind::Container)?;
            read_container(r, id)
        })
    }

    fn lookup_container_id(&self, id_or_name: &str) -> Result<String> {
        self.read(|r, ns| lookup_id(r, ns, id_or_name, ObjectKind::Container))
    }

    fn lookup_container(&self, id_or_name: &str) -> Result<ContainerRecord> {
        self.read(|r, ns| {
            let id = lookup_id(r, ns, id_or_name, ObjectKind::Container)?;
            read_container(r, &id)
        })
    }

    fn has_container(&self, id: &str) -> Result<bool> {
        self.read(|r, ns| match entry_of(r, ns, id, ObjectKind::Container) {
            Ok(_) => Ok(true),
            Err(StateError::NoSuchContainer(_) | StateError::NamespaceMismatch { .. }) => Ok(false),
            Err(e) => Err(e),
        })
    }

    fn add_container(&self, ctr: &ContainerRecord) -> Result<()> {
        self.write(|w, ns| add_container(w, ns, ctr, None))
    }

    fn remove_container(&self, id: &str) -> Result<()> {
        self.write(|w, ns| remove_container(w, ns, id, None))
    }

    fn update_container(&self, ctr: &mut ContainerRecord) -> Result<()> {
        let id = ctr.config.id.clone();
        ctr.state = self.read(|r, ns| {
            entry_of(r, ns, &id, ObjectKind::Container)?;
            get_required::<ContainerState>(r, Table::CtrState, &id)
        })?;
        Ok(())
    }

    fn save_container(&self, ctr: &ContainerRecord) -> Result<()> {
        self.write(|w, ns| {
            entry_of(w, ns, ctr.id(), ObjectKind::Container)?;
            put(w, Table::CtrState, ctr.id(), &ctr.state)
        })
    }

    fn container_in_use(&self, id: &str) -> Result<Vec<String>> {
        self.read(|r, ns| {
            entry_of(r, ns, id, ObjectKind::Container)?;
            linked(r, Table::CtrDeps, id)
        })
    }

    fn all_containers(&self, load_state: bool) -> Result<Vec<ContainerRecord>> {
        listing::all_containers(|list| self.read(|r, ns| list(r, ns)), load_state)
    }

    fn get_container_config(&self, id: &str) -> Result<ContainerConfig> {
        self.read(|r, ns| {
            entry_of(r, ns, id, ObjectKind::Container)?;
            get_required(r, Table::CtrConfig, id)
        })
    }

    fn rewrite_container_config(&self, config: &ContainerConfig) -> Result<()> {
        self.write(|w, ns| {
            entry_of(w, ns, &config.id, ObjectKind::Container)?;
            let old: ContainerConfig = get_required(w, Table::CtrConfig, &config.id)?;
            check_rewrite(&old, config, false)?;
            put(w, Table::CtrConfig, &config.id, config)
        })
    }

    fn safe_rewrite_container_config(&self, old_name: &str, new_name: &str, config: &ContainerConfig) -> Result<()> {
        self.write(|w, ns| {
            let id = config.id.as_str();
            let mut entry = entry_of(w, ns, id, ObjectKind::Container)?;
            let old: ContainerConfig = get_required(w, Table::CtrConfig, id)?;
            let renaming = !new_name.is_empty();
            check_rewrite(&old, config, renaming)?;
            if renaming {
                if old.name != old_name {
                    return Err(StateError::InvalidArg(format!(
                        "container {id} is named {:?}, not {old_name:?}",
                        old.name
                    )));
                }
                if config.name != new_name {
                    return Err(StateError::InvalidArg(format!(
                        "the new config of container {id} is named {:?}, not {new_name:?}",
                        config.name
                    )));
                }
                check_name(new_name)?;
                if new_name != old.name {
                    check_name_free(w, new_name)?;
                    w.delete(Table::Names, &old.name)?;
                    put(w, Table::Names, new_name, &id)?;
                    entry.name = new_name.to_owned();
                    put(w, Table::Ids, id, &entry)?;
                }
            }
            put(w, Table::CtrConfig, id, config)
        })
    }
}
