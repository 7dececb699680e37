//! A pod's record: [`PodConfig`] (with its [`InfraContainerConfig`]) and [`PodState`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::network::{PerNetworkOptions, PortMapping};

/// Everything fixed when a pod is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroup_parent: String,
    pub lock_id: u32,
    pub created_time: DateTime<Utc>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    /// Kernel namespaces the members share with the infra container.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_cgroup: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_ipc: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_net: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_mount: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_pid: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_uts: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_user: bool,
    /// `continue` (default) or `stop`: what happens when the last member exits.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub exit_policy: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_infra: bool,
    pub infra: InfraContainerConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub create_command: Vec<String>,
}

/// How the pod's infra container is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct InfraContainerConfig {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub conmon_pid_file: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_network: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub host_network: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_mac: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_bindings: Vec<PortMapping>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_server: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_option: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_add: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, PerNetworkOptions>,
}

/// Everything about a pod that changes while it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PodState {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroup_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub infra_container_id: Option<String>,
}
