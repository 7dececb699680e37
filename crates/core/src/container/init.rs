//! `init`: mount the root filesystem, write the bundle, create the container in the
//! OCI runtime (status `created`).

use std::path::{Path, PathBuf};

use corral_define::{ContainerStatus, ToCompactString};
use corral_state::ContainerRecord;
use serde_json::{Value, json};

use super::Container;
use crate::container_spec::{DEFAULT_UMASK, umask_bits};
use crate::error::{CoreError, Result};
use crate::spec::{self, FileBind, default_mounts, hooks, timezone, user};

/// Writes a file whole: a temporary name beside it, renamed into place.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, contents).map_err(|e| CoreError::io("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| CoreError::io("renaming into place", path, e))
}

impl Container {
    /// Creates the container in the OCI runtime without starting it.
    pub async fn init(&self) -> Result<()> {
        let (_guard, mut rec) = self.lock_and_sync().await?;
        self.init_checked_unlocked(&mut rec).await
    }

    /// [`init`](Self::init) with the lock held.
    pub(crate) async fn init_checked_unlocked(&self, rec: &mut ContainerRecord) -> Result<()> {
        match rec.state.state {
            ContainerStatus::Configured | ContainerStatus::Stopped | ContainerStatus::Exited => {}
            other => return Err(self.invalid(format!("has already been created in runtime: it is {other}"))),
        }
        self.init_unlocked(rec, false).await
    }

    /// libpod's init (and reinit from stopped/exited): on failure everything done is
    /// undone and the error recorded in the state.
    pub(crate) async fn init_unlocked(&self, rec: &mut ContainerRecord, retain_retries: bool) -> Result<()> {
        if rec.state.state == ContainerStatus::Stopped {
            self.cleanup_unlocked(rec).await?;
        }
        match rec.state.state {
            ContainerStatus::Configured | ContainerStatus::Exited => {}
            other => return Err(self.invalid(format!("cannot be initialized: it is {other}"))),
        }
        if !retain_retries {
            rec.state.restart_count = 0;
        }
        if !rec.state.mounted {
            let mountpoint = self.rt.inner.rootfs.mount(self.id())?;
            if let Err(e) = self.mount_volumes(&mountpoint) {
                if let Err(undo) = self.rt.inner.rootfs.unmount(self.id(), false) {
                    tracing::warn!(
                        "unmounting container {} after failing to mount its volumes: {undo}",
                        self.id()
                    );
                }
                return Err(e);
            }
            rec.state.mounted = true;
            rec.state.mountpoint = mountpoint.display().to_compact_string();
            self.save(rec)?;
        }
        match self.create_in_runtime(rec).await {
            Ok(()) => {
                self.save(rec)?;
                self.event("init");
                Ok(())
            }
            Err(err) => {
                rec.state.error = err.to_compact_string();
                if let Err(e) = self.teardown_unlocked(rec).await {
                    tracing::warn!("cleaning up container {} after a failed init: {e}", self.id());
                }
                self.save(rec)?;
                Err(err)
            }
        }
    }

    async fn create_in_runtime(&self, rec: &mut ContainerRecord) -> Result<()> {
        let handle = self.handle();
        let bundle = &handle.bundle_dir;
        std::fs::create_dir_all(bundle).map_err(|e| CoreError::io("creating directory", bundle, e))?;
        let rootfs = PathBuf::from(&rec.state.mountpoint);
        let binds = self.write_etc_files(bundle)?;
        let resolved = user::resolve(&rootfs, &self.config.security.user, &self.config.security.groups)?;
        let base = self
            .stored_spec()?
            .ok_or_else(|| CoreError::Internal(format!("container {} has no OCI spec", self.id())))?;
        let seccomp_profile =
            Some(Path::new(&self.config.security.seccomp_profile_path)).filter(|p| !p.as_os_str().is_empty());
        let mut spec = spec::finalize(&base, &rootfs, &resolved, &binds, seccomp_profile)?;
        let volume_binds = self.volume_binds()?;
        if let Some(mounts) = spec["mounts"].as_array_mut() {
            mounts.extend(volume_binds);
        }
        self.add_engine_settings(&mut spec, bundle)?;
        let config_path = bundle.join("config.json");
        let bytes = serde_json::to_vec_pretty(&spec).map_err(|source| CoreError::Json {
            what: "encoding the OCI spec",
            path: config_path.clone(),
            source,
        })?;
        write_atomic(&config_path, &bytes)?;
        rec.state.config_path = config_path.display().to_compact_string();
        rec.state.run_dir = bundle.display().to_compact_string();
        rec.state.cgroup_path = spec["linux"]["cgroupsPath"].as_str().unwrap_or_default().into();
        rec.state.error.clear();
        self.oci().create_container(&handle, &mut rec.state, None).await?;
        rec.state.bind_mounts = binds
            .iter()
            .map(|b| (b.destination.as_str().into(), b.source.display().to_compact_string()))
            .collect();
        Ok(())
    }

    /// What the engine adds to every container's spec at init: the umask, the default
    /// mounts of mounts.conf (where the user mounted nothing), then the OCI hooks that
    /// match the finished spec.
    fn add_engine_settings(&self, spec: &mut Value, bundle: &Path) -> Result<()> {
        let c = &self.config;
        let options = &self.rt.inner.options;
        let umask = if c.misc.umask.is_empty() {
            DEFAULT_UMASK
        } else {
            &c.misc.umask
        };
        spec["process"]["user"]["umask"] = json!(umask_bits(umask)?);
        let defaults = default_mounts::prepare_all(options.default_mounts_file.as_deref(), bundle);
        if let Some(mounts) = spec["mounts"].as_array_mut() {
            for m in defaults {
                if !mounts.iter().any(|have| have["destination"] == json!(m.destination)) {
                    mounts.push(json!({"destination": m.destination, "type": "bind", "source": m.source,
                                       "options": ["bind", "rprivate"]}));
                }
            }
        }
        let hooks = hooks::load(&options.hooks_dirs)?;
        let has_bind_mounts = !c.root_fs.mounts.is_empty() || !c.root_fs.named_volumes.is_empty();
        hooks::inject(spec, &hooks, has_bind_mounts)
    }

    /// `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` for the container, in its
    /// bundle directory, and `/etc/localtime` for one made with a time zone.
    fn write_etc_files(&self, bundle: &Path) -> Result<Vec<FileBind>> {
        let net = &self.config.network;
        let host_net = net.network_mode == "host";
        let hostname = if host_net {
            std::fs::read_to_string("/etc/hostname")
                .unwrap_or_default()
                .trim()
                .to_string()
        } else {
            net.hostname.to_string()
        };
        let mut hosts = if host_net {
            std::fs::read_to_string("/etc/hosts").unwrap_or_default()
        } else {
            "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n\
             ::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n"
                .to_string()
        };
        if !hosts.is_empty() && !hosts.ends_with('\n') {
            hosts.push('\n');
        }
        for entry in &net.host_add {
            let (name, ip) = entry
                .rsplit_once(':')
                .ok_or_else(|| CoreError::InvalidArg(format!("invalid --add-host {entry:?}: expected host:ip")))?;
            hosts.push_str(&format!("{ip}\t{name}\n"));
        }
        if !host_net {
            hosts.push_str(&format!("127.0.1.1\t{hostname} {}\n", self.name()));
        }
        let mut resolv = String::new();
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        for line in host_resolv.lines() {
            let key = line.split_whitespace().next().unwrap_or_default();
            let replaced = match key {
                "nameserver" => !net.dns_server.is_empty(),
                "search" | "domain" => !net.dns_search.is_empty(),
                "options" => !net.dns_option.is_empty(),
                _ => false,
            };
            if !replaced {
                resolv.push_str(line);
                resolv.push('\n');
            }
        }
        if !net.dns_search.is_empty() {
            resolv.push_str(&format!("search {}\n", net.dns_search.join(" ")));
        }
        for server in &net.dns_server {
            resolv.push_str(&format!("nameserver {server}\n"));
        }
        if !net.dns_option.is_empty() {
            resolv.push_str(&format!("options {}\n", net.dns_option.join(" ")));
        }
        let mut binds = Vec::new();
        for (dest, file, text) in [
            ("/etc/hostname", "hostname", format!("{hostname}\n")),
            ("/etc/hosts", "hosts", hosts),
            ("/etc/resolv.conf", "resolv.conf", resolv),
        ] {
            let path = bundle.join(file);
            write_atomic(&path, text.as_bytes())?;
            binds.push(FileBind {
                destination: dest.to_string(),
                source: path,
            });
        }
        if !self.config.misc.timezone.is_empty() {
            let zone = timezone::zone_file(&self.config.misc.timezone)?;
            let bytes = std::fs::read(&zone).map_err(|e| CoreError::io("reading the zone file", &zone, e))?;
            let path = bundle.join("localtime");
            write_atomic(&path, &bytes)?;
            binds.push(FileBind {
                destination: "/etc/localtime".to_string(),
                source: path,
            });
        }
        Ok(binds)
    }
}
