//! Network attachment types shared by the state store, the network backend and core.

use serde::{Deserialize, Serialize};

/// Options of one container's attachment to one network (podman's PerNetworkOptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PerNetworkOptions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_ips: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_mac: Option<String>,
    /// Interface name inside the container (`eth0`, ...).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interface_name: String,
}

/// A published port (`-p host_ip:host_port:container_port/protocol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PortMapping {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
    pub container_port: u16,
    pub host_port: u16,
    /// Number of consecutive ports mapped; 0 and 1 both mean one.
    pub range: u16,
    /// `tcp`, `udp` or `sctp`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}
