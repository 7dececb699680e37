//! OCI runtime spec generation, in two steps as libpod does it: [`base`] at creation
//! from what the user and the image asked (kept in the container's config), and
//! [`finalize`] at init, once the root filesystem is mounted and the user resolved.

pub(crate) mod caps;
pub(crate) mod default_mounts;
pub(crate) mod hooks;
pub(crate) mod seccomp;
pub(crate) mod sysctl;
pub(crate) mod timezone;
pub(crate) mod user;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rustix::process::{Resource, getrlimit};
use serde_json::{Value, json};

use crate::container_spec::{MountKind, MountSpec, NetworkMode, Ulimit};
use crate::error::{CoreError, Result};

/// The OCI runtime spec version written.
pub(crate) const OCI_VERSION: &str = "1.0.2-dev";

/// Where the init binary is mounted in `--init` containers.
pub(crate) const INIT_DEST: &str = "/run/podman-init";

/// podman's default /dev/shm size.
pub(crate) const DEFAULT_SHM_SIZE: i64 = 64 * 1024 * 1024;

/// podman's masked paths: unreadable in unprivileged containers.
const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/fs/selinux",
    "/sys/dev/block",
];

/// podman's read-only paths in unprivileged containers.
const READONLY_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// What the base spec is made of; filled by container creation after merging the image.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpecInput {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub terminal: bool,
    pub hostname: String,
    pub read_only: bool,
    pub privileged: bool,
    /// The user string is root's (`""`, `root`, `0`, `0:...`): root gets the bounding set
    /// as effective capabilities, others only what was explicitly added.
    pub user_is_root: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub no_new_privileges: bool,
    pub ulimits: Vec<Ulimit>,
    pub mounts: Vec<MountSpec>,
    pub shm_size: i64,
    pub network: NetworkMode,
    pub cgroups_path: Option<String>,
    pub memory: Option<i64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    /// The seccomp profile file to load, if any.
    pub seccomp_profile: Option<PathBuf>,
    /// Host path of the init binary for `--init`.
    pub init_path: Option<PathBuf>,
    pub annotations: BTreeMap<String, String>,
    /// Kernel parameters of the container's namespaces (`--sysctl`), already checked.
    pub sysctls: BTreeMap<String, String>,
}

/// Go's wording of an I/O error (`no such file or directory`), for podman's messages.
pub fn go_io_text(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn mount(dest: &str, kind: &str, source: &str, options: &[&str]) -> Value {
    json!({"destination": dest, "type": kind, "source": source, "options": options})
}

/// The caller's hard limit of `resource`, which a container may not exceed.
fn host_hard_limit(resource: &str) -> Option<u64> {
    let res = match resource {
        "RLIMIT_NOFILE" => Resource::Nofile,
        "RLIMIT_NPROC" => Resource::Nproc,
        "RLIMIT_CORE" => Resource::Core,
        "RLIMIT_MEMLOCK" => Resource::Memlock,
        "RLIMIT_STACK" => Resource::Stack,
        _ => return None,
    };
    getrlimit(res).maximum
}

/// podman's default rlimits (nofile 1048576, nproc 4194304), then the user's, none above
/// the caller's hard limits: the runtime cannot raise them and would fail to start.
fn rlimits(ulimits: &[Ulimit]) -> Result<Vec<Value>> {
    let mut limits: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (res, want) in [("RLIMIT_NOFILE", 1_048_576u64), ("RLIMIT_NPROC", 4_194_304u64)] {
        let v = host_hard_limit(res).map_or(want, |hard| want.min(hard));
        limits.insert(res, (v, v));
    }
    for u in ulimits {
        if let Some(hard) = host_hard_limit(u.resource)
            && u.hard > hard
        {
            return Err(CoreError::InvalidArg(format!(
                "ulimit {} hard limit {} is above this process's hard limit {hard}",
                u.resource, u.hard
            )));
        }
        limits.insert(u.resource, (u.soft, u.hard));
    }
    Ok(limits
        .into_iter()
        .map(|(r, (soft, hard))| json!({"type": r, "soft": soft, "hard": hard}))
        .collect())
}

fn cgroup_v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// The spec as far as it is known at creation.
pub(crate) fn base(input: &SpecInput) -> Result<Value> {
    let bounding = caps::bounding_set(input.privileged, &input.cap_add, &input.cap_drop)?;
    let effective = if input.user_is_root || input.privileged {
        bounding.clone()
    } else {
        let added = input
            .cap_add
            .iter()
            .map(|c| caps::normalize(c))
            .collect::<Result<Vec<_>>>()?;
        bounding.iter().filter(|c| added.contains(c)).cloned().collect()
    };
    let mut args = input.args.clone();
    let mut mounts = Vec::new();
    let user_dests: Vec<&str> = input.mounts.iter().map(|m| m.destination.as_str()).collect();
    let ro_sys = if input.privileged { "rw" } else { "ro" };
    let shm = format!("size={}k", input.shm_size.max(1) / 1024);
    let defaults = [
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm],
        ),
        mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", ro_sys]),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["rprivate", "nosuid", "noexec", "nodev", "relatime", ro_sys],
        ),
    ];
    for m in defaults {
        if !user_dests.contains(&m["destination"].as_str().unwrap_or_default()) {
            mounts.push(m);
        }
    }
    if input.read_only {
        for dest in ["/tmp", "/var/tmp", "/run"] {
            if !user_dests.contains(&dest) {
                mounts.push(mount(
                    dest,
                    "tmpfs",
                    "tmpfs",
                    &["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"],
                ));
            }
        }
    }
    for m in &input.mounts {
        if !m.destination.starts_with('/') {
            return Err(CoreError::InvalidArg(format!(
                "mount destination {:?} is not an absolute path",
                m.destination
            )));
        }
        let value = match m.kind {
            MountKind::Bind => {
                if !m.source.is_absolute() {
                    return Err(CoreError::InvalidArg(format!(
                        "bind mount source {} is not an absolute path",
                        m.source.display()
                    )));
                }
                std::fs::metadata(&m.source).map_err(|e| CoreError::io("checking bind mount source", &m.source, e))?;
                let mut opts = vec!["rbind".to_string(), "rprivate".to_string()];
                opts.extend(m.options.iter().filter(|o| *o != "bind" && *o != "rbind").cloned());
                json!({"destination": m.destination, "type": "bind", "source": m.source, "options": opts})
            }
            MountKind::Tmpfs => {
                let mut opts: Vec<String> = ["rw", "noexec", "nosuid", "nodev"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                opts.extend(m.options.iter().cloned());
                json!({"destination": m.destination, "type": "tmpfs", "source": "tmpfs", "options": opts})
            }
        };
        mounts.push(value);
    }
    if let Some(init) = &input.init_path {
        mounts.push(json!({"destination": INIT_DEST, "type": "bind", "source": init,
                           "options": ["bind", "rprivate", "ro"]}));
        args.splice(0..0, [INIT_DEST.to_string(), "--".to_string()]);
    }

    let mut namespaces = vec![json!({"type": "pid"}), json!({"type": "ipc"}), json!({"type": "uts"})];
    namespaces.push(json!({"type": "mount"}));
    if input.network != NetworkMode::Host {
        namespaces.push(json!({"type": "network"}));
    }
    if cgroup_v2() {
        namespaces.push(json!({"type": "cgroup"}));
    }

    let mut linux = serde_json::Map::new();
    linux.insert("namespaces".into(), json!(namespaces));
    let mut resources = serde_json::Map::new();
    if !input.privileged {
        resources.insert("devices".into(), json!([{"allow": false, "access": "rwm"}]));
        linux.insert("maskedPaths".into(), json!(MASKED_PATHS));
        linux.insert("readonlyPaths".into(), json!(READONLY_PATHS));
    }
    if let Some(mem) = input.memory {
        resources.insert("memory".into(), json!({"limit": mem}));
    }
    if let Some(cpus) = input.cpus {
        if cpus.is_nan() || cpus <= 0.0 {
            return Err(CoreError::InvalidArg(format!("--cpus must be positive, not {cpus}")));
        }
        let period: u64 = 100_000;
        resources.insert(
            "cpu".into(),
            json!({"quota": (cpus * period as f64).round() as i64, "period": period}),
        );
    }
    if let Some(pids) = input.pids_limit {
        resources.insert("pids".into(), json!({"limit": pids}));
    }
    if input.cgroups_path.is_some() {
        linux.insert("resources".into(), json!(resources));
    } else if input.memory.is_some() || input.cpus.is_some() || input.pids_limit.is_some() {
        return Err(CoreError::InvalidArg(
            "resource limits need cgroups, but the cgroup manager is disabled".into(),
        ));
    }
    if let Some(path) = &input.cgroups_path {
        linux.insert("cgroupsPath".into(), json!(path));
    }
    if !input.sysctls.is_empty() {
        linux.insert("sysctl".into(), json!(input.sysctls));
    }
    // The profile (tens of kB of JSON) is checked here, so a bad one fails
    // `create`, but added only by `finalize`: every listing decodes the base spec.
    if let Some(profile) = &input.seccomp_profile {
        seccomp::load(profile, &bounding)?;
    }

    Ok(json!({
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": input.terminal,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": input.env,
            "cwd": input.cwd,
            "capabilities": {"bounding": bounding, "effective": effective, "permitted": effective},
            "rlimits": rlimits(&input.ulimits)?,
            "noNewPrivileges": input.no_new_privileges,
        },
        "root": {"path": "", "readonly": input.read_only},
        "hostname": input.hostname,
        "mounts": mounts,
        "annotations": input.annotations,
        "linux": linux,
    }))
}

/// Bind mounts of generated files (`/etc/hosts`, ...) added at init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileBind {
    pub destination: String,
    pub source: PathBuf,
}

/// The spec given to the runtime: the base with the root filesystem, the resolved
/// user, `HOME`, the generated files mounted (unless the user mounted something
/// there), and the seccomp profile for the process's bounding capabilities.
pub(crate) fn finalize(
    base: &Value,
    rootfs: &Path,
    user: &user::ResolvedUser,
    binds: &[FileBind],
    seccomp_profile: Option<&Path>,
) -> Result<Value> {
    let mut spec = base.clone();
    if let Some(profile) = seccomp_profile {
        let bounding: Vec<String> = spec["process"]["capabilities"]["bounding"]
            .as_array()
            .map(|caps| caps.iter().filter_map(|c| c.as_str().map(String::from)).collect())
            .unwrap_or_default();
        spec["linux"]["seccomp"] = seccomp::load(profile, &bounding)?;
    }
    spec["root"]["path"] = json!(rootfs);
    spec["process"]["user"] = json!({"uid": user.uid, "gid": user.gid, "additionalGids": user.additional_gids});
    let env = spec["process"]["env"]
        .as_array_mut()
        .ok_or_else(|| CoreError::Internal("stored OCI spec has no process.env list".into()))?;
    if !env.iter().any(|e| e.as_str().is_some_and(|s| s.starts_with("HOME="))) {
        env.push(json!(format!("HOME={}", user.home)));
    }
    let mounts = spec["mounts"]
        .as_array_mut()
        .ok_or_else(|| CoreError::Internal("stored OCI spec has no mounts list".into()))?;
    for b in binds {
        if !mounts.iter().any(|m| m["destination"] == json!(b.destination)) {
            mounts.push(json!({"destination": b.destination, "type": "bind", "source": b.source,
                               "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"]}));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SpecInput {
        SpecInput {
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            hostname: "h".into(),
            shm_size: DEFAULT_SHM_SIZE,
            user_is_root: true,
            cgroups_path: Some("/libpod_parent/libpod-x".into()),
            ..Default::default()
        }
    }

    fn dests(spec: &Value) -> Vec<String> {
        spec["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn defaults_follow_podman() {
        let spec = base(&input()).unwrap();
        assert_eq!(spec["ociVersion"], OCI_VERSION);
        assert_eq!(
            dests(&spec),
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/dev/mqueue",
                "/dev/shm",
                "/sys",
                "/sys/fs/cgroup"
            ]
        );
        assert!(
            spec["mounts"][4]["options"]
                .as_array()
                .unwrap()
                .contains(&json!("size=65536k"))
        );
        assert_eq!(
            spec["process"]["capabilities"]["bounding"].as_array().unwrap().len(),
            11
        );
        assert_eq!(spec["linux"]["cgroupsPath"], "/libpod_parent/libpod-x");
        assert!(
            spec["linux"]["maskedPaths"]
                .as_array()
                .unwrap()
                .contains(&json!("/proc/kcore"))
        );
        let ns: Vec<&str> = spec["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert!(ns.contains(&"network") && ns.contains(&"pid"));
        let nofile = spec["process"]["rlimits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "RLIMIT_NOFILE")
            .unwrap()["hard"]
            .as_u64()
            .unwrap();
        assert!(nofile <= getrlimit(Resource::Nofile).maximum.unwrap_or(u64::MAX));
    }

    #[test]
    fn options_change_the_spec() {
        let mut i = input();
        i.network = NetworkMode::Host;
        i.read_only = true;
        i.memory = Some(1 << 26);
        i.cpus = Some(1.5);
        i.pids_limit = Some(100);
        i.init_path = Some("/usr/bin/catatonit".into());
        i.sysctls = [("kernel.shmmax".to_string(), "100".to_string())].into();
        i.user_is_root = false;
        i.cap_add = vec!["NET_ADMIN".into()];
        i.mounts = vec![MountSpec {
            kind: MountKind::Tmpfs,
            source: PathBuf::new(),
            destination: "/data".into(),
            options: vec!["size=1m".into()],
        }];
        let spec = base(&i).unwrap();
        assert_eq!(spec["root"]["readonly"], true);
        assert!(dests(&spec).contains(&"/tmp".to_string()) && dests(&spec).contains(&"/data".to_string()));
        assert_eq!(spec["process"]["args"], json!([INIT_DEST, "--", "sh"]));
        assert_eq!(spec["linux"]["resources"]["cpu"]["quota"], 150_000);
        assert_eq!(spec["linux"]["sysctl"], json!({"kernel.shmmax": "100"}));
        assert_eq!(spec["linux"]["resources"]["memory"]["limit"], 1 << 26);
        assert_eq!(spec["process"]["capabilities"]["effective"], json!(["CAP_NET_ADMIN"]));
        assert!(
            !spec["linux"]["namespaces"]
                .as_array()
                .unwrap()
                .contains(&json!({"type": "network"}))
        );

        let mut i = input();
        i.ulimits = vec![Ulimit {
            resource: "RLIMIT_NOFILE",
            soft: u64::MAX - 1,
            hard: u64::MAX - 1,
        }];
        assert!(base(&i).is_err());
        let mut i = input();
        i.cgroups_path = None;
        i.memory = Some(1);
        assert!(base(&i).is_err());
    }

    #[test]
    fn finalize_sets_root_user_home_and_binds() {
        let spec = base(&input()).unwrap();
        let user = user::ResolvedUser {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![10],
            home: "/home/u".into(),
        };
        let binds = [FileBind {
            destination: "/etc/hosts".into(),
            source: "/b/hosts".into(),
        }];
        let out = finalize(&spec, Path::new("/merged"), &user, &binds, None).unwrap();
        assert_eq!(out["root"]["path"], "/merged");
        assert_eq!(out["process"]["user"]["uid"], 1000);
        assert!(
            out["process"]["env"]
                .as_array()
                .unwrap()
                .contains(&json!("HOME=/home/u"))
        );
        assert!(dests(&out).contains(&"/etc/hosts".to_string()));
    }
}
