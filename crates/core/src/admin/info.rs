//! [`Runtime::info`]: podman's `info` report (libpod's `Runtime.info`): the host,
//! the store, the plugins and the version, with podman's JSON field names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use corral_define::ContainerStatus;
use corral_storage::ImageStore;
use serde::Serialize;

use super::version::{Version, go_arch};
use crate::error::Result;
use crate::runtime::Runtime;

/// Everything `info` shows (podman's `define.Info`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Info {
    pub host: HostInfo,
    pub store: StoreInfo,
    /// Search registries by kind; corral pulls from none.
    pub registries: BTreeMap<String, Vec<String>>,
    pub plugins: Plugins,
    pub version: Version,
}

/// The machine and the engine's parts on it (podman's `define.HostInfo`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostInfo {
    /// Go's name for the architecture (`amd64`).
    pub arch: String,
    pub cgroup_manager: String,
    /// `v1` or `v2`.
    pub cgroup_version: String,
    pub cgroup_controllers: Vec<String>,
    pub conmon: ConmonInfo,
    pub cpus: usize,
    pub distribution: DistributionInfo,
    pub event_logger: String,
    pub hostname: String,
    pub id_mappings: IdMappings,
    pub kernel: String,
    pub log_driver: String,
    /// Bytes available (`MemAvailable`).
    pub mem_free: u64,
    pub mem_total: u64,
    pub oci_runtime: OciRuntimeInfo,
    pub os: String,
    pub security: SecurityInfo,
    pub service_is_remote: bool,
    pub swap_free: u64,
    pub swap_total: u64,
    /// `1h 2m 3.45s`.
    pub uptime: String,
}

/// conmon's package, path and version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ConmonInfo {
    pub package: String,
    pub path: String,
    pub version: String,
}

/// The OCI runtime new containers get.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OciRuntimeInfo {
    pub name: String,
    pub package: String,
    pub path: String,
    pub version: String,
}

/// From `/etc/os-release`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DistributionInfo {
    pub distribution: String,
    pub version: String,
    pub codename: String,
}

/// The user namespace mappings of a rootless engine; `null` when rootful.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct IdMappings {
    pub gidmap: Option<Vec<IdMap>>,
    pub uidmap: Option<Vec<IdMap>>,
}

/// One range of a user namespace mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdMap {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityInfo {
    pub rootless: bool,
    pub seccomp_enabled: bool,
    /// Empty when the profile file is missing.
    pub seccomp_profile_path: String,
}

/// Images, containers and where they are kept (podman's `define.StoreInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreInfo {
    pub container_store: ContainerStoreInfo,
    pub graph_driver_name: String,
    pub graph_options: BTreeMap<String, String>,
    pub graph_root: PathBuf,
    pub image_copy_tmp_dir: PathBuf,
    pub image_store: ImageStoreInfo,
    pub run_root: PathBuf,
    pub volume_path: PathBuf,
}

/// Containers by status; `stopped` counts every one neither running nor paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ContainerStoreInfo {
    pub number: usize,
    pub paused: usize,
    pub running: usize,
    pub stopped: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImageStoreInfo {
    pub number: usize,
}

/// The plugins each kind offers; `authorization` is `null` as podman has none.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Plugins {
    pub volume: Vec<String>,
    pub network: Vec<String>,
    pub log: Vec<String>,
    pub authorization: Option<Vec<String>>,
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default().trim().to_owned()
}

/// A `/proc/meminfo` value in bytes.
fn meminfo(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn os_release(text: &str) -> DistributionInfo {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default()
    };
    DistributionInfo {
        distribution: field("ID"),
        version: field("VERSION_ID"),
        codename: field("VERSION_CODENAME"),
    }
}

const CGROUP2_CONTROLLERS: &str = "/sys/fs/cgroup/cgroup.controllers";

/// The controllers: cgroup v2's list, else those `/proc/cgroups` marks enabled.
fn cgroup_controllers() -> Vec<String> {
    if let Ok(list) = std::fs::read_to_string(CGROUP2_CONTROLLERS) {
        return list.split_whitespace().map(str::to_owned).collect();
    }
    enabled_v1_controllers(&std::fs::read_to_string("/proc/cgroups").unwrap_or_default())
}

fn enabled_v1_controllers(proc_cgroups: &str) -> Vec<String> {
    proc_cgroups
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.get(3) == Some(&"1")).then(|| fields[0].to_owned())
        })
        .collect()
}

/// `/proc/uptime` as podman words it.
fn uptime(proc_uptime: &str) -> String {
    let seconds: f64 = proc_uptime
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    let whole = seconds as u64;
    format!("{}h {}m {:.2}s", whole / 3600, (whole % 3600) / 60, seconds % 60.0)
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

impl Runtime {
    /// podman's `info`: the host, the store (containers counted by status, brought up
    /// to date with conmon's exit files), the plugins and this build's version.
    pub async fn info(&self) -> Result<Info> {
        self.ensure_valid()?;
        let options = self.options();
        let oci = self.oci_runtime().runtime_info().await?;
        let conmon = oci.conmon.unwrap_or_default();
        let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mut containers = ContainerStoreInfo::default();
        for ctr in self.get_containers()? {
            containers.number += 1;
            match ctr.status().await? {
                ContainerStatus::Running => containers.running += 1,
                ContainerStatus::Paused => containers.paused += 1,
                _ => containers.stopped += 1,
            }
        }
        let seccomp = options.seccomp_profile.exists();
        let version = Version::current();
        let host = HostInfo {
            arch: go_arch(std::env::consts::ARCH).to_owned(),
            cgroup_manager: options.cgroup_manager.as_str().to_owned(),
            cgroup_version: if Path::new(CGROUP2_CONTROLLERS).exists() {
                "v2"
            } else {
                "v1"
            }
            .to_owned(),
            cgroup_controllers: cgroup_controllers(),
            conmon: ConmonInfo {
                package: conmon.package,
                path: conmon.path,
                version: conmon.version,
            },
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            distribution: os_release(&std::fs::read_to_string("/etc/os-release").unwrap_or_default()),
            event_logger: options.events_logger.as_str().into(),
            hostname: read_trimmed("/proc/sys/kernel/hostname"),
            id_mappings: IdMappings::default(),
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            log_driver: "k8s-file".into(),
            mem_free: meminfo(&mem, "MemAvailable"),
            mem_total: meminfo(&mem, "MemTotal"),
            oci_runtime: OciRuntimeInfo {
                name: oci.runtime.name,
                package: oci.runtime.package,
                path: oci.runtime.path,
                version: oci.runtime.version,
            },
            os: version.os.clone(),
            security: SecurityInfo {
                rootless: !is_root(),
                seccomp_enabled: seccomp,
                seccomp_profile_path: if seccomp {
                    options.seccomp_profile.display().to_string()
                } else {
                    String::new()
                },
            },
            service_is_remote: false,
            swap_free: meminfo(&mem, "SwapFree"),
            swap_total: meminfo(&mem, "SwapTotal"),
            uptime: uptime(&read_trimmed("/proc/uptime")),
        };
        let store = StoreInfo {
            container_store: containers,
            graph_driver_name: self.storage()?.driver().as_str().to_owned(),
            graph_options: BTreeMap::new(),
            graph_root: self.storage()?.root().to_path_buf(),
            image_copy_tmp_dir: PathBuf::from("/var/tmp"),
            image_store: ImageStoreInfo {
                number: self.storage()?.list()?.len(),
            },
            run_root: self.storage()?.run_root().to_path_buf(),
            volume_path: options.volume_path(),
        };
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Ok(Info {
            host,
            store,
            registries: BTreeMap::new(),
            plugins: Plugins {
                volume: names(&["local"]),
                network: Vec::new(),
                log: names(&["k8s-file"]),
                authorization: None,
            },
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_facts_parse() {
        let mem = "MemTotal:       16 kB\nMemAvailable:    2 kB\nSwapFree: 0 kB\n";
        assert_eq!((meminfo(mem, "MemTotal"), meminfo(mem, "MemAvailable")), (16384, 2048));
        assert_eq!(meminfo(mem, "SwapTotal"), 0);
        let release = "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";
        assert_eq!(
            os_release(release),
            DistributionInfo {
                distribution: "debian".into(),
                version: "12".into(),
                codename: "bookworm".into()
            }
        );
        assert_eq!(uptime("3723.45 100.0"), "1h 2m 3.45s");
        let cgroups = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\nrdma\t0\t1\t0\n";
        assert_eq!(enabled_v1_controllers(cgroups), ["cpuset"]);
    }

    #[test]
    fn json_names_are_podmans() {
        let value = serde_json::to_value(SecurityInfo::default()).unwrap();
        assert_eq!(value["seccompProfilePath"], "");
        let value = serde_json::to_value(Plugins::default()).unwrap();
        assert!(value["authorization"].is_null());
        let value = serde_json::to_value(IdMappings::default()).unwrap();
        assert_eq!(value, serde_json::json!({"gidmap": null, "uidmap": null}));
    }
}
