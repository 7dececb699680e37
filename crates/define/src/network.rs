//! Network attachment types shared by the state store, the network backend and core.

use serde::{Deserialize, Serialize};

/// Options of one container's attachment to one network (podman's PerNetworkOptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PerNetworkOptions {
    pub static_ips: Vec<String>,
    pub aliases: Vec<String>,
    pub static_mac: Option<String>,
    /// Interface name inside the container (`eth0`, ...).
    pub interface_name: String,
}

/// A published port (`-p host_ip:host_port:container_port/protocol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PortMapping {
    pub host_ip: String,
    pub container_port: u16,
    pub host_port: u16,
    /// Number of consecutive ports mapped; 0 and 1 both mean one.
    pub range: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}
