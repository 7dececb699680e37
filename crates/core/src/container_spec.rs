//! [`ContainerSpec`]: what `corral create` asks for, before the image's defaults are merged in.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::CoreError;

/// The network a container gets until real networking arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    /// A network namespace of its own with only a loopback device (the default).
    #[default]
    Private,
    /// Its own network namespace, explicitly without networks (`--network none`).
    None,
    /// The host's network namespace (`--network host`).
    Host,
}

impl NetworkMode {
    /// podman's name for the mode, as recorded in the container's config.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Private => "private",
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
        }
    }
}

impl FromStr for NetworkMode {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        match s {
            "" | "private" | "bridge" | "slirp4netns" | "pasta" => Ok(NetworkMode::Private),
            "none" => Ok(NetworkMode::None),
            "host" => Ok(NetworkMode::Host),
            other => Err(CoreError::InvalidArg(format!("unsupported network mode {other:?}"))),
        }
    }
}

/// What happens when the container's process exits (`--restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    #[default]
    No,
    /// Restart after a non-zero exit, at most `max_retries` times (0: no limit).
    OnFailure {
        max_retries: u32,
    },
    Always,
    /// Like `Always`, but not after the user stopped the container.
    UnlessStopped,
}

impl RestartPolicy {
    /// The policy's name as podman records it (`no`, `on-failure`, `always`, `unless-stopped`).
    pub fn name(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure { .. } => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }

    pub(crate) fn retries(self) -> u32 {
        match self {
            RestartPolicy::OnFailure { max_retries } => max_retries,
            _ => 0,
        }
    }

    /// Rebuilds the policy from its recorded name and retry count.
    pub(crate) fn from_record(name: &str, retries: u32) -> RestartPolicy {
        match name {
            "on-failure" => RestartPolicy::OnFailure { max_retries: retries },
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            _ => RestartPolicy::No,
        }
    }
}

impl FromStr for RestartPolicy {
    type Err = CoreError;

    /// `no`, `on-failure[:N]`, `always`, `unless-stopped`.
    fn from_str(s: &str) -> Result<Self, CoreError> {
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let policy = match name {
            "" | "no" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => {
                let max_retries = match count {
                    Some(c) => c
                        .parse::<u32>()
                        .map_err(|_| CoreError::InvalidArg(format!("restart count {c:?} is not a number")))?,
                    None => 0,
                };
                return Ok(RestartPolicy::OnFailure { max_retries });
            }
            other => return Err(CoreError::InvalidArg(format!("invalid restart policy {other:?}"))),
        };
        if count.is_some() {
            return Err(CoreError::InvalidArg(format!(
                "restart policy {name:?} takes no retry count; only on-failure does"
            )));
        }
        Ok(policy)
    }
}

/// What kind of mount a [`MountSpec`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A host path bound into the container (`-v /src:/dst`, `--mount type=bind`).
    Bind,
    /// A fresh tmpfs (`--tmpfs /dst`).
    Tmpfs,
}

/// One user mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    pub kind: MountKind,
    /// Host path for binds; ignored for tmpfs.
    pub source: PathBuf,
    pub destination: String,
    /// Mount options (`ro`, `size=64m`, `mode=1777`, ...).
    pub options: Vec<String>,
}

/// A volume mounted into a container (`-v NAME:/dest`, `-v /dest`, `--mount type=volume`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VolumeMount {
    /// The named volume, made when missing; None: an anonymous volume for this container.
    pub name: Option<String>,
    pub destination: String,
    /// Mount options (`ro`, `rw`, ...).
    pub options: Vec<String>,
}

/// One resource limit (`--ulimit nofile=1024:2048`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimit {
    /// `RLIMIT_NOFILE`, ... (the OCI spelling).
    pub resource: &'static str,
    pub soft: u64,
    pub hard: u64,
}

/// The rlimit names `--ulimit` takes, with their OCI spelling.
const ULIMIT_NAMES: &[(&str, &str)] = &[
    ("core", "RLIMIT_CORE"),
    ("cpu", "RLIMIT_CPU"),
    ("data", "RLIMIT_DATA"),
    ("fsize", "RLIMIT_FSIZE"),
    ("locks", "RLIMIT_LOCKS"),
    ("memlock", "RLIMIT_MEMLOCK"),
    ("msgqueue", "RLIMIT_MSGQUEUE"),
    ("nice", "RLIMIT_NICE"),
    ("nofile", "RLIMIT_NOFILE"),
    ("nproc", "RLIMIT_NPROC"),
    ("rss", "RLIMIT_RSS"),
    ("rtprio", "RLIMIT_RTPRIO"),
    ("rttime", "RLIMIT_RTTIME"),
    ("sigpending", "RLIMIT_SIGPENDING"),
    ("stack", "RLIMIT_STACK"),
    ("as", "RLIMIT_AS"),
];

impl FromStr for Ulimit {
    type Err = CoreError;

    /// `name=soft[:hard]`; `-1` is unlimited.
    fn from_str(s: &str) -> Result<Self, CoreError> {
        let bad = || CoreError::InvalidArg(format!("invalid ulimit {s:?}: expected name=soft[:hard]"));
        let (name, values) = s.split_once('=').ok_or_else(bad)?;
        let resource = ULIMIT_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| *r)
            .ok_or_else(|| CoreError::InvalidArg(format!("invalid ulimit type {name:?}")))?;
        let parse = |v: &str| -> Result<u64, CoreError> {
            if v == "-1" {
                return Ok(u64::MAX);
            }
            v.parse::<u64>().map_err(|_| bad())
        };
        let (soft, hard) = match values.split_once(':') {
            Some((s, h)) => (parse(s)?, parse(h)?),
            None => {
                let v = parse(values)?;
                (v, v)
            }
        };
        if soft > hard {
            return Err(CoreError::InvalidArg(format!(
                "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
            )));
        }
        Ok(Ulimit { resource, soft, hard })
    }
}

/// `--security-opt seccomp=...`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seccomp {
    /// The engine's default profile, when installed.
    #[default]
    Default,
    Unconfined,
    /// A profile file of one's own.
    Profile(PathBuf),
}

pub use crate::spec::sysctl::parse_sysctls;

/// podman's umask when none is given.
pub(crate) const DEFAULT_UMASK: &str = "0022";

/// The bits of an octal umask of one to four digits, refused with podman's message.
pub(crate) fn umask_bits(umask: &str) -> Result<u32, CoreError> {
    let octal = (1..=4).contains(&umask.len()) && umask.bytes().all(|b| (b'0'..=b'7').contains(&b));
    match u32::from_str_radix(umask, 8) {
        Ok(bits) if octal => Ok(bits),
        _ => Err(CoreError::InvalidArg(format!(
            "running container create option: invalid umask string {umask}"
        ))),
    }
}

/// Everything `corral create` passes to [`crate::Runtime::new_container`].
/// `None` and empty fields take the image's value, then podman's default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerSpec {
    /// Any reference the image store resolves (name, short name, ID, ID prefix).
    pub image: String,
    /// Validated against podman's rule; None generates an `adjective_name`.
    pub name: Option<String>,
    /// Replaces the image's CMD.
    pub command: Option<Vec<String>>,
    /// Replaces the image's ENTRYPOINT (and drops its CMD unless `command` is given).
    pub entrypoint: Option<Vec<String>>,
    /// Added to the image's environment, overriding it.
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    /// `name`, `uid`, `name:group` or `uid:gid`, resolved in the container's /etc/passwd.
    pub user: Option<String>,
    /// Extra groups (`--group-add`), names or numbers.
    pub groups: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Default: the short container ID.
    pub hostname: Option<String>,
    pub terminal: bool,
    /// Keep stdin open.
    pub stdin: bool,
    pub network: NetworkMode,
    pub dns_servers: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// `host:ip` lines added to /etc/hosts.
    pub add_hosts: Vec<String>,
    pub read_only: bool,
    /// Signal number `stop` sends first; default the image's STOPSIGNAL, else SIGTERM.
    pub stop_signal: Option<i32>,
    /// Seconds `stop` waits before SIGKILL; default 10.
    pub stop_timeout: Option<u32>,
    /// Remove the container when it exits (`--rm`).
    pub auto_remove: bool,
    pub restart: RestartPolicy,
    /// Default: `ctr.log` in the container's static dir.
    pub log_path: Option<PathBuf>,
    /// Largest log in bytes; None or negative is unlimited.
    pub log_size: Option<i64>,
    pub mounts: Vec<MountSpec>,
    /// Named and anonymous volumes.
    pub volumes: Vec<VolumeMount>,
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// CPUs (`--cpus 1.5`), as CFS quota over a 100ms period.
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    /// /dev/shm size in bytes; default 64 MiB.
    pub shm_size: Option<i64>,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub no_new_privileges: bool,
    /// Run an init (catatonit) as PID 1 that reaps zombies and forwards signals.
    pub init: bool,
    pub ulimits: Vec<Ulimit>,
    pub seccomp: Seccomp,
    /// Containers that must run before this one starts (`--requires`), by name or ID.
    pub requires: Vec<String>,
    /// The OCI runtime this container uses for its whole life (a name of
    /// containers.conf's `[engine.runtimes]` or a path); None: the engine's default.
    pub oci_runtime: Option<String>,
    /// Kernel parameters of the container's own namespaces (`--sysctl`, see [`parse_sysctls`]).
    pub sysctls: BTreeMap<String, String>,
    /// `local` (the host's zone) or a zone of /usr/share/zoneinfo (`--tz`): the
    /// container's /etc/localtime.
    pub timezone: Option<String>,
    /// The process's umask in octal (`--umask`); default podman's `0022`.
    pub umask: Option<String>,
    /// The command line that created the container, for inspect.
    pub create_command: Vec<String>,
}

impl ContainerSpec {
    /// A spec running `image` with every default.
    pub fn new(image: impl Into<String>) -> Self {
        ContainerSpec {
            image: image.into(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policies_ulimits_and_modes() {
        assert_eq!(
            "on-failure:3".parse::<RestartPolicy>().unwrap(),
            RestartPolicy::OnFailure { max_retries: 3 }
        );
        assert_eq!("always".parse::<RestartPolicy>().unwrap(), RestartPolicy::Always);
        assert!("always:3".parse::<RestartPolicy>().is_err());
        assert!("sometimes".parse::<RestartPolicy>().is_err());
        let p = RestartPolicy::OnFailure { max_retries: 2 };
        assert_eq!(RestartPolicy::from_record(p.name(), p.retries()), p);

        let u: Ulimit = "nofile=1024:2048".parse().unwrap();
        assert_eq!((u.resource, u.soft, u.hard), ("RLIMIT_NOFILE", 1024, 2048));
        let u: Ulimit = "core=-1".parse().unwrap();
        assert_eq!(u.hard, u64::MAX);
        assert!("nofile=10:5".parse::<Ulimit>().is_err());
        assert!("bogus=1".parse::<Ulimit>().is_err());

        assert_eq!(umask_bits("0077").unwrap(), 0o77);
        assert_eq!(umask_bits("7").unwrap(), 7);
        assert_eq!(umask_bits(DEFAULT_UMASK).unwrap(), 0o22);
        assert_eq!(
            umask_bits("999").unwrap_err().to_string(),
            "running container create option: invalid umask string 999: invalid argument"
        );
        assert!(umask_bits("07777").is_err() && umask_bits("").is_err() && umask_bits("+7").is_err());

        assert_eq!("host".parse::<NetworkMode>().unwrap(), NetworkMode::Host);
        assert_eq!("".parse::<NetworkMode>().unwrap(), NetworkMode::Private);
        assert!("container:x".parse::<NetworkMode>().is_err());
    }
}
