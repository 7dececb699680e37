//! `inspect`: podman's InspectContainerData, with its JSON field names.

use chrono::{DateTime, SecondsFormat, Utc};
use corral_define::ContainerStatus;
use serde_json::{Value, json};

use super::Container;
use crate::error::Result;

/// Go's zero time, which podman prints for times never set.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn go_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || GO_ZERO_TIME.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Nanos, true),
    )
}

fn upper_bool(b: bool) -> &'static str {
    if b { "TRUE" } else { "FALSE" }
}

impl Container {
    /// The container as `podman inspect` shows it (one element of its JSON array).
    pub async fn inspect(&self) -> Result<Value> {
        let state = self.state().await?;
        let c = &self.config;
        let spec = self.stored_spec()?.unwrap_or(Value::Null);
        let process = &spec["process"];
        let resources = &spec["linux"]["resources"];
        let handle = self.handle();
        let bundle = &handle.bundle_dir;
        let args: Vec<String> = c
            .image
            .entrypoint
            .iter()
            .chain(c.image.command.iter())
            .map(|arg| arg.to_string())
            .collect();
        let (path, rest) = args
            .split_first()
            .map_or((String::new(), Vec::new()), |(p, r)| (p.clone(), r.to_vec()));
        let mut annotations = c.misc.annotations.clone();
        for (k, v) in [
            ("io.container.manager", "libpod".to_string()),
            ("io.kubernetes.cri-o.Created", go_time(Some(c.created_time))),
            ("io.kubernetes.cri-o.TTY", c.misc.terminal.to_string()),
            (
                "io.podman.annotations.autoremove",
                upper_bool(c.misc.auto_remove).to_string(),
            ),
            ("io.podman.annotations.init", upper_bool(c.misc.init).to_string()),
            (
                "io.podman.annotations.privileged",
                upper_bool(c.security.privileged).to_string(),
            ),
            ("org.opencontainers.image.stopSignal", c.misc.stop_signal.to_string()),
        ] {
            annotations.entry(k.into()).or_insert(v.into());
        }
        let ulimits: Vec<Value> = process["rlimits"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| json!({"Name": r["type"], "Soft": r["soft"], "Hard": r["hard"]}))
            .collect();
        let quota = resources["cpu"]["quota"].as_i64().unwrap_or(0);
        let period = resources["cpu"]["period"].as_i64().unwrap_or(0);
        let nano_cpus = if period > 0 { quota * 1_000_000_000 / period } else { 0 };
        let mounts: Vec<Value> = spec["mounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| c.root_fs.mounts.iter().any(|d| m["destination"] == json!(d)))
            .map(|m| {
                let opts: Vec<&str> = m["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                json!({
                    "Type": m["type"], "Source": m["source"], "Destination": m["destination"], "Driver": "",
                    "Mode": "", "Options": opts, "RW": !opts.contains(&"ro"), "Propagation": "rprivate",
                })
            })
            .collect();
        let status = state.state;
        let state_json = json!({
            "OciVersion": spec["ociVersion"],
            "Status": status.as_str(),
            "Running": status == ContainerStatus::Running,
            "Paused": status == ContainerStatus::Paused,
            "Restarting": false,
            "OOMKilled": state.oom_killed,
            "Dead": false,
            "Pid": state.pid,
            "ConmonPid": state.conmon_pid,
            "ExitCode": state.exit_code,
            "Error": state.error,
            "StartedAt": go_time(state.started_time),
            "FinishedAt": go_time(state.finished_time),
            "Health": {"Status": "", "FailingStreak": 0, "Log": null},
            "CgroupPath": state.cgroup_path,
            "CheckpointedAt": go_time(state.checkpointed_time),
            "RestoredAt": go_time(state.restored_time),
        });
        let network_json = json!({
            "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "Bridge": "",
            "SandboxID": "", "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": {}, "SandboxKey": state.net_ns.clone().unwrap_or_default(),
        });
        let mut config_json = json!({
            "Hostname": c.network.hostname,
            "Domainname": "",
            "User": c.security.user,
            "AttachStdin": false,
            "AttachStdout": false,
            "AttachStderr": false,
            "Tty": c.misc.terminal,
            "OpenStdin": c.misc.stdin,
            "StdinOnce": false,
            "Env": process["env"],
            "Cmd": c.image.command,
            "Image": c.root_fs.rootfs_image_name,
            "Volumes": null,
            "WorkingDir": process["cwd"],
            "Entrypoint": c.image.entrypoint.join(" "),
            "OnBuild": null,
            "Labels": c.misc.labels,
            "Annotations": annotations,
            "StopSignal": c.misc.stop_signal,
            "HealthcheckOnFailureAction": "none",
            "CreateCommand": c.misc.create_command,
            "Umask": if c.misc.umask.is_empty() { "0022" } else { c.misc.umask.as_str() },
            "Timeout": 0,
            "StopTimeout": c.misc.stop_timeout,
            "Passwd": true,
            "sdNotifyMode": "container",
        });
        if !c.misc.timezone.is_empty() {
            config_json["Timezone"] = json!(c.misc.timezone);
        }
        let host_json = json!({
            "Binds": [],
            "CgroupManager": self.rt.inner.options.cgroup_manager.as_str(),
            "CgroupMode": "host",
            "ContainerIDFile": "",
            "LogConfig": {
                "Type": c.misc.log_driver, "Config": null, "Path": c.misc.log_path, "Tag": c.misc.log_tag,
                "Size": if c.misc.log_size > 0 { format!("{}B", c.misc.log_size) } else { "0B".into() },
            },
            "NetworkMode": c.network.network_mode,
            "PortBindings": {},
            "RestartPolicy": {
                "Name": if c.misc.restart_policy == "no" { "" } else { c.misc.restart_policy.as_str() },
                "MaximumRetryCount": c.misc.restart_retries,
            },
            "AutoRemove": c.misc.auto_remove,
            "CapAdd": [],
            "CapDrop": [],
            "Dns": c.network.dns_server,
            "DnsOptions": c.network.dns_option,
            "DnsSearch": c.network.dns_search,
            "ExtraHosts": c.network.host_add,
            "GroupAdd": c.security.groups,
            "Privileged": c.security.privileged,
            "ReadonlyRootfs": c.root_fs.read_only,
            "SecurityOpt": if c.security.seccomp_profile_path.is_empty() { vec!["seccomp=unconfined".to_string()] } else { Vec::new() },
            "ShmSize": c.root_fs.shm_size,
            "Runtime": "oci",
            "Memory": resources["memory"]["limit"].as_i64().unwrap_or(0),
            "NanoCpus": nano_cpus,
            "CpuPeriod": period,
            "CpuQuota": quota,
            "PidsLimit": resources["pids"]["limit"].as_i64().unwrap_or(0),
            "Ulimits": ulimits,
            "CgroupParent": if c.security.privileged || state.cgroup_path.is_empty() { "" } else { "/libpod_parent" },
        });
        Ok(json!({
            "Id": c.id,
            "Created": go_time(Some(c.created_time)),
            "Path": path,
            "Args": rest,
            "State": state_json,
            "Image": c.root_fs.rootfs_image_id,
            "ImageDigest": "",
            "ImageName": c.root_fs.rootfs_image_name,
            "Rootfs": c.root_fs.rootfs.clone().unwrap_or_default(),
            "Pod": c.pod.clone().unwrap_or_default(),
            "ResolvConfPath": bundle.join("resolv.conf"),
            "HostnamePath": bundle.join("hostname"),
            "HostsPath": bundle.join("hosts"),
            "StaticDir": c.root_fs.static_dir,
            "OCIConfigPath": bundle.join("config.json"),
            "OCIRuntime": c.oci_runtime,
            "ConmonPidFile": handle.conmon_pid_file,
            "PidFile": handle.pid_file,
            "Name": c.name,
            "RestartCount": state.restart_count,
            "Driver": c.root_fs.storage_driver,
            "MountLabel": c.security.mount_label,
            "ProcessLabel": c.security.process_label,
            "AppArmorProfile": "",
            "EffectiveCaps": process["capabilities"]["effective"],
            "BoundingCaps": process["capabilities"]["bounding"],
            "ExecIDs": state.exec_sessions.keys().collect::<Vec<_>>(),
            "GraphDriver": {"Name": c.root_fs.storage_driver, "Data": {"MergedDir": state.mountpoint}},
            "Mounts": mounts,
            "Dependencies": c.dependencies(),
            "NetworkSettings": network_json,
            "Namespace": c.namespace,
            "IsInfra": c.misc.is_infra,
            "IsService": false,
            "Config": config_json,
            "HostConfig": host_json,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container_spec::ContainerSpec;
    use crate::testing::FakeEnv;

    #[tokio::test]
    async fn field_names_follow_podman() {
        let env = FakeEnv::new();
        let mut spec = ContainerSpec::new("busybox");
        spec.name = Some("web".into());
        spec.cpus = Some(0.5);
        spec.labels.insert("l".into(), "x".into());
        let c = env.rt.new_container(spec).unwrap();
        c.start().await.unwrap();
        let v = c.inspect().await.unwrap();
        assert_eq!(v["Name"], "web");
        assert_eq!(v["State"]["Status"], "running");
        assert_eq!(v["State"]["Running"], true);
        assert_eq!(v["State"]["FinishedAt"], GO_ZERO_TIME);
        assert_eq!(v["Path"], "sh");
        assert_eq!(v["Config"]["Labels"]["l"], "x");
        assert_eq!(v["Config"]["StopSignal"], 15);
        assert_eq!(v["HostConfig"]["NanoCpus"], 500_000_000);
        assert_eq!(v["EffectiveCaps"].as_array().unwrap().len(), 11);
        assert!(v["OCIConfigPath"].as_str().unwrap().ends_with("userdata/config.json"));

        // Every top-level field of podman's sample is present.
        let sample = std::fs::read_to_string("/work/shared/podman-samples/inspect-container.json");
        if let Ok(sample) = sample {
            let sample: Value = serde_json::from_str(&sample).unwrap();
            let sample = if sample.is_array() { &sample[0] } else { &sample };
            for section in ["", "State", "Config"] {
                let (ours, theirs) = if section.is_empty() {
                    (&v, sample)
                } else {
                    (&v[section], &sample[section])
                };
                for key in theirs.as_object().unwrap().keys() {
                    assert!(ours.get(key).is_some(), "missing {section}.{key}");
                }
            }
        }
    }
}
