//! `corral info` (and `corral system info`): the host, the store and the version, in
//! podman's layout: YAML by default, JSON with `--format json`, and Go templates over
//! podman's field names (`{{.Store.GraphRoot}}`).

use std::io::Write;

use anyhow::Context;
use clap::Args;
use corral_core::Runtime;
use corral_define::ContainerStatus;
use corral_storage::ImageStore;
use serde_json::{Map, Value, json};

use crate::cli::GlobalOptions;
use crate::commands::version::Version;
use crate::engine;
use crate::format::{Formatter, JsonStyle, Origin, is_json, to_json_line};

#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,

    /// Add extra debug information
    #[arg(short = 'D', long)]
    pub debug: bool,
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

fn os_release() -> Value {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default()
    };
    json!({"distribution": field("ID"), "version": field("VERSION_ID"), "codename": field("VERSION_CODENAME")})
}

/// Controllers the kernel has enabled (`/proc/cgroups`), as podman lists them on cgroup v1.
fn cgroup_controllers() -> Vec<String> {
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers");
    if let Ok(list) = v2 {
        return list.split_whitespace().map(str::to_owned).collect();
    }
    std::fs::read_to_string("/proc/cgroups")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.get(3) == Some(&"1")).then(|| fields[0].to_owned())
        })
        .collect()
}

fn uptime() -> String {
    let seconds: f64 = read_trimmed("/proc/uptime")
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    let whole = seconds as u64;
    format!("{}h {}m {:.2}s", whole / 3600, (whole % 3600) / 60, seconds % 60.0)
}

/// The whole report, with podman's JSON keys.
pub fn report(runtime: &Runtime) -> anyhow::Result<Value> {
    let options = runtime.options();
    let oci = engine::block_on(runtime.oci_runtime().runtime_info())??;
    let conmon = oci.conmon.unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let version = Version::current();
    let arch = version.os_arch.split('/').nth(1).unwrap_or_default().to_owned();
    let cgroup_version = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "v2"
    } else {
        "v1"
    };
    let (mut running, mut paused, mut stopped) = (0, 0, 0);
    let containers = runtime.get_containers()?;
    for ctr in &containers {
        match engine::block_on(ctr.status())?? {
            ContainerStatus::Running => running += 1,
            ContainerStatus::Paused => paused += 1,
            _ => stopped += 1,
        }
    }
    let images = runtime.storage().list()?.len();
    let seccomp = options.seccomp_profile.exists();
    let host = json!({
        "arch": arch,
        "cgroupManager": options.cgroup_manager.as_str(),
        "cgroupVersion": cgroup_version,
        "cgroupControllers": cgroup_controllers(),
        "conmon": {"package": conmon.package, "path": conmon.path, "version": conmon.version},
        "cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "distribution": os_release(),
        "eventLogger": "file",
        "hostname": read_trimmed("/proc/sys/kernel/hostname"),
        "idMappings": {"gidmap": null, "uidmap": null},
        "kernel": read_trimmed("/proc/sys/kernel/osrelease"),
        "logDriver": "k8s-file",
        "memFree": meminfo(&mem, "MemAvailable"),
        "memTotal": meminfo(&mem, "MemTotal"),
        "ociRuntime": {"name": oci.runtime.name, "package": oci.runtime.package,
                       "path": oci.runtime.path, "version": oci.runtime.version},
        "os": version.os,
        "security": {
            "rootless": !is_root(),
            "seccompEnabled": seccomp,
            "seccompProfilePath": if seccomp { options.seccomp_profile.display().to_string() } else { String::new() },
        },
        "serviceIsRemote": false,
        "swapFree": meminfo(&mem, "SwapFree"),
        "swapTotal": meminfo(&mem, "SwapTotal"),
        "uptime": uptime(),
    });
    let store = json!({
        "containerStore": {"number": containers.len(), "paused": paused, "running": running, "stopped": stopped},
        "graphDriverName": runtime.storage().driver().as_str(),
        "graphOptions": {},
        "graphRoot": runtime.storage().root(),
        "imageCopyTmpDir": "/var/tmp",
        "imageStore": {"number": images},
        "runRoot": runtime.storage().run_root(),
        "volumePath": options.volume_path(),
    });
    Ok(json!({
        "host": host,
        "store": store,
        "registries": {},
        "plugins": {"volume": ["local"], "network": [], "log": ["k8s-file"], "authorization": null},
        "version": serde_json::to_value(&version)?,
    }))
}

fn is_root() -> bool {
    read_trimmed("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next().map(|u| u == "0"))
        .unwrap_or(false)
}

/// podman's Go field name for a JSON key.
fn go_name(key: &str) -> String {
    let special = [
        ("cgroupVersion", "CgroupsVersion"),
        ("ociRuntime", "OCIRuntime"),
        ("os", "OS"),
        ("cpus", "CPUs"),
        ("idMappings", "IDMappings"),
        ("gidmap", "GIDMap"),
        ("uidmap", "UIDMap"),
        ("seccompEnabled", "SECCOMPEnabled"),
        ("seccompProfilePath", "SECCOMPProfilePath"),
    ];
    if let Some((_, go)) = special.iter().find(|(json, _)| *json == key) {
        return (*go).to_owned();
    }
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The report with Go field names, for templates.
fn go_fields(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (go_name(k), go_fields(v)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// A YAML scalar as Go's yaml writes it: plain when it can be, quoted otherwise.
fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.contains(": ")
                && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
                && !s.ends_with(' ')
                && s.parse::<f64>().is_err()
                && !matches!(s.as_str(), "true" | "false" | "null" | "~" | "yes" | "no");
            if plain {
                s.clone()
            } else {
                format!("'{}'", s.replace('\'', "''"))
            }
        }
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if m.is_empty() => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Object(_) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if a.is_empty() => out.push_str(&format!("{pad}{k}: []\n")),
                    Value::Array(a) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        for item in a {
                            out.push_str(&format!("{pad}- {}\n", yaml_scalar(item)));
                        }
                    }
                    Value::String(s) if s.contains('\n') => {
                        out.push_str(&format!("{pad}{k}: |-\n"));
                        for line in s.lines() {
                            out.push_str(&format!("{pad}  {line}\n"));
                        }
                    }
                    scalar => out.push_str(&format!("{pad}{k}: {}\n", yaml_scalar(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

/// Renders the report for `format` (None: podman's YAML).
pub fn render(report: &Value, format: Option<&str>) -> anyhow::Result<String> {
    match format {
        None | Some("yaml") => {
            let mut out = String::new();
            write_yaml(report, 0, &mut out);
            Ok(out)
        }
        Some(f) if is_json(f) => Ok(to_json_line(report, JsonStyle::LIST)?),
        Some(f) => {
            let mut formatter = Formatter::parse("info", Origin::Unknown, f)?;
            formatter.execute(&go_fields(report))?;
            Ok(formatter.finish())
        }
    }
}

pub fn run(args: &InfoArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let text = render(&report(&runtime)?, args.format.as_deref())?;
    out.write_all(text.as_bytes()).context("writing the info")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let report = json!({"host": {"ociRuntime": {"version": "crun 1\nspec: 1"}, "os": "linux",
                            "list": ["a"], "none": []},
                            "store": {"graphRoot": "/r", "graphOptions": {}, "imageStore": {"number": 2}}});
        assert_eq!(
            render(&report, None).unwrap(),
            "host:\n  list:\n  - a\n  none: []\n  ociRuntime:\n    version: |-\n      crun 1\n      spec: 1\n  os: linux\n\
             store:\n  graphOptions: {}\n  graphRoot: /r\n  imageStore:\n    number: 2\n"
        );
        assert_eq!(render(&report, Some("{{.Store.GraphRoot}}")).unwrap(), "/r\n");
        assert_eq!(
            render(&report, Some("{{.Host.OS}} {{.Store.ImageStore.Number}}")).unwrap(),
            "linux 2\n"
        );
        let json: Value = serde_json::from_str(&render(&report, Some("json")).unwrap()).unwrap();
        assert_eq!(json["store"]["graphRoot"], "/r");
        assert_eq!(yaml_scalar(&json!("")), "''");
        assert_eq!(yaml_scalar(&json!("1.5")), "'1.5'");
    }
}
