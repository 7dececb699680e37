//! `--sysctl`: only the kernel parameters that belong to a namespace the container has
//! of its own may be set, as podman allows them.

use std::collections::BTreeMap;

use crate::container_spec::NetworkMode;
use crate::error::{CoreError, Result};

/// Namespaced IPC parameters podman allows one by one.
const IPC_SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Prefixes of whole namespaced families: the network namespace's and the IPC
/// namespace's message queues.
const SYSCTL_PREFIXES: &[&str] = &["net.", "fs.mqueue."];

/// True when `key` is a parameter a container may set.
fn allowed(key: &str) -> bool {
    IPC_SYSCTLS.contains(&key) || SYSCTL_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// `KEY=VALUE` entries as podman reads them, with podman's messages for a missing
/// `=`, stray spaces (a second `=` counts as one, as podman splits on every `=`) and
/// parameters that are not namespaced.
pub fn parse_sysctls(entries: &[String]) -> Result<BTreeMap<String, String>> {
    let mut sysctls = BTreeMap::new();
    for entry in entries {
        let mut fields = entry.split('=');
        let (Some(key), Some(value)) = (fields.next(), fields.next()) else {
            return Err(CoreError::Rejected(format!(
                "{entry} is invalid, sysctl values must be in the form of KEY=VALUE"
            )));
        };
        if format!("{}={}", key.trim(), value.trim()) != *entry {
            return Err(CoreError::Rejected(format!("'{entry}' is invalid, extra spaces found")));
        }
        check_allowed(key)?;
        sysctls.insert(key.to_string(), value.to_string());
    }
    Ok(sysctls)
}

fn check_allowed(key: &str) -> Result<()> {
    if allowed(key) {
        Ok(())
    } else {
        Err(CoreError::Rejected(format!("sysctl '{key}' is not allowed")))
    }
}

/// Refuses parameters that are not namespaced, and network ones for a container that
/// shares the host's network namespace (they would change the host).
pub(crate) fn check(sysctls: &BTreeMap<String, String>, network: NetworkMode) -> Result<()> {
    for (key, value) in sysctls {
        check_allowed(key)?;
        if network == NetworkMode::Host && key.starts_with("net.") {
            return Err(CoreError::InvalidArg(format!(
                "sysctl {key}={value} can't be set since Network Namespace set to host"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[&str]) -> Result<BTreeMap<String, String>> {
        parse_sysctls(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn namespaced_parameters_pass() {
        let s = parse(&["net.ipv4.ip_forward=1", "kernel.shmmax=100", "fs.mqueue.msg_max=20"]).unwrap();
        assert_eq!(s["net.ipv4.ip_forward"], "1");
        assert_eq!(s.len(), 3);
        assert!(check(&s, NetworkMode::Private).is_ok());
        assert!(check(&s, NetworkMode::None).is_ok());
    }

    #[test]
    fn podman_messages_for_refusals() {
        let msg = |e: &[&str]| parse(e).unwrap_err().to_string();
        assert_eq!(
            msg(&["foo"]),
            "foo is invalid, sysctl values must be in the form of KEY=VALUE"
        );
        assert_eq!(msg(&["vm.swappiness=1"]), "sysctl 'vm.swappiness' is not allowed");
        assert_eq!(msg(&["kernel.hostname=x"]), "sysctl 'kernel.hostname' is not allowed");
        assert_eq!(msg(&["net.a = 1"]), "'net.a = 1' is invalid, extra spaces found");
        assert_eq!(msg(&["net.a=1=2"]), "'net.a=1=2' is invalid, extra spaces found");

        let s = parse(&["net.ipv4.ip_forward=1"]).unwrap();
        let err = check(&s, NetworkMode::Host).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sysctl net.ipv4.ip_forward=1 can't be set since Network Namespace set to host: invalid argument"
        );
        let ipc = parse(&["kernel.sem=1 2 3 4"]).unwrap();
        assert!(check(&ipc, NetworkMode::Host).is_ok());
        let bad: BTreeMap<String, String> = [("vm.x".to_string(), "1".to_string())].into();
        assert!(check(&bad, NetworkMode::Private).is_err());
    }
}
