//! Seccomp profiles: containers-common's `seccomp.json` turned into the OCI spec's
//! `linux.seccomp` for this host's architecture and the container's capabilities.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{CoreError, Result};

/// This host's seccomp architecture name and the Go name profiles filter on.
fn host_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("SCMP_ARCH_X86_64", "amd64"),
        "aarch64" => ("SCMP_ARCH_AARCH64", "arm64"),
        "x86" => ("SCMP_ARCH_X86", "386"),
        "arm" => ("SCMP_ARCH_ARM", "arm"),
        "s390x" => ("SCMP_ARCH_S390X", "s390x"),
        "powerpc64" => ("SCMP_ARCH_PPC64LE", "ppc64le"),
        "riscv64" => ("SCMP_ARCH_RISCV64", "riscv64"),
        _ => ("", ""),
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether a rule's `includes`/`excludes` let it apply here.
fn applies(rule: &Map<String, Value>, caps: &[String], go_arch: &str) -> bool {
    let has_cap = |c: &str| caps.iter().any(|have| have == c);
    if let Some(inc) = rule.get("includes").and_then(Value::as_object) {
        let arches = strings(inc.get("arches"));
        if !arches.is_empty() && !arches.contains(&go_arch) {
            return false;
        }
        let need = strings(inc.get("caps"));
        if !need.is_empty() && !need.iter().all(|c| has_cap(c)) {
            return false;
        }
    }
    if let Some(exc) = rule.get("excludes").and_then(Value::as_object) {
        if strings(exc.get("arches")).contains(&go_arch) {
            return false;
        }
        if strings(exc.get("caps")).iter().any(|c| has_cap(c)) {
            return false;
        }
    }
    true
}

/// Converts a profile (containers-common's format, which the OCI one is a subset of)
/// into the OCI `linux.seccomp` object.
pub(crate) fn convert(profile: &Value, caps: &[String]) -> Result<Value> {
    let obj = profile
        .as_object()
        .ok_or_else(|| CoreError::InvalidArg("seccomp profile is not a JSON object".into()))?;
    let (arch, go_arch) = host_arch();
    let architectures: Vec<Value> = if let Some(list) = obj.get("architectures").and_then(Value::as_array) {
        list.clone()
    } else {
        let mut out = Vec::new();
        for entry in obj.get("archMap").and_then(Value::as_array).into_iter().flatten() {
            if entry.get("architecture").and_then(Value::as_str) == Some(arch) {
                out.push(json!(arch));
                out.extend(strings(entry.get("subArchitectures")).into_iter().map(|s| json!(s)));
            }
        }
        out
    };
    let mut syscalls = Vec::new();
    for rule in obj.get("syscalls").and_then(Value::as_array).into_iter().flatten() {
        let Some(rule) = rule.as_object() else { continue };
        if !applies(rule, caps, go_arch) {
            continue;
        }
        let mut names = strings(rule.get("names"));
        if let Some(name) = rule.get("name").and_then(Value::as_str) {
            names.push(name);
        }
        if names.is_empty() {
            continue;
        }
        let mut out = Map::new();
        out.insert("names".into(), json!(names));
        out.insert(
            "action".into(),
            rule.get("action").cloned().unwrap_or(json!("SCMP_ACT_ALLOW")),
        );
        if let Some(args) = rule.get("args").and_then(Value::as_array).filter(|a| !a.is_empty()) {
            out.insert("args".into(), json!(args));
        }
        if let Some(ret) = rule.get("errnoRet").filter(|v| v.is_u64()) {
            out.insert("errnoRet".into(), ret.clone());
        }
        syscalls.push(Value::Object(out));
    }
    let mut out = Map::new();
    out.insert(
        "defaultAction".into(),
        obj.get("defaultAction").cloned().unwrap_or(json!("SCMP_ACT_ERRNO")),
    );
    if let Some(ret) = obj.get("defaultErrnoRet").filter(|v| v.is_u64()) {
        out.insert("defaultErrnoRet".into(), ret.clone());
    }
    out.insert("architectures".into(), json!(architectures));
    out.insert("syscalls".into(), json!(syscalls));
    Ok(Value::Object(out))
}

/// Loads and converts the profile at `path`.
pub(crate) fn load(path: &Path, caps: &[String]) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| CoreError::io("reading seccomp profile", path, e))?;
    let profile: Value = serde_json::from_str(&text).map_err(|source| CoreError::Json {
        what: "decoding seccomp profile",
        path: path.to_path_buf(),
        source,
    })?;
    convert(&profile, caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_caps_and_arch() {
        let (arch, go_arch) = host_arch();
        let profile = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 38,
            "archMap": [{"architecture": arch, "subArchitectures": ["SUB"]}, {"architecture": "OTHER"}],
            "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [], "includes": {}, "excludes": {}},
                {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
                {"names": ["archonly"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": [go_arch]}},
                {"names": ["never"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["nowhere"]}},
                {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "EPERM"}
            ]
        });
        let out = convert(&profile, &["CAP_KILL".to_string()]).unwrap();
        assert_eq!(out["architectures"], json!([arch, "SUB"]));
        assert_eq!(out["defaultErrnoRet"], 38);
        let names: Vec<&str> = out["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["names"][0].as_str().unwrap())
            .collect();
        assert_eq!(names, ["read", "ptrace", "archonly", "kill"]);
        assert!(out["syscalls"][3].get("errno").is_none());
        assert_eq!(out["syscalls"][3]["errnoRet"], 1);
    }

    #[test]
    fn loads_the_installed_profile_when_present() {
        let path = Path::new("/usr/share/containers/seccomp.json");
        if path.exists() {
            let out = load(path, &["CAP_CHOWN".to_string()]).unwrap();
            assert!(out["syscalls"].as_array().unwrap().len() > 10);
        }
        assert!(load(Path::new("/no/such/profile.json"), &[]).is_err());
    }
}
