//! Network attachment types shared by the state store, the network backend and core.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// Options of one container's attachment to one network (podman's PerNetworkOptions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PerNetworkOptions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_ips: Vec<CompactString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_mac: Option<CompactString>,
    /// Interface name inside the container (`eth0`, ...).
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub interface_name: CompactString,
}

/// A published port (`-p host_ip:host_port:container_port/protocol`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PortMapping {
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub host_ip: CompactString,
    pub container_port: u16,
    pub host_port: u16,
    /// Number of consecutive ports mapped; 0 and 1 both mean one.
    pub range: u16,
    /// `tcp`, `udp` or `sctp`.
    #[serde(skip_serializing_if = "CompactString::is_empty")]
    pub protocol: CompactString,
}
