//! One conformance suite, run against every backend (podman's runForAllStates).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use corral_define::{ContainerState, ContainerStatus, DbConfig, ErrorKind, HasKind, PerNetworkOptions};
use corral_state::{ContainerRecord, ContainerStore, State};

macro_rules! for_all_states {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $test() { let f = super::Fixture::new(super::Kind::Sqlite); super::$test(&f); } )*
        }
        mod sled {
            $( #[test] fn $test() { let f = super::Fixture::new(super::Kind::Sled); super::$test(&f); } )*
        }
        mod memory {
            $( #[test] fn $test() { let f = super::Fixture::new(super::Kind::Memory); super::$test(&f); } )*
        }
    };
}

for_all_states!(
    add_get_and_lookup_container,
    names_and_ids_unique_across_containers_and_pods,
    exact_name_beats_prefix_and_ambiguous_prefix_is_an_error,
    lookup_does_not_confuse_pods_and_containers,
    namespaces_hide_and_protect,
    dependencies_must_exist_and_block_removal,
    exec_sessions_are_registered_and_block_removal,
    pods_hold_members_and_their_dependencies,
    remove_pod_containers_removes_interdependent_members,
    volumes_have_their_own_names_and_block_removal_while_used,
    network_attachments,
    save_and_update_round_trip_state_only,
    rewrite_configs_keep_indexed_fields,
    safe_rewrite_renames,
    refresh_resets_volatile_state,
    db_config_is_recorded_and_checked,
    closed_store_refuses_calls,
    get_name_resolves_containers_and_pods,
    empty_arguments_are_invalid,
    large_listing_keeps_states_and_namespaces,
);

fn add_get_and_lookup_container(f: &Fixture) {
    let s = f.state.as_ref();
    let c = ctr("web");
    s.add_container(&c).unwrap();
    assert_eq!(s.container(c.id()).unwrap(), c);
    assert_eq!(s.lookup_container("web").unwrap(), c);
    assert_eq!(s.lookup_container_id(&c.id()[..5]).unwrap(), c.id());
    assert_eq!(s.lookup_container_id(c.id()).unwrap(), c.id());
    assert!(s.has_container(c.id()).unwrap());
    assert!(!s.has_container(&ctr("x").config.id).unwrap());
    assert_eq!(s.get_container_config(c.id()).unwrap(), c.config);
    assert_eq!(s.all_containers(true).unwrap(), vec![c.clone()]);
    assert_eq!(s.all_containers(false).unwrap()[0].config, c.config);
    assert_eq!(kind_of(s.container(&ctr("x").config.id)), ErrorKind::NoSuchContainer);
    let err = s.lookup_container("nothing").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchContainer);
    assert_eq!(
        err.to_string(),
        "no container with name or ID \"nothing\" found: no such container"
    );
    s.remove_container(c.id()).unwrap();
    assert!(!s.has_container(c.id()).unwrap());
    assert_eq!(kind_of(s.remove_container(c.id())), ErrorKind::NoSuchContainer);
    assert!(s.all_containers(true).unwrap().is_empty());
    assert_consistent(s);
}

fn names_and_ids_unique_across_containers_and_pods(f: &Fixture) {
    let s = f.state.as_ref();
    let c = ctr("shared");
    s.add_container(&c).unwrap();
    assert_eq!(kind_of(s.add_container(&ctr("shared"))), ErrorKind::ContainerExists);
    assert_eq!(kind_of(s.add_pod(&pod("shared"))), ErrorKind::ContainerExists);
    assert_eq!(
        kind_of(s.add_pod(&pod_with_id(c.id(), "other"))),
        ErrorKind::ContainerExists
    );
    let p = pod("p1");
    s.add_pod(&p).unwrap();
    let err = s.add_container(&ctr("p1")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PodExists);
    assert_eq!(err.to_string(), "name \"p1\" is in use: pod already exists");
    assert_eq!(
        kind_of(s.add_container(&ctr_with_id(p.id(), "c2"))),
        ErrorKind::PodExists
    );
    assert_eq!(kind_of(s.add_container(&ctr("bad name"))), ErrorKind::InvalidArg);
    // A failed add leaves nothing behind.
    assert_eq!(s.all_containers(false).unwrap().len(), 1);
    assert_consistent(s);
}

fn exact_name_beats_prefix_and_ambiguous_prefix_is_an_error(f: &Fixture) {
    let s = f.state.as_ref();
    let a = ctr_with_id(&id_with_prefix("abc1"), "first");
    let b = ctr_with_id(&id_with_prefix("abc2"), "second");
    s.add_container(&a).unwrap();
    s.add_container(&b).unwrap();
    let err = s.lookup_container_id("abc").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ambiguous);
    assert!(err.to_string().contains("more than one result"), "{err}");
    assert_eq!(s.lookup_container_id("abc1").unwrap(), a.id());
    // A container named like a prefix of other IDs wins over them.
    let named = ctr("abc");
    s.add_container(&named).unwrap();
    assert_eq!(s.lookup_container_id("abc").unwrap(), named.id());
    assert_eq!(s.lookup_container("abc").unwrap(), named);
    // A full ID wins over a name equal to it... and names cannot look like that anyway.
    assert_eq!(s.lookup_container_id(b.id()).unwrap(), b.id());
}

fn lookup_does_not_confuse_pods_and_containers(f: &Fixture) {
    let s = f.state.as_ref();
    let p = pod_with_id(&id_with_prefix("dd"), "pod1");
    s.add_pod(&p).unwrap();
    let c = ctr_with_id(&id_with_prefix("de"), "ctr1");
    s.add_container(&c).unwrap();
    let err = s.lookup_container("pod1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchContainer);
    assert!(err.to_string().contains("is a pod"), "{err}");
    assert_eq!(kind_of(s.lookup_pod("ctr1")), ErrorKind::NoSuchPod);
    // Prefix "d" matches one pod and one container: each lookup sees its own kind only.
    assert_eq!(s.lookup_container_id("d").unwrap(), c.id());
    assert_eq!(s.lookup_pod("d").unwrap(), p);
    assert_eq!(kind_of(s.container(p.id())), ErrorKind::NoSuchContainer);
    assert_eq!(kind_of(s.pod(c.id())), ErrorKind::NoSuchPod);
    assert!(!s.has_pod(c.id()).unwrap());
}

/// Enough containers that AllContainers decodes on several threads: every
/// record comes back once with its own state (also states saved since, which
/// SQLite keeps after every config), and namespaces still filter.
fn large_listing_keeps_states_and_namespaces(f: &Fixture) {
    let s = f.state.as_ref();
    let mut added = Vec::new();
    for i in 0..520 {
        let mut c = ctr(&format!("c{i}"));
        c.config.namespace = if i % 3 == 0 { "odd".into() } else { String::new().into() };
        c.state.pid = i;
        s.add_container(&c).unwrap();
        added.push(c);
    }
    for c in added.iter_mut().step_by(7) {
        c.state.exit_code = c.state.pid + 1;
        s.save_container(c).unwrap();
    }
    let by_id = |mut records: Vec<ContainerRecord>| {
        records.sort_by(|a, b| a.config.id.cmp(&b.config.id));
        records
    };
    let added = by_id(added);
    assert_eq!(by_id(s.all_containers(true).unwrap()), added);
    let without_state = by_id(s.all_containers(false).unwrap());
    assert!(without_state.iter().all(|c| c.state == ContainerState::default()));
    let configs: Vec<_> = without_state.into_iter().map(|c| c.config).collect();
    assert_eq!(configs, added.iter().map(|c| c.config.clone()).collect::<Vec<_>>());
    s.set_namespace("odd").unwrap();
    let odd = s.all_containers(true).unwrap();
    assert_eq!(odd.len(), 174);
    assert!(odd.iter().all(|c| c.config.namespace == "odd" && c.state.pid % 3 == 0));
    s.set_namespace("").unwrap();
}

fn namespaces_hide_and_protect(f: &Fixture) {
    let s = f.state.as_ref();
    let mut a = ctr("in-a");
    a.config.namespace = "a".into();
    s.add_container(&a).unwrap();
    let plain = ctr("plain");
    s.add_container(&plain).unwrap();

    s.set_namespace("b").unwrap();
    assert_eq!(s.namespace(), "b");
    assert_eq!(kind_of(s.lookup_container("in-a")), ErrorKind::NoSuchContainer);
    assert_eq!(kind_of(s.lookup_container_id(&a.id()[..8])), ErrorKind::NoSuchContainer);
    let err = s.container(a.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NamespaceMismatch);
    assert!(err.to_string().contains("namespace \"a\""), "{err}");
    assert_eq!(kind_of(s.remove_container(a.id())), ErrorKind::NamespaceMismatch);
    assert_eq!(kind_of(s.save_container(&a)), ErrorKind::NamespaceMismatch);
    assert_eq!(kind_of(s.get_container_config(a.id())), ErrorKind::NamespaceMismatch);
    assert!(!s.has_container(a.id()).unwrap());
    assert!(s.all_containers(false).unwrap().is_empty());
    // Adding into another namespace than the one set is refused.
    let mut a2 = ctr("in-a-2");
    a2.config.namespace = "a".into();
    assert_eq!(kind_of(s.add_container(&a2)), ErrorKind::NamespaceMismatch);
    // Names stay unique across namespaces.
    let mut clash = ctr("in-a");
    clash.config.namespace = "b".into();
    assert_eq!(kind_of(s.add_container(&clash)), ErrorKind::ContainerExists);

    s.set_namespace("a").unwrap();
    assert_eq!(s.lookup_container("in-a").unwrap(), a);
    assert_eq!(s.all_containers(false).unwrap().len(), 1);
    let mut p = pod("pod-b");
    p.config.namespace = "b".into();
    assert_eq!(kind_of(s.add_pod(&p)), ErrorKind::NamespaceMismatch);

    s.set_namespace("").unwrap();
    assert_eq!(s.all_containers(false).unwrap().len(), 2);
    // Dependencies cannot cross namespaces.
    let mut dependent = ctr_depending_on("dep", &[a.id()]);
    dependent.config.namespace = "c".into();
    assert_eq!(kind_of(s.add_container(&dependent)), ErrorKind::NamespaceMismatch);
    assert_consistent(s);
}

fn dependencies_must_exist_and_block_removal(f: &Fixture) {
    let s = f.state.as_ref();
    let missing = ctr("ghost").config.id;
    let orphan = ctr_depending_on("orphan", &[&missing]);
    let err = s.add_container(&orphan).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoSuchContainer);
    assert!(err.to_string().contains(missing.as_str()));

    let base = ctr("base");
    s.add_container(&base).unwrap();
    let mut user = ctr_depending_on("user", &[]);
    user.config.namespaces.net_ns_ctr = Some(base.id().into());
    s.add_container(&user).unwrap();
    let user2 = ctr_depending_on("user2", &[base.id()]);
    s.add_container(&user2).unwrap();

    let mut expected = vec![user.id().to_owned(), user2.id().to_owned()];
    expected.sort();
    assert_eq!(s.container_in_use(base.id()).unwrap(), expected);
    let err = s.remove_container(base.id()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DependencyExists);
    assert!(err.to_string().contains(user.id()), "{err}");
    s.remove_container(user.id()).unwrap();
    s.remove_container(user2.id()).unwrap();
    assert!(s.container_in_use(base.id()).unwrap().is_empty());
    s.remove_container(base.id()).unwrap();
    assert_consistent(s);
}

fn exec_sessions_are_registered_and_block_removal(f: &Fixture) {
    let s = f.state.as_ref();
    let c = ctr("exec-host");
    s.add_container(&c).unwrap();
    let e1 = exec_session(c.id());
    let e2 = exec_session(c.id());
    s.add_exec_session(c.id(), &e1).unwrap();
    s.add_exec_session(c.id(), &e2).unwrap();
    assert_eq!(kind_of(s.add_exec_session(c.id(), &e1)), ErrorKind::ExecSessionExists);
    let other = ctr("other");
    assert_eq!(kind_of(s.add_exec_session(other.id(), &e1)), ErrorKind::InvalidArg);
    let stray = exec_session(other.id());
    assert_eq!(
        kind_of(s.add_exec_session(other.id(), &stray)),
        ErrorKind::NoSuchContainer
    );
    assert_eq!(s.get_exec_session(&e1.id).unwrap(), c.id());
    let mut both = vec![e1.id.clone(), e2.id.clone()];
    both.sort();
    assert_eq!(s.get_container_exec_sessions(c.id()).unwrap(), both);

    assert_eq!(kind_of(s.remove_container(c.id())), ErrorKind::ExecSessionExists);
    s.remove_exec_session(&e1.id).unwrap();
    assert_eq!(kind_of(s.remove_exec_session(&e1.id)), ErrorKind::NoSuchExecSession);
    assert_eq!(kind_of(s.get_exec_session(&e1.id)), ErrorKind::NoSuchExecSession);
    s.remove_container_exec_sessions(c.id()).unwrap();
    assert!(s.get_container_exec_sessions(c.id()).unwrap().is_empty());
    s.remove_container(c.id()).unwrap();
    assert_consistent(s);
}

fn pods_hold_members_and_their_dependencies(f: &Fixture) {
    let s = f.state.as_ref();
    let p = pod("pod");
    s.add_pod(&p).unwrap();
    assert_eq!(s.lookup_pod("pod").unwrap(), p);
    let infra = ctr_in_pod("infra", p.id());
    assert_eq!(kind_of(s.add_container(&infra)), ErrorKind::InvalidArg);
    assert_eq!(
        kind_of(s.add_container_to_pod(p.id(), &ctr("loose"))),
        ErrorKind::InvalidArg
    );
    let nopod = ctr_in_pod("nopod", &ctr("x").config.id);
    assert_eq!(
        kind_of(s.add_container_to_pod(&nopod.config.pod.clone().unwrap(), &nopod)),
        ErrorKind::NoSuchPod
    );
    s.add_container_to_pod(p.id(), &infra).unwrap();
    let mut member = ctr_in_pod("member", p.id());
    member.config.namespaces.net_ns_ctr = Some(infra.id().into());
    s.add_container_to_pod(p.id(), &member).unwrap();

    // Dependencies may not cross the pod boundary, either way.
    let outside = ctr("outside");
    s.add_container(&outside).unwrap();
    let mut crossing = ctr_in_pod("crossing", p.id());
    crossing.config.misc.dependencies = vec![outside.id().into()];
    assert_eq!(
        kind_of(s.add_container_to_pod(p.id(), &crossing)),
        ErrorKind::InvalidArg
    );
    let leaning = ctr_depending_on("leaning", &[infra.id()]);
    assert_eq!(kind_of(s.add_container(&leaning)), ErrorKind::InvalidArg);

    assert!(s.pod_has_container(p.id(), infra.id()).unwrap());
    assert!(!s.pod_has_container(p.id(), outside.id()).unwrap());
    let mut ids = vec![infra.id().to_owned(), member.id().to_owned()];
    ids.sort();
    assert_eq!(s.pod_containers_by_id(p.id()).unwrap(), ids);
    assert_eq!(s.pod_containers(p.id()).unwrap().len(), 2);

    assert_eq!(kind_of(s.remove_pod(p.id())), ErrorKind::ContainerExists);
    assert_eq!(kind_of(s.remove_container(member.id())), ErrorKind::InvalidArg);
    let p2 = pod("pod2");
    s.add_pod(&p2).unwrap();
    assert_eq!(
        kind_of(s.remove_container_from_pod(p2.id(), member.id())),
        ErrorKind::NoSuchContainer
    );
    assert_eq!(
        kind_of(s.remove_container_from_pod(p.id(), infra.id())),
        ErrorKind::DependencyExists
    );
    s.remove_container_from_pod(p.id(), member.id()).unwrap();
    s.remove_container_from_pod(p.id(), infra.id()).unwrap();
    s.remove_pod(p.id()).unwrap();
    assert_eq!(kind_of(s.pod(p.id())), ErrorKind::NoSuchPod);
    assert_eq!(s.all_pods().unwrap(), vec![p2]);
    assert_consistent(s);
}

fn remove_pod_containers_removes_interdependent_members(f: &Fixture) {
    let s = f.state.as_ref();
    let p = pod("pod");
    s.add_pod(&p).unwrap();
    let infra = ctr_in_pod("infra", p.id());
    s.add_container_to_pod(p.id(), &infra).unwrap();
    let mut member = ctr_in_pod("member", p.id());
    member.config.misc.dependencies = vec![infra.id().into()];
    s.add_container_to_pod(p.id(), &member).unwrap();
    s.network_connect(member.id(), "net", &PerNetworkOptions::default())
        .unwrap();
    let session = exec_session(member.id());
    s.add_exec_session(member.id(), &session).unwrap();
    assert_eq!(kind_of(s.remove_pod_containers(p.id())), ErrorKind::ExecSessionExists);
    assert_eq!(s.pod_containers_by_id(p.id()).unwrap().len(), 2);
    s.remove_exec_session(&session.id).unwrap();

    s.remove_pod_containers(p.id()).unwrap();
    assert!(s.pod_containers_by_id(p.id()).unwrap().is_empty());
    assert!(!s.has_container(infra.id()).unwrap());
    assert_eq!(kind_of(s.lookup_container("member")), ErrorKind::NoSuchContainer);
    s.remove_pod(p.id()).unwrap();
    assert_consistent(s);
}

fn volumes_have_their_own_names_and_block_removal_while_used(f: &Fixture) {
    let s = f.state.as_ref();
    s.add_volume(&volume("data")).unwrap();
    s.add_volume(&volume("database")).unwrap();
    // Volumes and containers do not share names.
    s.add_container(&ctr("data")).unwrap();
    assert_eq!(kind_of(s.add_volume(&volume("data"))), ErrorKind::VolumeExists);
    assert_eq!(s.volume("data").unwrap().config.name, "data");
    assert_eq!(s.lookup_volume("datab").unwrap().config.name, "database");
    assert_eq!(s.lookup_volume("data").unwrap().config.name, "data");
    assert_eq!(kind_of(s.lookup_volume("dat")), ErrorKind::Ambiguous);
    assert_eq!(kind_of(s.lookup_volume("x")), ErrorKind::NoSuchVolume);
    assert_eq!(kind_of(s.volume("datab")), ErrorKind::NoSuchVolume);
    assert!(s.has_volume("data").unwrap());
    assert!(!s.has_volume("dat").unwrap());

    assert_eq!(
        kind_of(s.add_container(&ctr_with_volume("user0", "nope"))),
        ErrorKind::NoSuchVolume
    );
    let user = ctr_with_volume("user", "data");
    s.add_container(&user).unwrap();
    assert_eq!(s.volume_in_use("data").unwrap(), vec![user.id().to_owned()]);
    let err = s.remove_volume("data").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::VolumeInUse);
    assert!(err.to_string().contains(user.id()));
    s.remove_container(user.id()).unwrap();
    s.remove_volume("data").unwrap();
    assert_eq!(kind_of(s.remove_volume("data")), ErrorKind::NoSuchVolume);
    let names: Vec<String> = s.all_volumes().unwrap().into_iter().map(|v| v.config.name).collect();
    assert_eq!(names, vec!["database".to_string()]);
    assert_consistent(s);
}

fn network_attachments(f: &Fixture) {
    let s = f.state.as_ref();
    let mut c = ctr("net-user");
    let initial = PerNetworkOptions {
        aliases: vec!["web".into()],
        interface_name: "eth0".into(),
        ..Default::default()
    };
    c.config.network.networks.insert("podman".into(), initial.clone());
    s.add_container(&c).unwrap();
    assert_eq!(
        s.get_networks(c.id()).unwrap(),
        BTreeMap::from([("podman".to_string(), initial.clone())])
    );
    let second = PerNetworkOptions {
        aliases: vec!["a".into(), "b".into()],
        interface_name: "eth1".into(),
        ..Default::default()
    };
    s.network_connect(c.id(), "backend", &second).unwrap();
    assert_eq!(
        kind_of(s.network_connect(c.id(), "backend", &second)),
        ErrorKind::InvalidArg
    );
    assert_eq!(s.get_network_aliases(c.id(), "backend").unwrap(), vec!["a", "b"]);
    assert_eq!(
        s.get_all_network_aliases(c.id()).unwrap(),
        BTreeMap::from([
            ("backend".to_string(), vec!["a".to_string(), "b".to_string()]),
            ("podman".to_string(), vec!["web".to_string()]),
        ])
    );
    assert_eq!(kind_of(s.get_network_aliases(c.id(), "none")), ErrorKind::NoSuchNetwork);
    assert_eq!(kind_of(s.network_connect(c.id(), "", &second)), ErrorKind::InvalidArg);
    s.network_disconnect(c.id(), "podman").unwrap();
    assert_eq!(
        kind_of(s.network_disconnect(c.id(), "podman")),
        ErrorKind::NoSuchNetwork
    );
    assert_eq!(s.get_networks(c.id()).unwrap().len(), 1);
    assert_eq!(kind_of(s.get_networks(&ctr("x").config.id)), ErrorKind::NoSuchContainer);
    s.remove_container(c.id()).unwrap();
    assert_consistent(s);
}

fn save_and_update_round_trip_state_only(f: &Fixture) {
    let s = f.state.as_ref();
    let mut c = ctr("stateful");
    s.add_container(&c).unwrap();
    c.state.state = ContainerStatus::Running;
    c.state.pid = 1234;
    // Save never touches the config.
    c.config.misc.labels.insert("changed".into(), "yes".into());
    s.save_container(&c).unwrap();
    let mut fresh = s.lookup_container("stateful").unwrap();
    assert_eq!(fresh.state, c.state);
    assert!(!fresh.config.misc.labels.contains_key("changed"));
    fresh.state = Default::default();
    s.update_container(&mut fresh).unwrap();
    assert_eq!(fresh.state.pid, 1234);
    assert_eq!(kind_of(s.save_container(&ctr("unknown"))), ErrorKind::NoSuchContainer);
    assert_eq!(
        kind_of(s.update_container(&mut ctr("unknown"))),
        ErrorKind::NoSuchContainer
    );

    let mut p = pod("pod");
    s.add_pod(&p).unwrap();
    p.state.cgroup_path = "/sys/fs/cgroup/x".into();
    s.save_pod(&p).unwrap();
    let mut p2 = s.pod(p.id()).unwrap();
    assert_eq!(p2.state.cgroup_path, "/sys/fs/cgroup/x");
    p2.state.cgroup_path.clear();
    s.update_pod(&mut p2).unwrap();
    assert_eq!(p2, p);

    let mut v = volume("vol");
    s.add_volume(&v).unwrap();
    v.state.mount_count = 3;
    s.save_volume(&v).unwrap();
    let mut v2 = volume("vol");
    s.update_volume(&mut v2).unwrap();
    assert_eq!(v2.state.mount_count, 3);
    assert_eq!(kind_of(s.save_volume(&volume("nope"))), ErrorKind::NoSuchVolume);
}

fn rewrite_configs_keep_indexed_fields(f: &Fixture) {
    let s = f.state.as_ref();
    let c = ctr("rewritten");
    s.add_container(&c).unwrap();
    let mut config = c.config.clone();
    config.oci_runtime = "crun".into();
    s.rewrite_container_config(&config).unwrap();
    assert_eq!(s.get_container_config(c.id()).unwrap().oci_runtime, "crun");
    let mut renamed = config.clone();
    renamed.name = "other".into();
    assert_eq!(kind_of(s.rewrite_container_config(&renamed)), ErrorKind::InvalidArg);
    let mut repodded = config.clone();
    repodded.pod = Some("x".into());
    assert_eq!(kind_of(s.rewrite_container_config(&repodded)), ErrorKind::InvalidArg);

    let p = pod("rp");
    s.add_pod(&p).unwrap();
    let mut pc = p.config.clone();
    pc.hostname = "h".into();
    s.rewrite_pod_config(&pc).unwrap();
    assert_eq!(s.pod(p.id()).unwrap().config.hostname, "h");
    pc.name = "renamed".into();
    assert_eq!(kind_of(s.rewrite_pod_config(&pc)), ErrorKind::InvalidArg);

    s.add_volume(&volume("rv")).unwrap();
    let mut vc = volume("rv").config;
    vc.labels.insert("k".into(), "v".into());
    s.rewrite_volume_config(&vc).unwrap();
    assert_eq!(s.volume("rv").unwrap().config.labels["k"], "v");
    assert_eq!(
        kind_of(s.rewrite_volume_config(&volume("none").config)),
        ErrorKind::NoSuchVolume
    );
    assert_consistent(s);
}

fn safe_rewrite_renames(f: &Fixture) {
    let s = f.state.as_ref();
    let c = ctr("old");
    s.add_container(&c).unwrap();
    s.add_pod(&pod("taken")).unwrap();
    let mut config = c.config.clone();
    config.name = "taken".into();
    assert_eq!(
        kind_of(s.safe_rewrite_container_config("old", "taken", &config)),
        ErrorKind::PodExists
    );
    config.name = "new".into();
    assert_eq!(
        kind_of(s.safe_rewrite_container_config("wrong", "new", &config)),
        ErrorKind::InvalidArg
    );
    assert_eq!(
        kind_of(s.safe_rewrite_container_config("old", "newer", &config)),
        ErrorKind::InvalidArg
    );
    s.safe_rewrite_container_config("old", "new", &config).unwrap();
    assert_eq!(s.lookup_container_id("new").unwrap(), c.id());
    assert_eq!(kind_of(s.lookup_container("old")), ErrorKind::NoSuchContainer);
    assert_eq!(s.get_name(c.id()).unwrap(), "new");
    // The old name is free again.
    s.add_container(&ctr("old")).unwrap();
    // Without a new name it is a plain rewrite that keeps the name.
    config.oci_runtime = "runc".into();
    s.safe_rewrite_container_config("", "", &config).unwrap();
    assert_eq!(s.container(c.id()).unwrap().config.oci_runtime, "runc");
    assert_consistent(s);
}

fn refresh_resets_volatile_state(f: &Fixture) {
    let s = f.state.as_ref();
    let mut c = ctr("running");
    s.add_container(&c).unwrap();
    c.state.state = ContainerStatus::Running;
    c.state.pid = 99;
    s.save_container(&c).unwrap();
    s.add_exec_session(c.id(), &exec_session(c.id())).unwrap();
    let mut p = pod("pod");
    p.state.cgroup_path = "/cg".into();
    s.add_pod(&p).unwrap();
    let mut v = volume("vol");
    v.state.mount_count = 2;
    s.add_volume(&v).unwrap();

    s.refresh().unwrap();
    let after = s.container(c.id()).unwrap();
    assert_eq!(after.state.state, ContainerStatus::Exited);
    assert_eq!(after.state.pid, 0);
    assert!(s.get_container_exec_sessions(c.id()).unwrap().is_empty());
    assert_eq!(s.pod(p.id()).unwrap().state.cgroup_path, "");
    assert_eq!(s.volume("vol").unwrap().state.mount_count, 0);
    s.remove_container(c.id()).unwrap();
    assert_consistent(s);
}

fn db_config_is_recorded_and_checked(f: &Fixture) {
    let s = f.state.as_ref();
    let recorded = s.get_db_config().unwrap();
    if f.kind == Kind::Memory {
        assert_eq!(recorded, None);
        s.validate_db_config(&db_config()).unwrap();
    } else {
        assert_eq!(recorded, Some(db_config()));
    }
    s.validate_db_config(&db_config()).unwrap();
    // Empty fields are not compared.
    s.validate_db_config(&DbConfig::default()).unwrap();
    let other = DbConfig {
        graph_driver: "vfs".into(),
        ..db_config()
    };
    let err = s.validate_db_config(&other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DbConfigMismatch);
    assert!(err.to_string().contains("graph driver"), "{err}");
    assert!(err.to_string().contains("vfs"), "{err}");
}

fn closed_store_refuses_calls(f: &Fixture) {
    let s = f.state.as_ref();
    s.close().unwrap();
    s.close().unwrap();
    assert_eq!(kind_of(s.all_containers(false)), ErrorKind::DbClosed);
    assert_eq!(kind_of(s.add_volume(&volume("v"))), ErrorKind::DbClosed);
}

fn get_name_resolves_containers_and_pods(f: &Fixture) {
    let s = f.state.as_ref();
    let c = ctr("cname");
    let p = pod("pname");
    s.add_container(&c).unwrap();
    s.add_pod(&p).unwrap();
    assert_eq!(s.get_name(c.id()).unwrap(), "cname");
    assert_eq!(s.get_name(p.id()).unwrap(), "pname");
    assert_eq!(kind_of(s.get_name(&ctr("x").config.id)), ErrorKind::NoSuchContainer);
    s.set_namespace("elsewhere").unwrap();
    assert_eq!(kind_of(s.get_name(p.id())), ErrorKind::NamespaceMismatch);
}

fn empty_arguments_are_invalid(f: &Fixture) {
    let s = f.state.as_ref();
    assert_eq!(kind_of(s.lookup_container("")), ErrorKind::InvalidArg);
    assert_eq!(kind_of(s.lookup_pod("")), ErrorKind::InvalidArg);
    assert_eq!(kind_of(s.container("")), ErrorKind::InvalidArg);
    assert_eq!(kind_of(s.volume("")), ErrorKind::InvalidArg);
    assert_eq!(kind_of(s.get_exec_session("")), ErrorKind::InvalidArg);
    assert_eq!(kind_of(s.add_container(&ctr_with_id("", "x"))), ErrorKind::InvalidArg);
}

/// Reopening a persistent store keeps everything, and a different DbConfig is refused.
fn reopen(kind: Kind) {
    let f = Fixture::new(kind);
    let c = ctr("persist");
    f.state.add_container(&c).unwrap();
    f.state.add_volume(&volume("v")).unwrap();
    f.state.close().unwrap();
    let again = kind.open(&f.path(), &db_config()).unwrap();
    assert_eq!(again.lookup_container("persist").unwrap(), c);
    assert!(again.has_volume("v").unwrap());
    drop(again);
    let moved = DbConfig {
        static_dir: "/somewhere/else".into(),
        ..db_config()
    };
    let err = kind.open(&f.path(), &moved).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::DbConfigMismatch);
    assert!(err.to_string().contains("static dir"), "{err}");
}

#[test]
fn sqlite_reopens_with_its_data_and_checks_db_config() {
    reopen(Kind::Sqlite);
}

#[test]
fn sled_reopens_with_its_data_and_checks_db_config() {
    reopen(Kind::Sled);
}

#[test]
fn sqlite_gives_up_waiting_after_the_timeout() {
    let f = Fixture::new(Kind::Sqlite);
    let blocker = rusqlite::Connection::open(f.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let options = corral_state::StoreOptions {
        timeout: Duration::from_millis(300),
    };
    let waiting = corral_state::SqliteState::open_with(f.path(), &db_config(), &options).unwrap();
    let start = Instant::now();
    let err = waiting.add_container(&ctr("blocked")).unwrap_err();
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    waiting.add_container(&ctr("unblocked")).unwrap();
}

/// A store written before updates kept their rows in place (or by anything
/// else) has states far from their configs: AllContainers still pairs each
/// record with its own state, and SQLite now updates rows where they are.
#[test]
fn sqlite_listing_pairs_states_stored_out_of_place() {
    let f = Fixture::new(Kind::Sqlite);
    let s = f.state.as_ref();
    let mut added = Vec::new();
    for i in 0..300 {
        let mut c = ctr(&format!("c{i}"));
        c.config.namespace = if i % 4 == 0 {
            "four".into()
        } else {
            String::new().into()
        };
        c.state.pid = i;
        s.add_container(&c).unwrap();
        added.push(c);
    }
    let rowids = |db: &rusqlite::Connection| -> Vec<i64> {
        let mut stmt = db.prepare("SELECT rowid FROM kv ORDER BY rowid").unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let db = rusqlite::Connection::open(f.path()).unwrap();
    let before = rowids(&db);
    for c in added.iter_mut().step_by(5) {
        c.state.exit_code = 7;
        s.save_container(c).unwrap();
    }
    assert_eq!(rowids(&db), before, "saving a state moved rows");
    // Move every third state row to the end of the table, as `INSERT OR
    // REPLACE` did.
    let moved = db
        .execute(
            "UPDATE kv SET rowid = rowid + 1000000 WHERE rowid IN \
             (SELECT rowid FROM kv WHERE t = (SELECT t FROM kv WHERE v LIKE '{\"state\"%' LIMIT 1) \
              AND rowid % 3 = 0)",
            [],
        )
        .unwrap();
    assert!(moved > 50, "{moved}");
    let by_id = |mut records: Vec<ContainerRecord>| {
        records.sort_by(|a, b| a.config.id.cmp(&b.config.id));
        records
    };
    let added = by_id(added);
    assert_eq!(by_id(s.all_containers(true).unwrap()), added);
    s.set_namespace("four").unwrap();
    let four = s.all_containers(true).unwrap();
    assert_eq!(four.len(), 75);
    assert!(
        four.iter()
            .all(|c| c.config.namespace == "four" && c.state.pid % 4 == 0)
    );
    // A state that is gone is an inconsistent database, not a default state.
    s.set_namespace("").unwrap();
    let gone = &added[10];
    db.execute(
        "DELETE FROM kv WHERE k = ?1 AND v LIKE '{\"state\"%'",
        [gone.config.id.as_bytes()],
    )
    .unwrap();
    let err = s.all_containers(true).unwrap_err();
    assert!(err.to_string().contains("has no state"), "{err}");
    assert_eq!(s.all_containers(false).unwrap().len(), 300);
}

#[test]
fn sled_gives_up_waiting_after_the_timeout() {
    let f = Fixture::new(Kind::Sled);
    let holder = corral_state::SledState::open(f.path(), &db_config()).unwrap();
    let options = corral_state::StoreOptions {
        timeout: Duration::from_millis(300),
    };
    let waiting = corral_state::SledState::open_with(f.path(), &db_config(), &options).unwrap();
    let guard = holder.hold().unwrap();
    let start = Instant::now();
    let err = waiting.add_container(&ctr("blocked")).unwrap_err();
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    drop(guard);
    waiting.add_container(&ctr("unblocked")).unwrap();
    assert_eq!(holder.all_containers(false).unwrap().len(), 1);
}

#[test]
fn boxed_state_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<dyn State>();
    let shared: std::sync::Arc<dyn State> = std::sync::Arc::new(corral_state::InMemoryState::new());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let shared = shared.clone();
            std::thread::spawn(move || shared.add_container(&ctr(&format!("t{i}"))).unwrap())
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(shared.all_containers(false).unwrap().len(), 4);
}
