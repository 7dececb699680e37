//! A container's record: the immutable [`ContainerConfig`] and the mutable
//! [`ContainerState`], split as libpod splits them.
//!
//! Their strings are [`CompactString`]s: most of them (names, runtimes,
//! drivers, command words, labels) fit in its 24 bytes, so listing 10,000
//! containers makes about 20 heap allocations per record instead of 55.

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::exec::ExecSession;
use crate::network::{PerNetworkOptions, PortMapping};
use crate::raw_json::RawJson;
use crate::status::ContainerStatus;

/// Everything fixed when a container is created. Only the state store's
/// Rewrite calls may change it afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerConfig {
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub id: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub name: CompactString,
    /// ID of the pod this container belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<CompactString>,
    /// libpod namespace (not a kernel namespace); empty is the default one.
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub namespace: CompactString,
    pub lock_id: u32,
    pub created_time: DateTime<Utc>,
    /// Name of the OCI runtime (`crun`, `runc`) chosen at creation.
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub oci_runtime: CompactString,
    /// The generated OCI runtime spec, kept as JSON text so this crate does not
    /// pin an OCI library version and listings do not parse it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<RawJson>,
    pub root_fs: ContainerRootFsConfig,
    pub security: ContainerSecurityConfig,
    pub namespaces: ContainerNamespaceConfig,
    pub network: ContainerNetworkConfig,
    pub image: ContainerImageConfig,
    pub misc: ContainerMiscConfig,
}

impl ContainerConfig {
    /// IDs of every container this one depends on: the owners of the kernel
    /// namespaces it joins and its explicit dependencies, without repeats.
    pub fn dependencies(&self) -> Vec<String> {
        let ns = &self.namespaces;
        let mut deps: Vec<String> = [
            &ns.ipc_ns_ctr,
            &ns.mount_ns_ctr,
            &ns.net_ns_ctr,
            &ns.pid_ns_ctr,
            &ns.user_ns_ctr,
            &ns.uts_ns_ctr,
            &ns.cgroup_ns_ctr,
        ]
        .into_iter()
        .flatten()
        .chain(self.misc.dependencies.iter())
        .map(|id| id.to_string())
        .collect();
        deps.sort();
        deps.dedup();
        deps
    }
}

/// The container's root filesystem and what is mounted into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerRootFsConfig {
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub rootfs_image_id: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub rootfs_image_name: CompactString,
    /// A host directory used as the root filesystem instead of an image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<CompactString>,
    /// Directory for the container's persistent files (bundle, logs, ...).
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub static_dir: CompactString,
    /// Destinations of the user's bind and tmpfs mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub named_volumes: Vec<NamedVolumeMount>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub shm_dir: CompactString,
    pub shm_size: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_shm: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub storage_driver: CompactString,
}

/// A named volume mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NamedVolumeMount {
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub name: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub dest: CompactString,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<CompactString>,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub sub_path: CompactString,
}

/// Identity and privileges of the container's process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerSecurityConfig {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub process_label: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub mount_label: CompactString,
    /// `--user` as given (`name`, `uid`, `uid:gid`).
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub user: CompactString,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<CompactString>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_new_privileges: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub seccomp_profile_path: CompactString,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub uid_map: Vec<IdMap>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gid_map: Vec<IdMap>,
}

/// One line of a user-namespace ID mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IdMap {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

/// Containers whose kernel namespaces this one joins (`--network container:X`, pods).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerNamespaceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc_ns_ctr: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_ns_ctr: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_ns_ctr: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid_ns_ctr: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_ns_ctr: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uts_ns_ctr: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_ns_ctr: Option<CompactString>,
}

/// Network settings fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerNetworkConfig {
    /// The container gets a network namespace of its own.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub create_net_ns: bool,
    /// `host`, `none`, `bridge`, `container:ID`, `ns:PATH`, or empty for the default.
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub network_mode: CompactString,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose_ports: Vec<CompactString>,
    /// Networks joined at creation. The state store keeps the live set
    /// apart (NetworkConnect/Disconnect), so this is only the starting point.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<CompactString, PerNetworkOptions>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_server: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_option: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_add: Vec<CompactString>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub use_image_resolv_conf: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub use_image_hosts: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub hostname: CompactString,
}

/// What the container runs, as merged from the image and the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerImageConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_volumes: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<CompactString>,
}

/// Everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerMiscConfig {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stdin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub terminal: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<CompactString, CompactString>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<CompactString, CompactString>,
    pub stop_signal: u32,
    pub stop_timeout: u32,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub log_path: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub log_driver: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub log_tag: CompactString,
    /// Largest log file in bytes; -1 is unlimited.
    pub log_size: i64,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub conmon_pid_file: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub restart_policy: CompactString,
    pub restart_retries: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_remove: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exit_command: Vec<CompactString>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_infra: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub init: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub init_path: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub umask: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub timezone: CompactString,
    /// Explicit dependencies (`--requires`); namespace owners are implied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub create_command: Vec<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
}

/// Everything about a container that changes while it lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerState {
    pub state: ContainerStatus,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub config_path: CompactString,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub run_dir: CompactString,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mounted: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub mountpoint: CompactString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_time: Option<DateTime<Utc>>,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exited: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub oom_killed: bool,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub error: CompactString,
    pub pid: i32,
    pub conmon_pid: i32,
    /// Exec sessions by ID; the store also indexes their IDs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exec_sessions: BTreeMap<String, ExecSession>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_ns: Option<CompactString>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub network_status: BTreeMap<CompactString, serde_json::Value>,
    /// Files generated for the container (/etc/hosts, ...) by destination.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub bind_mounts: BTreeMap<CompactString, CompactString>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stopped_by_user: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restart_policy_match: bool,
    pub restart_count: u32,
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub cgroup_path: CompactString,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub checkpointed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpointed_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_time: Option<DateTime<Utc>>,
}

impl ContainerState {
    /// What State.Refresh does after a reboot: nothing of the runtime
    /// survived, so running and paused containers become exited, created
    /// ones configured, and every runtime detail is forgotten.
    pub fn reset_after_reboot(&mut self) {
        use ContainerStatus::*;
        self.state = match self.state {
            Running | Paused | Stopping | Stopped => Exited,
            Created => Configured,
            other => other,
        };
        self.pid = 0;
        self.conmon_pid = 0;
        self.mounted = false;
        self.mountpoint.clear();
        self.exec_sessions.clear();
        self.net_ns = None;
        self.network_status.clear();
        self.bind_mounts.clear();
        self.oom_killed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_are_unique_and_include_namespace_owners() {
        let mut c = ContainerConfig::default();
        c.namespaces.net_ns_ctr = Some("b".into());
        c.namespaces.ipc_ns_ctr = Some("b".into());
        c.misc.dependencies = vec!["a".into()];
        assert_eq!(c.dependencies(), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn reboot_reset() {
        let mut s = ContainerState {
            state: ContainerStatus::Running,
            pid: 42,
            ..Default::default()
        };
        s.reset_after_reboot();
        assert_eq!(s.state, ContainerStatus::Exited);
        assert_eq!(s.pid, 0);
        let mut s = ContainerState {
            state: ContainerStatus::Created,
            ..Default::default()
        };
        s.reset_after_reboot();
        assert_eq!(s.state, ContainerStatus::Configured);
    }

    #[test]
    fn config_round_trips_and_tolerates_missing_fields() {
        let mut c = ContainerConfig {
            id: "x".into(),
            name: "n".into(),
            ..Default::default()
        };
        c.misc.labels.insert("k".into(), "v".into());
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<ContainerConfig>(&json).unwrap(), c);
        let sparse: ContainerConfig = serde_json::from_str(r#"{"id":"y"}"#).unwrap();
        assert_eq!(sparse.id, "y");
    }
}
