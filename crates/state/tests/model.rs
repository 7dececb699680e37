//! Property test: random operation sequences give the same results and
//! error kinds on every backend and on a small independent reference model.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use corral_define::{ErrorKind, ExecSession, HasKind, PerNetworkOptions};
use corral_state::{ContainerRecord, State};
use proptest::prelude::*;

const ID_PREFIXES: [&str; 6] = ["aa0", "aa1", "ab0", "b00", "b01", "c00"];
const NAMES: [&str; 8] = ["web", "db", "aa", "b", "x", "y", "z1", "w"];
const NAMESPACES: [&str; 2] = ["", "n"];
const VOLUMES: [&str; 3] = ["v", "vol", "data"];
const EXECS: [&str; 3] = ["e1", "e2", "e3"];
const NETWORKS: [&str; 2] = ["net1", "net2"];
const LOOKUPS: [&str; 12] = ["web", "db", "aa", "b", "x", "a", "ab", "aa0", "c", "z", "vo", "d"];

fn pool_id(i: usize) -> String {
    format!("{:e<64}", ID_PREFIXES[i])
}

#[derive(Debug, Clone)]
enum Op {
    AddCtr {
        id: usize,
        name: usize,
        ns: usize,
        pod: Option<usize>,
        deps: Vec<usize>,
        volume: Option<usize>,
    },
    RemoveCtr(usize),
    RemoveFromPod(usize, usize),
    AddPod {
        id: usize,
        name: usize,
        ns: usize,
    },
    RemovePod(usize),
    RemovePodCtrs(usize),
    AddVolume(usize),
    RemoveVolume(usize),
    LookupCtr(usize),
    LookupPod(usize),
    LookupVolume(usize),
    AddExec(usize, usize),
    RemoveExec(usize),
    SetNamespace(usize),
    AllCtrs,
    InUse(usize),
    Rename(usize, usize),
    Connect(usize, usize),
    Disconnect(usize, usize),
    HasCtr(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0..ID_PREFIXES.len();
    prop_oneof![
        6 => (id.clone(), 0..NAMES.len(), 0..NAMESPACES.len(), proptest::option::weighted(0.2, 0..ID_PREFIXES.len()),
              prop_oneof![3 => Just(vec![]), 1 => proptest::collection::vec(0..ID_PREFIXES.len(), 1..3)],
              proptest::option::weighted(0.2, 0..VOLUMES.len()))
            .prop_map(|(id, name, ns, pod, deps, volume)| Op::AddCtr { id, name, ns, pod, deps, volume }),
        2 => id.clone().prop_map(Op::RemoveCtr),
        1 => (id.clone(), id.clone()).prop_map(|(p, c)| Op::RemoveFromPod(p, c)),
        2 => (id.clone(), 0..NAMES.len(), 0..NAMESPACES.len()).prop_map(|(id, name, ns)| Op::AddPod { id, name, ns }),
        1 => id.clone().prop_map(Op::RemovePod),
        1 => id.clone().prop_map(Op::RemovePodCtrs),
        2 => (0..VOLUMES.len()).prop_map(Op::AddVolume),
        1 => (0..VOLUMES.len()).prop_map(Op::RemoveVolume),
        2 => (0..LOOKUPS.len()).prop_map(Op::LookupCtr),
        1 => (0..LOOKUPS.len()).prop_map(Op::LookupPod),
        1 => (0..LOOKUPS.len()).prop_map(Op::LookupVolume),
        1 => (id.clone(), 0..EXECS.len()).prop_map(|(c, e)| Op::AddExec(c, e)),
        1 => (0..EXECS.len()).prop_map(Op::RemoveExec),
        1 => (0..NAMESPACES.len()).prop_map(Op::SetNamespace),
        1 => Just(Op::AllCtrs),
        1 => id.clone().prop_map(Op::InUse),
        1 => (id.clone(), 0..NAMES.len()).prop_map(|(c, n)| Op::Rename(c, n)),
        1 => (id.clone(), 0..NETWORKS.len()).prop_map(|(c, n)| Op::Connect(c, n)),
        1 => (id.clone(), 0..NETWORKS.len()).prop_map(|(c, n)| Op::Disconnect(c, n)),
        1 => id.prop_map(Op::HasCtr),
    ]
}

type Out = Result<String, ErrorKind>;

#[derive(Debug, Clone, PartialEq)]
enum Kind2 {
    Ctr,
    Pod,
}

#[derive(Debug, Clone)]
struct Obj {
    kind: Kind2,
    name: String,
    ns: String,
    pod: Option<String>,
    deps: Vec<String>,
    volumes: Vec<String>,
}

/// The reference: plain maps, rules restated from libpod's documentation.
#[derive(Debug, Default)]
struct Model {
    ns: String,
    objs: BTreeMap<String, Obj>,
    volumes: BTreeSet<String>,
    execs: BTreeMap<String, String>,
    nets: BTreeSet<(String, String)>,
}

fn missing(kind: &Kind2) -> ErrorKind {
    match kind {
        Kind2::Ctr => ErrorKind::NoSuchContainer,
        Kind2::Pod => ErrorKind::NoSuchPod,
    }
}

fn exists_kind(kind: &Kind2) -> ErrorKind {
    match kind {
        Kind2::Ctr => ErrorKind::ContainerExists,
        Kind2::Pod => ErrorKind::PodExists,
    }
}

impl Model {
    fn visible(&self, ns: &str) -> bool {
        self.ns.is_empty() || self.ns == ns
    }

    fn entry(&self, id: &str, kind: Kind2) -> Result<&Obj, ErrorKind> {
        let obj = self.objs.get(id).filter(|o| o.kind == kind).ok_or(missing(&kind))?;
        if !self.visible(&obj.ns) {
            return Err(ErrorKind::NamespaceMismatch);
        }
        Ok(obj)
    }

    fn dependents(&self, id: &str) -> Vec<String> {
        self.objs
            .iter()
            .filter(|(_, o)| o.deps.iter().any(|d| d == id))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn sessions(&self, id: &str) -> Vec<String> {
        self.execs
            .iter()
            .filter(|(_, c)| *c == id)
            .map(|(e, _)| e.clone())
            .collect()
    }

    fn name_holder(&self, name: &str) -> Option<&Obj> {
        self.objs.values().find(|o| o.name == name)
    }

    fn check_free(&self, id: &str, name: &str) -> Result<(), ErrorKind> {
        if let Some(o) = self.objs.get(id) {
            return Err(exists_kind(&o.kind));
        }
        match self.name_holder(name) {
            Some(o) => Err(exists_kind(&o.kind)),
            None => Ok(()),
        }
    }

    fn lookup(&self, given: &str, kind: Kind2) -> Out {
        let by_name = self
            .objs
            .iter()
            .find(|(_, o)| o.name == given)
            .map(|(id, _)| id.clone());
        for id in [Some(given.to_owned()), by_name].into_iter().flatten() {
            if self
                .objs
                .get(&id)
                .is_some_and(|o| self.visible(&o.ns) && o.kind == kind)
            {
                return Ok(id);
            }
        }
        let is_hex = !given.is_empty() && given.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if is_hex {
            let found: Vec<&String> = self
                .objs
                .iter()
                .filter(|(id, o)| id.starts_with(given) && o.kind == kind && self.visible(&o.ns))
                .map(|(id, _)| id)
                .collect();
            match found.len() {
                0 => {}
                1 => return Ok(found[0].clone()),
                _ => return Err(ErrorKind::Ambiguous),
            }
        }
        Err(missing(&kind))
    }

    fn remove_ctr(&mut self, id: &str) {
        self.objs.remove(id);
        self.execs.retain(|_, c| c != id);
        self.nets.retain(|(c, _)| c != id);
    }

    fn apply(&mut self, op: &Op) -> Out {
        let ok = |s: &str| Ok(s.to_owned());
        match op {
            Op::AddCtr {
                id,
                name,
                ns,
                pod,
                deps,
                volume,
            } => {
                let (id, name, ns) = (pool_id(*id), NAMES[*name], NAMESPACES[*ns]);
                let pod = pod.map(pool_id);
                if !self.visible(ns) {
                    return Err(ErrorKind::NamespaceMismatch);
                }
                self.check_free(&id, name)?;
                if let Some(p) = &pod {
                    let p = self.entry(p, Kind2::Pod)?;
                    if p.ns != ns {
                        return Err(ErrorKind::NamespaceMismatch);
                    }
                }
                let deps: BTreeSet<String> = deps.iter().map(|d| pool_id(*d)).collect();
                for dep in &deps {
                    let d = self
                        .objs
                        .get(dep)
                        .filter(|o| o.kind == Kind2::Ctr)
                        .ok_or(ErrorKind::NoSuchContainer)?;
                    if d.pod != pod {
                        return Err(ErrorKind::InvalidArg);
                    }
                    if d.ns != ns {
                        return Err(ErrorKind::NamespaceMismatch);
                    }
                }
                let volumes: Vec<String> = volume.iter().map(|v| VOLUMES[*v].to_owned()).collect();
                if volumes.iter().any(|v| !self.volumes.contains(v)) {
                    return Err(ErrorKind::NoSuchVolume);
                }
                self.objs.insert(
                    id,
                    Obj {
                        kind: Kind2::Ctr,
                        name: name.to_owned(),
                        ns: ns.to_owned(),
                        pod,
                        deps: deps.into_iter().collect(),
                        volumes,
                    },
                );
                ok("")
            }
            Op::RemoveCtr(id) => {
                let id = pool_id(*id);
                if self.entry(&id, Kind2::Ctr)?.pod.is_some() {
                    return Err(ErrorKind::InvalidArg);
                }
                self.check_removable(&id)?;
                self.remove_ctr(&id);
                ok("")
            }
            Op::RemoveFromPod(p, id) => {
                let (p, id) = (pool_id(*p), pool_id(*id));
                self.entry(&p, Kind2::Pod)?;
                if self.entry(&id, Kind2::Ctr)?.pod.as_ref() != Some(&p) {
                    return Err(ErrorKind::NoSuchContainer);
                }
                self.check_removable(&id)?;
                self.remove_ctr(&id);
                ok("")
            }
            Op::AddPod { id, name, ns } => {
                let (id, name, ns) = (pool_id(*id), NAMES[*name], NAMESPACES[*ns]);
                if !self.visible(ns) {
                    return Err(ErrorKind::NamespaceMismatch);
                }
                self.check_free(&id, name)?;
                self.objs.insert(
                    id,
                    Obj {
                        kind: Kind2::Pod,
                        name: name.to_owned(),
                        ns: ns.to_owned(),
                        pod: None,
                        deps: vec![],
                        volumes: vec![],
                    },
                );
                ok("")
            }
            Op::RemovePod(id) => {
                let id = pool_id(*id);
                self.entry(&id, Kind2::Pod)?;
                if self.members(&id).is_empty() {
                    self.objs.remove(&id);
                    ok("")
                } else {
                    Err(ErrorKind::ContainerExists)
                }
            }
            Op::RemovePodCtrs(id) => {
                let id = pool_id(*id);
                self.entry(&id, Kind2::Pod)?;
                let members = self.members(&id);
                for m in &members {
                    if self.dependents(m).iter().any(|d| !members.contains(d)) {
                        return Err(ErrorKind::DependencyExists);
                    }
                }
                if members.iter().any(|m| !self.sessions(m).is_empty()) {
                    return Err(ErrorKind::ExecSessionExists);
                }
                for m in &members {
                    self.remove_ctr(m);
                }
                ok("")
            }
            Op::AddVolume(v) => {
                if self.volumes.insert(VOLUMES[*v].to_owned()) {
                    ok("")
                } else {
                    Err(ErrorKind::VolumeExists)
                }
            }
            Op::RemoveVolume(v) => {
                let v = VOLUMES[*v];
                if !self.volumes.contains(v) {
                    return Err(ErrorKind::NoSuchVolume);
                }
                if self.objs.values().any(|o| o.volumes.iter().any(|u| u == v)) {
                    return Err(ErrorKind::VolumeInUse);
                }
                self.volumes.remove(v);
                ok("")
            }
            Op::LookupCtr(s) => self.lookup(LOOKUPS[*s], Kind2::Ctr),
            Op::LookupPod(s) => self.lookup(LOOKUPS[*s], Kind2::Pod),
            Op::LookupVolume(s) => {
                let s = LOOKUPS[*s];
                if self.volumes.contains(s) {
                    return ok(s);
                }
                let found: Vec<&String> = self.volumes.iter().filter(|v| v.starts_with(s)).collect();
                match found.len() {
                    0 => Err(ErrorKind::NoSuchVolume),
                    1 => Ok(found[0].clone()),
                    _ => Err(ErrorKind::Ambiguous),
                }
            }
            Op::AddExec(c, e) => {
                let c = pool_id(*c);
                self.entry(&c, Kind2::Ctr)?;
                if self.execs.contains_key(EXECS[*e]) {
                    return Err(ErrorKind::ExecSessionExists);
                }
                self.execs.insert(EXECS[*e].to_owned(), c);
                ok("")
            }
            Op::RemoveExec(e) => match self.execs.remove(EXECS[*e]) {
                Some(_) => ok(""),
                None => Err(ErrorKind::NoSuchExecSession),
            },
            Op::SetNamespace(ns) => {
                self.ns = NAMESPACES[*ns].to_owned();
                ok("")
            }
            Op::AllCtrs => {
                let ids: Vec<String> = self
                    .objs
                    .iter()
                    .filter(|(_, o)| o.kind == Kind2::Ctr && self.visible(&o.ns))
                    .map(|(id, _)| id.clone())
                    .collect();
                Ok(ids.join(","))
            }
            Op::InUse(id) => {
                let id = pool_id(*id);
                self.entry(&id, Kind2::Ctr)?;
                Ok(self.dependents(&id).join(","))
            }
            Op::Rename(id, name) => {
                let (id, name) = (pool_id(*id), NAMES[*name]);
                let old = self.entry(&id, Kind2::Ctr)?.name.clone();
                if old != name {
                    if let Some(o) = self.name_holder(name) {
                        return Err(exists_kind(&o.kind));
                    }
                    if let Some(o) = self.objs.get_mut(&id) {
                        o.name = name.to_owned();
                    }
                }
                ok("")
            }
            Op::Connect(id, net) => {
                let id = pool_id(*id);
                self.entry(&id, Kind2::Ctr)?;
                if self.nets.insert((id, NETWORKS[*net].to_owned())) {
                    ok("")
                } else {
                    Err(ErrorKind::InvalidArg)
                }
            }
            Op::Disconnect(id, net) => {
                let id = pool_id(*id);
                self.entry(&id, Kind2::Ctr)?;
                if self.nets.remove(&(id, NETWORKS[*net].to_owned())) {
                    ok("")
                } else {
                    Err(ErrorKind::NoSuchNetwork)
                }
            }
            Op::HasCtr(id) => {
                let id = pool_id(*id);
                Ok(self.entry(&id, Kind2::Ctr).is_ok().to_string())
            }
        }
    }

    fn members(&self, pod: &str) -> Vec<String> {
        self.objs
            .iter()
            .filter(|(_, o)| o.pod.as_deref() == Some(pod))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn check_removable(&self, id: &str) -> Result<(), ErrorKind> {
        if !self.dependents(id).is_empty() {
            return Err(ErrorKind::DependencyExists);
        }
        if !self.sessions(id).is_empty() {
            return Err(ErrorKind::ExecSessionExists);
        }
        Ok(())
    }
}

fn kind<T>(r: corral_state::Result<T>, f: impl FnOnce(T) -> String) -> Out {
    r.map(f).map_err(|e| e.kind())
}

fn unit(_: ()) -> String {
    String::new()
}

/// Applies `op` to a real store. `records` remembers the configs added, to
/// build rename requests the way a caller holding the container would.
fn apply(s: &dyn State, records: &mut BTreeMap<String, ContainerRecord>, op: &Op) -> Out {
    match op {
        Op::AddCtr {
            id,
            name,
            ns,
            pod,
            deps,
            volume,
        } => {
            let mut c = ctr_with_id(&pool_id(*id), NAMES[*name]);
            c.config.namespace = NAMESPACES[*ns].into();
            c.config.pod = pod.map(pool_id).map(Into::into);
            c.config.misc.dependencies = deps.iter().map(|d| pool_id(*d).into()).collect();
            if let Some(v) = volume {
                c.config.root_fs.named_volumes.push(corral_define::NamedVolumeMount {
                    name: VOLUMES[*v].into(),
                    ..Default::default()
                });
            }
            let result = match &c.config.pod {
                Some(p) => s.add_container_to_pod(p, &c),
                None => s.add_container(&c),
            };
            if result.is_ok() {
                records.insert(c.config.id.to_string(), c);
            }
            kind(result, unit)
        }
        Op::RemoveCtr(id) => kind(s.remove_container(&pool_id(*id)), unit),
        Op::RemoveFromPod(p, id) => kind(s.remove_container_from_pod(&pool_id(*p), &pool_id(*id)), unit),
        Op::AddPod { id, name, ns } => {
            let mut p = pod_with_id(&pool_id(*id), NAMES[*name]);
            p.config.namespace = NAMESPACES[*ns].to_owned();
            kind(s.add_pod(&p), unit)
        }
        Op::RemovePod(id) => kind(s.remove_pod(&pool_id(*id)), unit),
        Op::RemovePodCtrs(id) => kind(s.remove_pod_containers(&pool_id(*id)), unit),
        Op::AddVolume(v) => kind(s.add_volume(&volume(VOLUMES[*v])), unit),
        Op::RemoveVolume(v) => kind(s.remove_volume(VOLUMES[*v]), unit),
        Op::LookupCtr(l) => kind(s.lookup_container(LOOKUPS[*l]), |c| c.config.id.to_string()),
        Op::LookupPod(l) => kind(s.lookup_pod(LOOKUPS[*l]), |p| p.config.id),
        Op::LookupVolume(l) => kind(s.lookup_volume(LOOKUPS[*l]), |v| v.config.name),
        Op::AddExec(c, e) => {
            let c = pool_id(*c);
            let session = ExecSession {
                id: EXECS[*e].to_owned(),
                container_id: c.clone(),
                ..Default::default()
            };
            kind(s.add_exec_session(&c, &session), unit)
        }
        Op::RemoveExec(e) => kind(s.remove_exec_session(EXECS[*e]), unit),
        Op::SetNamespace(ns) => kind(s.set_namespace(NAMESPACES[*ns]), unit),
        Op::AllCtrs => kind(s.all_containers(false), |all| {
            let mut ids: Vec<_> = all.into_iter().map(|c| c.config.id).collect();
            ids.sort();
            ids.join(",")
        }),
        Op::InUse(id) => kind(s.container_in_use(&pool_id(*id)), |ids| ids.join(",")),
        Op::Rename(id, name) => {
            let id = pool_id(*id);
            let mut current = records.get(&id).cloned().unwrap_or_else(|| ctr_with_id(&id, "unknown"));
            let old = current.config.name.clone();
            current.config.name = NAMES[*name].into();
            let result = s.safe_rewrite_container_config(&old, NAMES[*name], &current.config);
            if result.is_ok() {
                records.insert(id, current);
            }
            kind(result, unit)
        }
        Op::Connect(id, net) => kind(
            s.network_connect(&pool_id(*id), NETWORKS[*net], &PerNetworkOptions::default()),
            unit,
        ),
        Op::Disconnect(id, net) => kind(s.network_disconnect(&pool_id(*id), NETWORKS[*net]), unit),
        Op::HasCtr(id) => kind(s.has_container(&pool_id(*id)), |b| b.to_string()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn backends_agree_with_the_model(ops in proptest::collection::vec(op(), 10..60)) {
        let fixtures = [Fixture::new(Kind::Memory), Fixture::new(Kind::Sqlite), Fixture::new(Kind::Sled)];
        let mut model = Model::default();
        let mut records: Vec<BTreeMap<String, ContainerRecord>> = vec![BTreeMap::new(); fixtures.len()];
        for (step, op) in ops.iter().enumerate() {
            let expected = model.apply(op);
            for (f, recs) in fixtures.iter().zip(records.iter_mut()) {
                let got = apply(f.state.as_ref(), recs, op);
                prop_assert_eq!(&got, &expected, "{} diverged at step {} ({:?})", f.kind.as_str(), step, op);
            }
        }
        for f in &fixtures {
            f.state.set_namespace("").unwrap();
            let problems = f.state.check_consistency().unwrap();
            prop_assert!(problems.is_empty(), "{}: {:?}", f.kind.as_str(), problems);
        }
    }
}
