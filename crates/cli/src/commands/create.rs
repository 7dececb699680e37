//! `corral create`: a container from an image, with podman's flags; the
//! flags are shared with `run`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{ArgAction, Args};
use corral_core::{
    ContainerSpec, MountKind, MountSpec, RestartPolicy, Runtime, Seccomp, VolumeMount, go_io_text, parse_signal,
    parse_sysctls,
};

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;

/// The flags `create` and `run` share, the image and the command.
#[derive(Debug, Clone, Default, Args)]
#[command(disable_help_flag = true)]
pub struct CreateFlags {
    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_name = "host:ip")]
    pub add_host: Vec<String>,

    /// Add an annotation to the container (key=value)
    #[arg(long, value_name = "key=value")]
    pub annotation: Vec<String>,

    /// Add capabilities to the container
    #[arg(long = "cap-add", value_name = "strings", value_delimiter = ',')]
    pub cap_add: Vec<String>,

    /// Drop capabilities from the container
    #[arg(long = "cap-drop", value_name = "strings", value_delimiter = ',')]
    pub cap_drop: Vec<String>,

    /// Number of CPUs. The default is 0.000 which means no limit
    #[arg(long, value_name = "float")]
    pub cpus: Option<f64>,

    /// Set custom DNS servers
    #[arg(long, value_name = "ip", value_delimiter = ',')]
    pub dns: Vec<String>,

    /// Set custom DNS options
    #[arg(long = "dns-option", value_name = "option")]
    pub dns_option: Vec<String>,

    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_name = "domain", value_delimiter = ',')]
    pub dns_search: Vec<String>,

    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,

    /// Set environment variables in container
    #[arg(short = 'e', long = "env", value_name = "stringArray")]
    pub env: Vec<String>,

    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "file")]
    pub env_file: Vec<PathBuf>,

    /// Add additional groups to the primary container process. 'keep-groups' allows container processes to use supplementary groups.
    #[arg(long = "group-add", value_name = "group")]
    pub group_add: Vec<String>,

    /// Show this help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    /// Set container hostname
    #[arg(short = 'h', long, value_name = "string")]
    pub hostname: Option<String>,

    /// Run an init binary inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,

    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Set metadata on container
    #[arg(short = 'l', long = "label", value_name = "stringArray")]
    pub label: Vec<String>,

    /// Logging driver options
    #[arg(long = "log-opt", value_name = "stringArray")]
    pub log_opt: Vec<String>,

    #[arg(
        short = 'm',
        long,
        value_name = "string",
        help = "Memory limit (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))"
    )]
    pub memory: Option<String>,

    /// Assign a name to the container
    #[arg(long, value_name = "string")]
    pub name: Option<String>,

    /// Connect a container to a network
    #[arg(long, alias = "net", value_name = "string")]
    pub network: Option<String>,

    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,

    /// Give extended privileges to container
    #[arg(long)]
    pub privileged: bool,

    /// Make containers root filesystem read-only
    #[arg(long = "read-only")]
    pub read_only: bool,

    /// Add one or more requirement containers that must be started before this container will start
    #[arg(long, value_name = "string", value_delimiter = ',')]
    pub requires: Vec<String>,

    /// Restart policy to apply when a container exits ("always"|"no"|"on-failure"|"unless-stopped")
    #[arg(long, value_name = "string")]
    pub restart: Option<String>,

    /// Remove container (and pod if created) after exit
    #[arg(long)]
    pub rm: bool,

    /// Security Options
    #[arg(long = "security-opt", value_name = "stringArray")]
    pub security_opt: Vec<String>,

    #[arg(
        long = "shm-size",
        value_name = "string",
        help = "Size of /dev/shm (format: <number>[<unit>], where unit = b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))"
    )]
    pub shm_size: Option<String>,

    /// Signal to stop a container. Default is SIGTERM
    #[arg(long = "stop-signal", value_name = "string")]
    pub stop_signal: Option<String>,

    /// Sysctl options
    #[arg(long, value_name = "strings", value_delimiter = ',')]
    pub sysctl: Vec<String>,

    /// Timeout (in seconds) that containers stopped by user command have to exit. If exceeded, the container will be forcibly stopped via SIGKILL.
    #[arg(long = "stop-timeout", value_name = "uint")]
    pub stop_timeout: Option<u32>,

    /// Attach a filesystem mount to the container
    #[arg(long, value_name = "mount")]
    pub mount: Vec<String>,

    /// Mount a temporary filesystem (tmpfs) into a container
    #[arg(long, value_name = "tmpfs")]
    pub tmpfs: Vec<String>,

    /// Allocate a pseudo-TTY for container
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Set timezone in container
    #[arg(long, value_name = "string")]
    pub tz: Option<String>,

    /// Ulimit options
    #[arg(long, value_name = "strings")]
    pub ulimit: Vec<String>,

    /// Set umask in container (default "0022")
    #[arg(long, value_name = "string")]
    pub umask: Option<String>,

    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,

    /// Bind mount a volume into the container
    #[arg(short = 'v', long, value_name = "stringArray")]
    pub volume: Vec<String>,

    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,

    /// The image to run
    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,

    /// The command and its arguments
    #[arg(value_name = "COMMAND", trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub flags: CreateFlags,
}

/// A size with an optional binary unit (`512m`, `1g`, `100kb`), as Docker's `RAMInBytes`.
pub fn ram_in_bytes(text: &str) -> anyhow::Result<i64> {
    parse_size(text, 1024.0)
}

/// A size with an optional decimal unit (`10mb` is 10,000,000), as Docker's `FromHumanSize`.
pub fn human_size(text: &str) -> anyhow::Result<i64> {
    parse_size(text, 1000.0)
}

fn parse_size(text: &str, base: f64) -> anyhow::Result<i64> {
    let invalid = || CliError::Usage(format!("invalid size: '{text}'"));
    let lower = text.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.trim_start();
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return Err(invalid().into()),
    };
    Ok((number * base.powi(power)) as i64)
}

/// `KEY=VALUE` pairs; a bare `KEY` takes the host's value, and is left out
/// when the host has none (podman's `-e KEY`).
fn parse_env(entries: &[String], env: &mut BTreeMap<String, String>) {
    for entry in entries {
        match entry.split_once('=') {
            Some((key, value)) => {
                env.insert(key.to_owned(), value.to_owned());
            }
            None => {
                if let Ok(value) = std::env::var(entry) {
                    env.insert(entry.clone(), value);
                }
            }
        }
    }
}

/// What one `-v`/`--mount` asks for.
#[derive(Debug, Clone, PartialEq)]
enum UserMount {
    Path(MountSpec),
    Volume(VolumeMount),
}

fn split_options(options: &str) -> Vec<String> {
    options
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `-v HOST:CTR[:OPTIONS]` (a bind mount of an existing host path), `-v NAME:CTR[:OPTIONS]`
/// (a named volume, made when missing) or `-v CTR` (an anonymous volume).
fn parse_volume(text: &str) -> anyhow::Result<UserMount> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, destination, options) = match parts.as_slice() {
        [destination] if destination.starts_with('/') => {
            return Ok(UserMount::Volume(VolumeMount {
                name: None,
                destination: (*destination).to_owned(),
                options: Vec::new(),
            }));
        }
        [source, destination] => (*source, *destination, ""),
        [source, destination, options] => (*source, *destination, *options),
        _ => bail!(CliError::Usage(format!(
            "incorrect volume format {text:?}, should be [host-dir:]ctr-dir[:option]"
        ))),
    };
    if !destination.starts_with('/') {
        bail!(CliError::Usage(format!(
            "invalid container path {destination:?}, must be an absolute path"
        )));
    }
    if !source.starts_with('/') && !source.starts_with('.') {
        return Ok(UserMount::Volume(VolumeMount {
            name: Some(source.to_owned()),
            destination: destination.to_owned(),
            options: split_options(options),
        }));
    }
    Ok(UserMount::Path(bind_mount(
        source,
        destination,
        split_options(options),
    )?))
}

/// `--mount type=bind|volume|tmpfs,src=...,dst=...[,ro][,...]`.
fn parse_mount(text: &str) -> anyhow::Result<UserMount> {
    let mut kind = None;
    let mut source = None;
    let mut destination = None;
    let mut options = Vec::new();
    for field in text.split(',').filter(|f| !f.is_empty()) {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (field, None),
        };
        match (key, value) {
            ("type", Some(v)) => kind = Some(v.to_owned()),
            ("src" | "source", Some(v)) => source = Some(v.to_owned()),
            ("dst" | "destination" | "target", Some(v)) => destination = Some(v.to_owned()),
            ("ro" | "readonly", None | Some("true")) => options.push("ro".to_owned()),
            ("ro" | "readonly", Some("false")) | ("rw", None) => options.push("rw".to_owned()),
            ("tmpfs-size", Some(v)) => options.push(format!("size={v}")),
            ("tmpfs-mode", Some(v)) => options.push(format!("mode={v}")),
            ("bind-propagation", Some(v)) => options.push(v.to_owned()),
            ("volume-nocopy" | "nocopy" | "z" | "Z" | "relabel" | "U" | "chown", _) => {}
            _ => bail!(CliError::Usage(format!(
                "unknown mount option {field:?}: invalid argument"
            ))),
        }
    }
    let Some(destination) = destination else {
        bail!(CliError::Usage("must set volume destination: invalid argument".into()));
    };
    if !destination.starts_with('/') {
        bail!(CliError::Usage(format!(
            "invalid container path {destination:?}, must be an absolute path"
        )));
    }
    match kind.as_deref() {
        Some("bind") => {
            let Some(source) = source else {
                bail!(CliError::Usage(
                    "must set source for bind mount: invalid argument".into()
                ));
            };
            Ok(UserMount::Path(bind_mount(&source, &destination, options)?))
        }
        Some("volume") => Ok(UserMount::Volume(VolumeMount {
            name: source,
            destination,
            options,
        })),
        Some("tmpfs") => Ok(UserMount::Path(MountSpec {
            kind: MountKind::Tmpfs,
            source: PathBuf::from("tmpfs"),
            destination,
            options,
        })),
        Some(other) => bail!(CliError::Usage(format!("invalid filesystem type {other:?}"))),
        None => bail!(CliError::Usage("type must be set for --mount".into())),
    }
}

/// A bind mount of `source`, which must exist.
fn bind_mount(source: &str, destination: &str, options: Vec<String>) -> anyhow::Result<MountSpec> {
    if !source.starts_with('/') {
        bail!(CliError::Usage(format!(
            "invalid host path {source:?}, must be an absolute path"
        )));
    }
    if !destination.starts_with('/') {
        bail!(CliError::Usage(format!(
            "invalid container path {destination:?}, must be an absolute path"
        )));
    }
    if let Err(err) = std::fs::metadata(source) {
        bail!("statfs {source}: {}", go_io_text(&err));
    }
    Ok(MountSpec {
        kind: MountKind::Bind,
        source: PathBuf::from(source),
        destination: destination.to_owned(),
        options,
    })
}

/// `--tmpfs DEST[:OPTIONS]`.
fn parse_tmpfs(text: &str) -> MountSpec {
    let (destination, options) = text.split_once(':').unwrap_or((text, ""));
    MountSpec {
        kind: MountKind::Tmpfs,
        source: PathBuf::from("tmpfs"),
        destination: destination.to_owned(),
        options: options
            .split(',')
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// `--entrypoint`: a JSON array, or one program path.
fn parse_entrypoint(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    serde_json::from_str::<Vec<String>>(text).unwrap_or_else(|_| vec![text.to_owned()])
}

impl CreateFlags {
    /// The engine's spec for these flags; `create_command` is the command line.
    pub fn spec(&self, create_command: Vec<String>) -> anyhow::Result<ContainerSpec> {
        let mut spec = ContainerSpec::new(self.image.clone());
        spec.name = self.name.clone();
        if !self.command.is_empty() {
            spec.command = Some(self.command.clone());
        }
        spec.entrypoint = self.entrypoint.as_deref().map(parse_entrypoint);
        for file in &self.env_file {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading env file {}", file.display()))?;
            let lines: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect();
            parse_env(&lines, &mut spec.env);
        }
        parse_env(&self.env, &mut spec.env);
        spec.workdir = self.workdir.clone();
        spec.user = self.user.clone();
        spec.groups = self.group_add.clone();
        for label in &self.label {
            let (key, value) = label.split_once('=').unwrap_or((label, ""));
            spec.labels.insert(key.to_owned(), value.to_owned());
        }
        for annotation in &self.annotation {
            let (key, value) = annotation.split_once('=').unwrap_or((annotation, ""));
            spec.annotations.insert(key.to_owned(), value.to_owned());
        }
        spec.hostname = self.hostname.clone();
        spec.terminal = self.tty;
        spec.stdin = self.interactive;
        if let Some(network) = &self.network {
            spec.network = network.parse()?;
        }
        spec.dns_servers = self.dns.clone();
        spec.dns_search = self.dns_search.clone();
        spec.dns_options = self.dns_option.clone();
        spec.add_hosts = self.add_host.clone();
        spec.read_only = self.read_only;
        if let Some(signal) = &self.stop_signal {
            spec.stop_signal = Some(i32::try_from(parse_signal(signal)?)?);
        }
        spec.stop_timeout = self.stop_timeout;
        spec.auto_remove = self.rm;
        if let Some(restart) = &self.restart {
            spec.restart = restart.parse()?;
        }
        if self.rm && spec.restart != RestartPolicy::No {
            bail!(CliError::Usage(
                "the --rm option conflicts with --restart, when the restartPolicy is not \"\" and \"no\"".into()
            ));
        }
        for opt in &self.log_opt {
            match opt.split_once('=') {
                Some(("max-size", size)) => spec.log_size = Some(human_size(size)?),
                Some(("path", path)) => spec.log_path = Some(PathBuf::from(path)),
                Some(("tag", _)) => {}
                _ => bail!(CliError::Usage(format!("invalid log option {opt:?}"))),
            }
        }
        let volumes = self.volume.iter().map(|v| parse_volume(v));
        for mount in volumes.chain(self.mount.iter().map(|m| parse_mount(m))) {
            match mount? {
                UserMount::Path(m) => spec.mounts.push(m),
                UserMount::Volume(v) => spec.volumes.push(v),
            }
        }
        spec.mounts.extend(self.tmpfs.iter().map(|t| parse_tmpfs(t)));
        spec.memory = self.memory.as_deref().map(ram_in_bytes).transpose()?;
        spec.cpus = self.cpus.filter(|c| *c > 0.0);
        spec.pids_limit = self.pids_limit;
        spec.shm_size = self.shm_size.as_deref().map(ram_in_bytes).transpose()?;
        spec.privileged = self.privileged;
        spec.cap_add = self.cap_add.clone();
        spec.cap_drop = self.cap_drop.clone();
        for opt in &self.security_opt {
            let (key, value) = opt.split_once(['=', ':']).unwrap_or((opt, ""));
            match (key, value) {
                ("no-new-privileges", "" | "true") => spec.no_new_privileges = true,
                ("no-new-privileges", "false") => spec.no_new_privileges = false,
                ("seccomp", "unconfined") => spec.seccomp = Seccomp::Unconfined,
                ("seccomp", path) if !path.is_empty() => spec.seccomp = Seccomp::Profile(PathBuf::from(path)),
                ("label" | "apparmor" | "mask" | "unmask", _) => {
                    tracing::debug!("--security-opt {opt} is accepted and ignored");
                }
                _ => bail!(CliError::Usage(format!("invalid --security-opt 1: {opt:?}"))),
            }
        }
        spec.init = self.init;
        for ulimit in &self.ulimit {
            spec.ulimits.push(ulimit.parse()?);
        }
        spec.requires = self.requires.clone();
        spec.sysctls = parse_sysctls(&self.sysctl)?;
        spec.timezone = self.tz.clone();
        spec.umask = self.umask.clone();
        spec.create_command = create_command;
        Ok(spec)
    }

    /// Creates the container these flags describe.
    pub fn create(&self, runtime: &Runtime) -> anyhow::Result<corral_core::Container> {
        let spec = self.spec(std::env::args().collect())?;
        Ok(runtime.new_container(spec)?)
    }
}

pub fn run(args: &CreateArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let container = args.flags.create(&runtime)?;
    writeln!(out, "{}", container.id())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_docker_parses_them() {
        assert_eq!(ram_in_bytes("512").unwrap(), 512);
        assert_eq!(ram_in_bytes("64m").unwrap(), 64 * 1024 * 1024);
        assert_eq!(ram_in_bytes("1G").unwrap(), 1 << 30);
        assert_eq!(ram_in_bytes("100kb").unwrap(), 102_400);
        assert_eq!(human_size("10mb").unwrap(), 10_000_000);
        assert_eq!(ram_in_bytes("lots").unwrap_err().to_string(), "invalid size: 'lots'");
        assert!(ram_in_bytes("5x").is_err());
    }

    fn flags(image: &str, command: &[&str]) -> CreateFlags {
        CreateFlags {
            image: image.into(),
            command: command.iter().map(|s| s.to_string()).collect(),
            ..CreateFlags::default()
        }
    }

    #[test]
    fn flags_become_the_spec() {
        let mut f = flags("busybox", &["sh", "-c", "exit 3"]);
        f.env = vec!["A=1".into(), "CORRAL_SURELY_UNSET_VAR".into()];
        f.label = vec!["l=x".into(), "bare".into()];
        f.memory = Some("64m".into());
        f.volume = vec!["/tmp:/data:ro".into()];
        f.tmpfs = vec!["/scratch:size=1m".into()];
        f.security_opt = vec!["no-new-privileges".into(), "seccomp=unconfined".into()];
        f.stop_signal = Some("SIGINT".into());
        f.restart = Some("on-failure:2".into());
        f.entrypoint = Some(r#"["/bin/sh","-c"]"#.into());
        f.network = Some("none".into());
        f.sysctl = vec!["net.ipv4.ip_forward=1".into(), "kernel.shmmax=100".into()];
        f.tz = Some("local".into());
        f.umask = Some("0077".into());
        let spec = f.spec(vec!["corral".into()]).unwrap();
        assert_eq!(spec.sysctls["net.ipv4.ip_forward"], "1");
        assert_eq!(spec.sysctls.len(), 2);
        assert_eq!(spec.timezone.as_deref(), Some("local"));
        assert_eq!(spec.umask.as_deref(), Some("0077"));
        assert_eq!(spec.command.unwrap(), ["sh", "-c", "exit 3"]);
        assert_eq!(spec.entrypoint.unwrap(), ["/bin/sh", "-c"]);
        assert_eq!(spec.env.len(), 1);
        assert_eq!(spec.labels["bare"], "");
        assert_eq!(spec.memory, Some(64 << 20));
        assert_eq!(spec.mounts[0].options, ["ro"]);
        assert_eq!(spec.mounts[1].kind, MountKind::Tmpfs);
        assert_eq!(spec.mounts[1].options, ["size=1m"]);
        assert!(spec.no_new_privileges);
        assert_eq!(spec.seccomp, Seccomp::Unconfined);
        assert_eq!(spec.stop_signal, Some(2));
        assert_eq!(spec.restart, RestartPolicy::OnFailure { max_retries: 2 });
        assert_eq!(spec.network, corral_core::NetworkMode::None);

        let bare = flags("busybox", &[]).spec(Vec::new()).unwrap();
        assert_eq!(bare.command, None);
        assert_eq!(parse_entrypoint("/bin/true"), ["/bin/true"]);
    }

    #[test]
    fn volumes_and_mounts_parse_as_podmans() {
        let named = |name: Option<&str>, dest: &str, options: &[&str]| {
            UserMount::Volume(VolumeMount {
                name: name.map(str::to_owned),
                destination: dest.to_owned(),
                options: options.iter().map(|o| o.to_string()).collect(),
            })
        };
        assert_eq!(parse_volume("data:/d:ro").unwrap(), named(Some("data"), "/d", &["ro"]));
        assert_eq!(parse_volume("/anon").unwrap(), named(None, "/anon", &[]));
        assert!(matches!(parse_volume("/tmp:/t").unwrap(), UserMount::Path(m) if m.kind == MountKind::Bind));
        assert!(parse_volume("data:rel").is_err());
        assert_eq!(
            parse_mount("type=volume,src=v,dst=/v,ro").unwrap(),
            named(Some("v"), "/v", &["ro"])
        );
        assert_eq!(parse_mount("type=volume,target=/v").unwrap(), named(None, "/v", &[]));
        let tmpfs = parse_mount("type=tmpfs,destination=/t,tmpfs-size=1m").unwrap();
        assert!(matches!(tmpfs, UserMount::Path(m) if m.kind == MountKind::Tmpfs && m.options == ["size=1m"]));
        assert!(
            matches!(parse_mount("type=bind,src=/tmp,dst=/b").unwrap(), UserMount::Path(m) if m.source == std::path::Path::new("/tmp"))
        );
        assert!(parse_mount("type=bind,dst=/b").is_err());
        assert!(parse_mount("type=volume").is_err());
        assert!(parse_mount("src=v,dst=/v").is_err());
        assert!(parse_mount("type=nfs,dst=/v").is_err());
    }

    #[test]
    fn bad_flags_are_refused() {
        let mut f = flags("busybox", &[]);
        f.volume = vec!["/surely/not/here/corral:/x".into()];
        assert_eq!(
            f.spec(Vec::new()).unwrap_err().to_string(),
            "statfs /surely/not/here/corral: no such file or directory"
        );
        let mut f = flags("busybox", &[]);
        f.rm = true;
        f.restart = Some("always".into());
        assert!(f.spec(Vec::new()).is_err());
        let mut f = flags("busybox", &[]);
        f.security_opt = vec!["bogus".into()];
        assert!(f.spec(Vec::new()).is_err());
        let mut f = flags("busybox", &[]);
        f.sysctl = vec!["vm.swappiness=1".into()];
        assert_eq!(
            f.spec(Vec::new()).unwrap_err().to_string(),
            "sysctl 'vm.swappiness' is not allowed"
        );
    }
}
