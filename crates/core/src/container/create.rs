//! `create`: a new container from a [`ContainerSpec`] and its image's defaults.

use std::collections::BTreeMap;

use chrono::Utc;
use corral_define::{
    ContainerConfig, ContainerState, ContainerStatus, DefineError, ErrorKind, HasKind, NAME_PATTERN, RawJson,
    ToCompactString, new_id, validate_name,
};
use corral_state::ContainerRecord;

use super::Container;
use crate::container_spec::{ContainerSpec, DEFAULT_UMASK, NetworkMode, Seccomp, umask_bits};
use crate::error::{CoreError, Result};
use crate::names::random_name;
use crate::options::CgroupManager;
use crate::rootfs::ImageInfo;
use crate::runtime::Runtime;
use crate::spec::{self, DEFAULT_SHM_SIZE, SpecInput};

/// The PATH a container gets when its image sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_STOP_TIMEOUT: u32 = 10;
const SIGTERM: u32 = 15;

/// `SIGTERM`, `TERM` or `15` as a signal number.
pub fn parse_signal(s: &str) -> Result<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(CoreError::InvalidArg(format!("invalid signal {s}")))
        };
    }
    let name = s.trim().to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let n = match name {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" | "IOT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" => 15,
        "STKFLT" => 16,
        "CHLD" => 17,
        "CONT" => 18,
        "STOP" => 19,
        "TSTP" => 20,
        "TTIN" => 21,
        "TTOU" => 22,
        "URG" => 23,
        "XCPU" => 24,
        "XFSZ" => 25,
        "VTALRM" => 26,
        "PROF" => 27,
        "WINCH" => 28,
        "IO" | "POLL" => 29,
        "PWR" => 30,
        "SYS" => 31,
        _ => return Err(CoreError::InvalidArg(format!("invalid signal {s}"))),
    };
    Ok(n)
}

/// The process arguments: podman's (and docker's) rule that a new entrypoint drops the
/// image's CMD unless a command is given too.
fn process_args(spec: &ContainerSpec, image: &ImageInfo) -> Result<(Vec<String>, Vec<String>)> {
    let entrypoint = match &spec.entrypoint {
        Some(e) => e.clone(),
        None => image.settings.entrypoint.clone().unwrap_or_default(),
    };
    let command = match (&spec.command, &spec.entrypoint) {
        (Some(c), _) => c.clone(),
        (None, Some(_)) => Vec::new(),
        (None, None) => image.settings.cmd.clone().unwrap_or_default(),
    };
    if entrypoint.is_empty() && command.is_empty() {
        return Err(CoreError::InvalidArg(
            "no command or entrypoint provided, and no CMD or ENTRYPOINT from image".into(),
        ));
    }
    Ok((entrypoint, command))
}

/// The image's environment, podman's defaults, then the user's, in `K=V` form.
fn environment(spec: &ContainerSpec, image: &ImageInfo, hostname: &str) -> Vec<String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut set = |k: &str, v: &str, env: &mut BTreeMap<String, String>| {
        if env.insert(k.to_string(), v.to_string()).is_none() {
            order.push(k.to_string());
        }
    };
    if let Some((k, v)) = DEFAULT_PATH.split_once('=') {
        set(k, v, &mut env);
    }
    for kv in image.settings.env.iter().flatten() {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
        set(k, v, &mut env);
    }
    set("container", "podman", &mut env);
    if spec.terminal && !env.contains_key("TERM") {
        set("TERM", "xterm", &mut env);
    }
    set("HOSTNAME", hostname, &mut env);
    for (k, v) in &spec.env {
        set(k, v, &mut env);
    }
    order.iter().map(|k| format!("{k}={}", env[k])).collect()
}

/// podman's wording for a failure to make the container's storage (its root filesystem).
fn creating_storage(err: CoreError) -> CoreError {
    DefineError::new(err.kind(), format!("creating container storage: {err}")).into()
}

fn user_is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default();
    matches!(name, "" | "root" | "0")
}

impl Runtime {
    /// Creates a container (status `configured`): resolves the image, allocates the
    /// lock, makes the root filesystem, merges the image's defaults into the config and
    /// the base OCI spec, and records it in the state store. Nothing runs yet.
    pub fn new_container(&self, spec: ContainerSpec) -> Result<Container> {
        let inner = &self.inner;
        let name = match &spec.name {
            Some(n) => {
                if validate_name(n).is_err() {
                    return Err(CoreError::InvalidArg(format!(
                        "running container create option: names must match {NAME_PATTERN}"
                    )));
                }
                n.clone()
            }
            None => self.free_name()?,
        };
        if let Some(holder) = self.name_holder(&name)? {
            // The same words as when storage finds the name taken (a create racing this one).
            let taken = corral_storage::StorageError::ContainerNameInUse { name, id: holder };
            return Err(creating_storage(taken.into()));
        }
        let image = inner.rootfs.image(&spec.image)?;
        let mut dependencies = Vec::new();
        for r in &spec.requires {
            dependencies.push(inner.state.lookup_container_id(r)?);
        }
        let id = new_id()?;
        let config = self.build_config(&spec, &image, &id, &name, dependencies)?;
        self.check_new_dependencies(crate::graph::GraphNode::of(&config))?;
        let volumes = self.prepare_volumes(&spec, &image)?;
        let undo_volumes = |err: CoreError| {
            self.discard_volumes(&volumes.made);
            err
        };

        let lock = inner
            .locks
            .allocate_lock()
            .map_err(CoreError::from)
            .map_err(undo_volumes)?;
        let mut config = config;
        config.lock_id = lock.id();
        config.root_fs.named_volumes = volumes.mounts.clone();
        let undo_lock = |err: CoreError| {
            if let Err(e) = lock.free() {
                tracing::warn!("freeing lock {} after a failed create: {e}", lock.id());
            }
            undo_volumes(err)
        };
        inner
            .rootfs
            .create(&id, &image.id, &name)
            .map_err(creating_storage)
            .map_err(undo_lock)?;
        let undo_fs = |err: CoreError| {
            if let Err(e) = inner.rootfs.remove(&id) {
                tracing::warn!("removing the root filesystem of {id} after a failed create: {e}");
            }
            undo_lock(err)
        };
        let static_dir = self.container_static_dir(&id);
        std::fs::create_dir_all(&static_dir)
            .map_err(|e| CoreError::io("creating directory", &static_dir, e))
            .map_err(undo_fs)?;
        let rec = ContainerRecord {
            config,
            state: ContainerState {
                state: ContainerStatus::Configured,
                ..Default::default()
            },
        };
        inner
            .state
            .add_container(&rec)
            .map_err(CoreError::from)
            .map_err(undo_fs)?;
        self.container_event(&rec.config, "create", None);
        Container::new(self.clone(), rec.config)
    }

    /// The ID of the container that already has this name (not merely an ID prefix).
    fn name_holder(&self, name: &str) -> Result<Option<String>> {
        match self.inner.state.lookup_container(name) {
            Ok(rec) if rec.name() == name => Ok(Some(rec.id().to_string())),
            Ok(_) => Ok(None),
            Err(e) if matches!(e.kind(), ErrorKind::NoSuchContainer | ErrorKind::Ambiguous) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn free_name(&self) -> Result<String> {
        for _ in 0..32 {
            let name = random_name()?;
            if self.name_holder(&name)?.is_none() {
                return Ok(name);
            }
        }
        Err(CoreError::Internal("no free container name after 32 tries".into()))
    }

    fn build_config(
        &self,
        spec: &ContainerSpec,
        image: &ImageInfo,
        id: &str,
        name: &str,
        dependencies: Vec<String>,
    ) -> Result<ContainerConfig> {
        let o = &self.inner.options;
        let (entrypoint, command) = process_args(spec, image)?;
        let hostname = spec
            .hostname
            .clone()
            .unwrap_or_else(|| corral_define::short_id(id).to_string());
        let user = spec
            .user
            .clone()
            .or_else(|| image.settings.user.clone())
            .unwrap_or_default();
        let workdir = spec
            .workdir
            .clone()
            .or_else(|| image.settings.working_dir.clone().filter(|w| !w.is_empty()))
            .unwrap_or_else(|| "/".into());
        let stop_signal = match (spec.stop_signal, &image.settings.stop_signal) {
            (Some(s), _) => u32::try_from(s).map_err(|_| CoreError::InvalidArg(format!("invalid signal {s}")))?,
            (None, Some(s)) => parse_signal(s)?,
            (None, None) => SIGTERM,
        };
        let cgroups_path = match o.cgroup_manager {
            CgroupManager::Cgroupfs => Some(format!("/libpod_parent/libpod-{id}")),
            CgroupManager::Disabled => None,
        };
        let seccomp_profile = match (&spec.seccomp, spec.privileged) {
            (_, true) | (Seccomp::Unconfined, _) => None,
            (Seccomp::Profile(p), _) => Some(p.clone()),
            (Seccomp::Default, _) => Some(o.seccomp_profile.clone()).filter(|p| p.exists()),
        };
        let oci = self.oci_for_new_container(spec.oci_runtime.as_deref())?;
        spec::sysctl::check(&spec.sysctls, spec.network)?;
        if let Some(tz) = &spec.timezone {
            spec::timezone::check(tz)?;
        }
        let umask = spec.umask.clone().unwrap_or_else(|| DEFAULT_UMASK.to_string());
        umask_bits(&umask)?;
        let mut labels = image.settings.labels.clone().unwrap_or_default();
        labels.extend(spec.labels.clone());
        let input = SpecInput {
            args: entrypoint.iter().chain(command.iter()).cloned().collect(),
            env: environment(spec, image, &hostname),
            cwd: workdir,
            terminal: spec.terminal,
            hostname: hostname.clone(),
            read_only: spec.read_only,
            privileged: spec.privileged,
            user_is_root: user_is_root(&user),
            cap_add: spec.cap_add.clone(),
            cap_drop: spec.cap_drop.clone(),
            no_new_privileges: spec.no_new_privileges,
            ulimits: spec.ulimits.clone(),
            mounts: spec.mounts.clone(),
            shm_size: spec.shm_size.unwrap_or(DEFAULT_SHM_SIZE),
            network: spec.network,
            cgroups_path,
            memory: spec.memory,
            cpus: spec.cpus,
            pids_limit: spec.pids_limit,
            seccomp_profile: seccomp_profile.clone(),
            init_path: spec.init.then(|| o.init_path.clone()),
            annotations: spec.annotations.clone(),
            sysctls: spec.sysctls.clone(),
        };
        let oci_spec = spec::base(&input)?;

        let mut c = ContainerConfig {
            id: id.into(),
            name: name.into(),
            namespace: o.namespace.as_str().into(),
            created_time: Utc::now(),
            oci_runtime: oci.name().into(),
            spec: Some(
                RawJson::from_value(&oci_spec)
                    .map_err(|e| CoreError::Internal(format!("encoding the OCI spec: {e}")))?,
            ),
            ..Default::default()
        };
        c.root_fs.rootfs_image_id = image.id.as_str().into();
        c.root_fs.rootfs_image_name = image.name.as_str().into();
        c.root_fs.static_dir = self.container_static_dir(id).display().to_compact_string();
        c.root_fs.mounts = spec.mounts.iter().map(|m| m.destination.as_str().into()).collect();
        c.root_fs.read_only = spec.read_only;
        c.root_fs.shm_size = input.shm_size;
        c.root_fs.storage_driver = self.storage()?.driver().as_str().into();
        c.security.privileged = spec.privileged;
        c.security.user = user.into();
        c.security.groups = spec.groups.iter().map(|s| s.as_str().into()).collect();
        c.security.no_new_privileges = spec.no_new_privileges;
        c.security.seccomp_profile_path = seccomp_profile
            .map(|p| p.display().to_compact_string())
            .unwrap_or_default();
        c.network.create_net_ns = spec.network != NetworkMode::Host;
        c.network.network_mode = spec.network.as_str().into();
        c.network.hostname = hostname.into();
        c.network.dns_server = spec.dns_servers.iter().map(|s| s.as_str().into()).collect();
        c.network.dns_search = spec.dns_search.iter().map(|s| s.as_str().into()).collect();
        c.network.dns_option = spec.dns_options.iter().map(|s| s.as_str().into()).collect();
        c.network.host_add = spec.add_hosts.iter().map(|s| s.as_str().into()).collect();
        c.image.entrypoint = entrypoint.into_iter().map(Into::into).collect();
        c.image.command = command.into_iter().map(Into::into).collect();
        c.misc.stdin = spec.stdin;
        c.misc.terminal = spec.terminal;
        c.misc.labels = labels.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        c.misc.annotations = spec
            .annotations
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
            .collect();
        c.misc.stop_signal = stop_signal;
        c.misc.stop_timeout = spec.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
        c.misc.log_path = spec
            .log_path
            .clone()
            .unwrap_or_else(|| self.container_static_dir(id).join("ctr.log"))
            .display()
            .to_compact_string();
        c.misc.log_driver = "k8s-file".into();
        c.misc.log_size = spec.log_size.filter(|s| *s > 0).unwrap_or(-1);
        c.misc.restart_policy = spec.restart.name().into();
        c.misc.restart_retries = spec.restart.retries();
        c.misc.auto_remove = spec.auto_remove;
        c.misc.exit_command = self.exit_command(id).into_iter().map(Into::into).collect();
        c.misc.init = spec.init;
        if spec.init {
            c.misc.init_path = o.init_path.display().to_compact_string();
        }
        c.misc.umask = umask.into();
        c.misc.timezone = spec.timezone.as_deref().unwrap_or_default().into();
        c.misc.dependencies = dependencies.into_iter().map(Into::into).collect();
        c.misc.create_command = spec.create_command.iter().map(|s| s.as_str().into()).collect();
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corral_storage::spec::ContainerSettings;

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageInfo {
        let v = |x: Option<&[&str]>| x.map(|a| a.iter().map(|s| s.to_string()).collect());
        ImageInfo {
            id: "i".into(),
            name: "img".into(),
            settings: ContainerSettings {
                entrypoint: v(entrypoint),
                cmd: v(cmd),
                env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
                ..Default::default()
            },
        }
    }

    #[test]
    fn entrypoint_and_command_merge_like_podman() {
        let img = image(Some(&["/ep"]), Some(&["arg"]));
        let mut spec = ContainerSpec::new("img");
        assert_eq!(
            process_args(&spec, &img).unwrap(),
            (vec!["/ep".into()], vec!["arg".into()])
        );
        spec.command = Some(vec!["x".into()]);
        assert_eq!(process_args(&spec, &img).unwrap().1, ["x"]);
        spec.command = None;
        spec.entrypoint = Some(vec!["/other".into()]);
        assert_eq!(process_args(&spec, &img).unwrap(), (vec!["/other".into()], vec![]));
        let bare = image(None, None);
        let err = process_args(&ContainerSpec::new("img"), &bare).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArg);
    }

    #[test]
    fn environment_merges_image_defaults_and_user() {
        let img = image(None, Some(&["sh"]));
        let mut spec = ContainerSpec::new("img");
        spec.env.insert("A".into(), "2".into());
        spec.terminal = true;
        let env = environment(&spec, &img, "h");
        assert_eq!(env[0], "PATH=/bin");
        assert!(env.contains(&"A=2".to_string()));
        assert!(env.contains(&"TERM=xterm".to_string()));
        assert!(env.contains(&"HOSTNAME=h".to_string()));
        assert_eq!(env.iter().filter(|e| e.starts_with("A=")).count(), 1);
    }

    #[test]
    fn signals_and_root_users() {
        assert_eq!(parse_signal("SIGKILL").unwrap(), 9);
        assert_eq!(parse_signal("term").unwrap(), 15);
        assert_eq!(parse_signal("2").unwrap(), 2);
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert!(user_is_root("") && user_is_root("0:10") && user_is_root("root"));
        assert!(!user_is_root("corral"));
    }
}
