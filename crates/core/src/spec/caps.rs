//! Capabilities: podman's default set, `--cap-add`/`--cap-drop`, privileged.

use corral_define::DEFAULT_CAPABILITIES;

use crate::error::{CoreError, Result};

/// Every capability, by number.
const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The capabilities this process may hand on: its bounding set (`CapBnd` in
/// /proc/self/status), as podman's privileged containers get; every known one when
/// that cannot be read.
pub(crate) fn host_caps() -> Vec<String> {
    let bounding = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("CapBnd:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
    });
    ALL_CAPS
        .iter()
        .enumerate()
        .filter(|(bit, _)| bounding.is_none_or(|mask| mask & (1u64 << bit) != 0))
        .map(|(_, c)| c.to_string())
        .collect()
}

/// `net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` all name CAP_NET_ADMIN; `ALL` stays `ALL`.
pub(crate) fn normalize(name: &str) -> Result<String> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if ALL_CAPS.contains(&full.as_str()) {
        Ok(full)
    } else {
        Err(CoreError::InvalidArg(format!("unknown capability {name:?}")))
    }
}

/// The bounding set: every capability when privileged, else the defaults with `add`
/// added and `drop` dropped (`ALL` meaning every one).
pub(crate) fn bounding_set(privileged: bool, add: &[String], drop: &[String]) -> Result<Vec<String>> {
    let add = add.iter().map(|c| normalize(c)).collect::<Result<Vec<_>>>()?;
    let drop = drop.iter().map(|c| normalize(c)).collect::<Result<Vec<_>>>()?;
    if privileged || add.iter().any(|c| c == "ALL") {
        let all = host_caps();
        return Ok(all.into_iter().filter(|c| !drop.contains(c)).collect());
    }
    let mut caps: Vec<String> = if drop.iter().any(|c| c == "ALL") {
        Vec::new()
    } else {
        DEFAULT_CAPABILITIES
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .collect()
    };
    for c in add {
        if !caps.contains(&c) {
            caps.push(c);
        }
    }
    caps.sort();
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_drop_and_privileged() {
        let caps = bounding_set(false, &[], &[]).unwrap();
        assert_eq!(caps.len(), DEFAULT_CAPABILITIES.len());
        let caps = bounding_set(false, &["net_admin".into()], &["CHOWN".into()]).unwrap();
        assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!caps.contains(&"CAP_CHOWN".to_string()));
        let caps = bounding_set(false, &["NET_RAW".into()], &["all".into()]).unwrap();
        assert_eq!(caps, ["CAP_NET_RAW"]);
        let caps = bounding_set(true, &[], &[]).unwrap();
        assert!(caps.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(bounding_set(false, &["CAP_BOGUS".into()], &[]).is_err());
    }
}
