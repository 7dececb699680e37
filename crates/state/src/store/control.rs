//! The store itself: closing, refreshing after reboot, DbConfig, namespaces,
//! and the consistency check.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use corral_define::{ContainerConfig, ContainerState, DbConfig, PodConfig, PodState, VolumeState};

use super::{DB_CONFIG_KEY, IdEntry, Store, decode, entry_of, get, put};
use crate::error::{ObjectKind, Result, StateError};
use crate::kv::{Backend, KvRead, Table};
use crate::traits::StateControl;

impl<B: Backend> StateControl for Store<B> {
    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.kv.close()
    }

    fn refresh(&self) -> Result<()> {
        self.write(|w, _| {
            for (id, bytes) in w.scan(Table::CtrState, "")? {
                let mut state: ContainerState = decode(Table::CtrState, &id, &bytes)?;
                state.reset_after_reboot();
                put(w, Table::CtrState, &id, &state)?;
            }
            for table in [Table::Exec, Table::CtrExec] {
                for (key, _) in w.scan(table, "")? {
                    w.delete(table, &key)?;
                }
            }
            for (id, bytes) in w.scan(Table::PodState, "")? {
                let mut state: PodState = decode(Table::PodState, &id, &bytes)?;
                state.cgroup_path.clear();
                put(w, Table::PodState, &id, &state)?;
            }
            for (name, bytes) in w.scan(Table::VolState, "")? {
                let mut state: VolumeState = decode(Table::VolState, &name, &bytes)?;
                state.mount_count = 0;
                put(w, Table::VolState, &name, &state)?;
            }
            Ok(())
        })
    }

    fn get_db_config(&self) -> Result<Option<DbConfig>> {
        self.read(|r, _| get(r, Table::Meta, DB_CONFIG_KEY))
    }

    fn validate_db_config(&self, config: &DbConfig) -> Result<()> {
        self.check_open()?;
        self.record_or_check_db_config(config)
    }

    fn set_namespace(&self, namespace: &str) -> Result<()> {
        self.check_open()?;
        let mut ns = self
            .namespace
            .write()
            .map_err(|_| StateError::Internal("the namespace lock is poisoned".into()))?;
        *ns = namespace.to_owned();
        Ok(())
    }

    fn namespace(&self) -> String {
        self.current_namespace()
    }

    fn get_name(&self, id: &str) -> Result<String> {
        self.read(|r, ns| {
            let entry: IdEntry = match entry_of(r, ns, id, ObjectKind::Container) {
                Err(StateError::NoSuchContainer(_)) => entry_of(r, ns, id, ObjectKind::Pod).map_err(|e| match e {
                    StateError::NoSuchPod(_) => StateError::NoSuchContainer(id.to_owned()),
                    other => other,
                })?,
                other => other?,
            };
            Ok(entry.name)
        })
    }

    fn check_consistency(&self) -> Result<Vec<String>> {
        self.read(|r, _| consistency_problems(r))
    }
}

/// Splits a link key `owner/member`.
fn split_link(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or((key, ""))
}

fn keys(r: &dyn KvRead, table: Table) -> Result<BTreeSet<String>> {
    Ok(r.scan(table, "")?.into_iter().map(|(k, _)| k).collect())
}

fn decode_all<T: serde::de::DeserializeOwned>(
    r: &dyn KvRead,
    table: Table,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, T>> {
    let mut out = BTreeMap::new();
    for (key, bytes) in r.scan(table, "")? {
        match decode(table, &key, &bytes) {
            Ok(value) => {
                out.insert(key, value);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    Ok(out)
}

fn consistency_problems(r: &dyn KvRead) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let ids: BTreeMap<String, IdEntry> = decode_all(r, Table::Ids, &mut problems)?;
    let names: BTreeMap<String, String> = decode_all(r, Table::Names, &mut problems)?;
    let ctrs: BTreeMap<String, ContainerConfig> = decode_all(r, Table::CtrConfig, &mut problems)?;
    let ctr_states: BTreeMap<String, ContainerState> = decode_all(r, Table::CtrState, &mut problems)?;
    let pods: BTreeMap<String, PodConfig> = decode_all(r, Table::PodConfig, &mut problems)?;
    let pod_states: BTreeMap<String, PodState> = decode_all(r, Table::PodState, &mut problems)?;
    let volumes = keys(r, Table::VolConfig)?;
    let volume_states: BTreeMap<String, VolumeState> = decode_all(r, Table::VolState, &mut problems)?;
    let deps = keys(r, Table::CtrDeps)?;
    let vol_users = keys(r, Table::VolUsers)?;
    let members = keys(r, Table::PodMembers)?;
    let exec: BTreeMap<String, String> = decode_all(r, Table::Exec, &mut problems)?;
    let ctr_exec = keys(r, Table::CtrExec)?;
    let networks = keys(r, Table::Networks)?;

    for (id, entry) in &ids {
        if names.get(&entry.name) != Some(id) {
            problems.push(format!("{} {id} named {:?} has no name row", entry.kind, entry.name));
        }
        let (has_config, namespace, name) = match entry.kind {
            ObjectKind::Container => {
                let config = ctrs.get(id);
                if !ctr_states.contains_key(id) {
                    problems.push(format!("container {id} has no state"));
                }
                (
                    config.is_some(),
                    config.map(|c| c.namespace.as_str()),
                    config.map(|c| c.name.as_str()),
                )
            }
            _ => {
                let config = pods.get(id);
                if !pod_states.contains_key(id) {
                    problems.push(format!("pod {id} has no state"));
                }
                (
                    config.is_some(),
                    config.map(|c| c.namespace.as_str()),
                    config.map(|c| c.name.as_str()),
                )
            }
        };
        if !has_config {
            problems.push(format!("{} {id} has an ID row but no config", entry.kind));
        } else if namespace != Some(entry.namespace.as_str()) || name != Some(entry.name.as_str()) {
            problems.push(format!("{} {id}: ID row disagrees with its config", entry.kind));
        }
    }
    for (name, id) in &names {
        if ids.get(id).map(|e| &e.name) != Some(name) {
            problems.push(format!("name {name:?} points to {id}, which does not carry it"));
        }
    }
    for id in ctrs.keys() {
        if ids.get(id).map(|e| e.kind) != Some(ObjectKind::Container) {
            problems.push(format!("container config {id} has no container ID row"));
        }
    }
    for id in ctr_states.keys().filter(|id| !ctrs.contains_key(*id)) {
        problems.push(format!("orphan container state {id}"));
    }
    for id in pods.keys() {
        if ids.get(id).map(|e| e.kind) != Some(ObjectKind::Pod) {
            problems.push(format!("pod config {id} has no pod ID row"));
        }
    }
    for id in pod_states.keys().filter(|id| !pods.contains_key(*id)) {
        problems.push(format!("orphan pod state {id}"));
    }
    let volume_state_names: BTreeSet<String> = volume_states.into_keys().collect();
    if volumes != volume_state_names {
        problems.push("volume configs and volume states differ".to_owned());
    }

    for (id, config) in &ctrs {
        for dep in config.dependencies() {
            if !ctrs.contains_key(&dep) {
                problems.push(format!("container {id} depends on missing container {dep}"));
            }
            if !deps.contains(&super::link(&dep, id)) {
                problems.push(format!("dependency {id} -> {dep} is not indexed"));
            }
        }
        if let Some(pod) = &config.pod {
            if !pods.contains_key(pod.as_str()) {
                problems.push(format!("container {id} is in missing pod {pod}"));
            }
            if !members.contains(&super::link(pod, id)) {
                problems.push(format!("container {id} is not listed as a member of pod {pod}"));
            }
        }
        for volume in &config.root_fs.named_volumes {
            if !volumes.contains(volume.name.as_str()) {
                problems.push(format!("container {id} uses missing volume {}", volume.name));
            }
            if !vol_users.contains(&super::link(&volume.name, id)) {
                problems.push(format!("use of volume {} by {id} is not indexed", volume.name));
            }
        }
    }
    for key in &deps {
        let (dep, dependent) = split_link(key);
        if !ctrs
            .get(dependent)
            .is_some_and(|c| c.dependencies().iter().any(|d| d == dep))
        {
            problems.push(format!("stale dependency row {key}"));
        }
    }
    for key in &vol_users {
        let (volume, user) = split_link(key);
        let named = ctrs
            .get(user)
            .is_some_and(|c| c.root_fs.named_volumes.iter().any(|v| v.name == volume));
        if !named {
            problems.push(format!("stale volume user row {key}"));
        }
    }
    for key in &members {
        let (pod, member) = split_link(key);
        if ctrs.get(member).and_then(|c| c.pod.as_deref()) != Some(pod) {
            problems.push(format!("stale pod member row {key}"));
        }
    }
    for (session, ctr) in &exec {
        if !ctrs.contains_key(ctr) {
            problems.push(format!("exec session {session} belongs to missing container {ctr}"));
        }
        if !ctr_exec.contains(&super::link(ctr, session)) {
            problems.push(format!("exec session {session} is not indexed under {ctr}"));
        }
    }
    for key in &ctr_exec {
        let (ctr, session) = split_link(key);
        if exec.get(session).map(String::as_str) != Some(ctr) {
            problems.push(format!("stale container exec row {key}"));
        }
    }
    for key in &networks {
        let (ctr, _) = split_link(key);
        if !ctrs.contains_key(ctr) {
            problems.push(format!("network attachment {key} of missing container"));
        }
    }
    Ok(problems)
}
