//! A pod's record: [`PodConfig`] (with its [`InfraContainerConfig`]) and [`PodState`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::network::{PerNetworkOptions, PortMapping};

/// Everything fixed when a pod is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodConfig {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub cgroup_parent: String,
    pub lock_id: u32,
    pub created_time: DateTime<Utc>,
    pub hostname: String,
    /// Kernel namespaces the members share with the infra container.
    pub share_cgroup: bool,
    pub share_ipc: bool,
    pub share_net: bool,
    pub share_mount: bool,
    pub share_pid: bool,
    pub share_uts: bool,
    pub share_user: bool,
    /// `continue` (default) or `stop`: what happens when the last member exits.
    pub exit_policy: String,
    pub has_infra: bool,
    pub infra: InfraContainerConfig,
    pub create_command: Vec<String>,
}

/// How the pod's infra container is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct InfraContainerConfig {
    pub image: String,
    pub command: Vec<String>,
    pub conmon_pid_file: String,
    pub no_network: bool,
    pub host_network: bool,
    pub static_ip: Option<String>,
    pub static_mac: Option<String>,
    pub port_bindings: Vec<PortMapping>,
    pub dns_server: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_option: Vec<String>,
    pub host_add: Vec<String>,
    pub networks: BTreeMap<String, PerNetworkOptions>,
}

/// Everything about a pod that changes while it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodState {
    pub cgroup_path: String,
    pub infra_container_id: Option<String>,
}
