//! The local driver's options, validated as podman validates them, with podman's messages.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::path::Path;

use rustix::mount::MountFlags;

use crate::error::{Result, StorageError};

const KNOWN_KEYS: [&str; 10] = [
    "device", "o", "type", "uid", "gid", "size", "inodes", "noquota", "copy", "nocopy",
];

/// The options of a local volume, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalVolumeOptions {
    /// `type`: the filesystem to mount (`tmpfs`, `bind`, `ext4`, ...).
    pub fs_type: Option<String>,
    /// `device`: what to mount.
    pub device: Option<String>,
    /// `o`, as given: mount options (and podman's own uid=, gid=, size=, inodes=).
    pub mount_options: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Bytes (decimal units, as podman reads `2m`).
    pub size: Option<u64>,
    pub inodes: Option<u64>,
    pub no_quota: bool,
    /// `copy`/`nocopy`: whether image content is copied up on first use (default yes).
    pub copy: Option<bool>,
}

/// A filesystem to mount on a volume's `_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountSpec {
    pub fs_type: String,
    pub source: String,
    pub flags: MountFlags,
    pub data: String,
}

impl MountSpec {
    pub(crate) fn is_bind(&self) -> bool {
        self.flags.contains(MountFlags::BIND)
    }

    pub(crate) fn mount(&self, target: &Path) -> Result<()> {
        let data =
            CString::new(self.data.as_str()).map_err(|e| StorageError::io("mounting volume at", target, e.into()))?;
        let fs_type = if self.is_bind() { "none" } else { self.fs_type.as_str() };
        rustix::mount::mount(self.source.as_str(), target, fs_type, self.flags, data.as_c_str())
            .map_err(|e| StorageError::io("mounting volume at", target, e.into()))?;
        if self.is_bind() && self.flags.contains(MountFlags::RDONLY) {
            // A bind mount ignores MS_RDONLY until remounted.
            rustix::mount::mount_remount(target, MountFlags::BIND | MountFlags::RDONLY, "")
                .map_err(|e| StorageError::io("remounting volume read-only at", target, e.into()))?;
        }
        Ok(())
    }
}

fn atoi_err(what: &str, v: &str) -> StorageError {
    StorageError::volume_option(format!(
        "cannot convert {what} {v} to integer: strconv.Atoi: parsing {v:?}: invalid syntax"
    ))
}

fn parse_id(what: &str, v: Option<&str>) -> Result<u32> {
    let Some(v) = v else {
        return Err(StorageError::volume_option(format!(
            "{} option must provide a {what}: invalid argument",
            what.to_ascii_lowercase()
        )));
    };
    v.parse().map_err(|_| atoi_err(what, v))
}

fn parse_inodes(v: Option<&str>) -> Result<u64> {
    let v = v.unwrap_or("");
    v.parse().map_err(|_| {
        StorageError::volume_option(format!(
            "cannot convert inodes {v} to integer: strconv.ParseUint: parsing {v:?}: invalid syntax"
        ))
    })
}

/// podman's human sizes (`1024`, `2m`, `1.5GB`), decimal units: `k` is 1000.
pub fn parse_human_size(v: &str) -> Result<u64> {
    let bad = || StorageError::volume_option(format!("cannot convert size {v} to integer: invalid size: '{v}'"));
    let s = v.trim();
    let digits_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits_end);
    let num: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let mult: f64 = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        _ => return Err(bad()),
    };
    Ok((num * mult) as u64)
}

impl LocalVolumeOptions {
    /// Validates and parses a volume's driver options.
    pub fn parse(options: &BTreeMap<String, String>) -> Result<Self> {
        let mut out = LocalVolumeOptions::default();
        for (key, value) in options {
            let lower = key.to_ascii_lowercase();
            if !KNOWN_KEYS.contains(&lower.as_str()) {
                return Err(StorageError::volume_option(format!(
                    "invalid mount option {key} for driver 'local': invalid argument"
                )));
            }
            match lower.as_str() {
                "device" => out.device = Some(value.clone()),
                "type" => out.fs_type = Some(value.to_ascii_lowercase()),
                "o" => out.mount_options = Some(value.clone()),
                "uid" => out.uid = Some(parse_id("UID", Some(value))?),
                "gid" => out.gid = Some(parse_id("GID", Some(value))?),
                "size" => out.size = Some(parse_human_size(value)?),
                "inodes" => out.inodes = Some(parse_inodes(Some(value))?),
                "noquota" => out.no_quota = true,
                "copy" => out.copy = Some(true),
                _ => out.copy = Some(false),
            }
        }
        if let Some(o) = &out.mount_options {
            for opt in o.split(',') {
                let (k, v) = match opt.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (opt, None),
                };
                match k.to_ascii_lowercase().as_str() {
                    "uid" => out.uid = Some(parse_id("UID", v)?),
                    "gid" => out.gid = Some(parse_id("GID", v)?),
                    "size" => out.size = Some(parse_human_size(v.unwrap_or(""))?),
                    "inodes" => out.inodes = Some(parse_inodes(v)?),
                    "noquota" => out.no_quota = true,
                    _ => {}
                }
            }
        }
        let tmpfs = out.fs_type.as_deref() == Some("tmpfs");
        let sized = out.size.is_some() || out.inodes.is_some();
        if out.no_quota && sized {
            return Err(StorageError::volume_option(
                "volume options size and inodes cannot be used without quota",
            ));
        }
        if tmpfs && out.inodes.is_some() {
            return Err(StorageError::volume_option(
                "volume option inodes not supported on tmpfs filesystem",
            ));
        }
        if !tmpfs && sized {
            return Err(StorageError::volume_option(
                "volume options size and inodes not supported. Filesystem does not support Project Quota",
            ));
        }
        if out.fs_type.as_deref() == Some("bind") {
            let dev = out.device.as_deref().unwrap_or("");
            if let Err(e) = std::fs::metadata(dev) {
                return Err(StorageError::volume_option(format!(
                    "invalid volume option device for driver 'local': stat {dev}: {}",
                    io_text(&e)
                )));
            }
        }
        if out.fs_type.is_none() && out.device.is_some() {
            return Err(StorageError::volume_option(
                "invalid volume option device for driver 'local': a device needs a type to be mounted",
            ));
        }
        if let Some(t) = &out.fs_type
            && t != "tmpfs"
            && out.device.is_none()
        {
            return Err(StorageError::volume_option(format!(
                "invalid volume option type for driver 'local': type {t} needs a device"
            )));
        }
        Ok(out)
    }

    /// The filesystem to mount on `_data`, when the volume has one.
    pub(crate) fn mount_spec(&self) -> Option<MountSpec> {
        let fs_type = self.fs_type.clone()?;
        let mut flags = MountFlags::empty();
        let mut data: Vec<String> = Vec::new();
        for opt in self.mount_options.as_deref().unwrap_or("").split(',') {
            let name = opt.split('=').next().unwrap_or("").to_ascii_lowercase();
            match name.as_str() {
                "" | "rw" | "dev" | "exec" | "suid" | "async" | "noquota" => {}
                "ro" => flags |= MountFlags::RDONLY,
                "nodev" => flags |= MountFlags::NODEV,
                "noexec" => flags |= MountFlags::NOEXEC,
                "nosuid" => flags |= MountFlags::NOSUID,
                "sync" => flags |= MountFlags::SYNCHRONOUS,
                "noatime" => flags |= MountFlags::NOATIME,
                "nodiratime" => flags |= MountFlags::NODIRATIME,
                "relatime" => flags |= MountFlags::RELATIME,
                "strictatime" => flags |= MountFlags::STRICTATIME,
                "bind" => flags |= MountFlags::BIND,
                "rbind" => flags |= MountFlags::BIND | MountFlags::REC,
                "inodes" => {}
                _ => data.push(opt.to_string()),
            }
        }
        if fs_type == "bind" {
            flags |= MountFlags::BIND;
        }
        if fs_type == "tmpfs" {
            let given: Vec<String> = data
                .iter()
                .filter_map(|d| d.split('=').next())
                .map(String::from)
                .collect();
            let implied = [
                ("size", self.size.map(|v| v.to_string())),
                ("uid", self.uid.map(|v| v.to_string())),
                ("gid", self.gid.map(|v| v.to_string())),
            ];
            for (key, value) in implied {
                if let Some(v) = value
                    && !given.iter().any(|g| g == key)
                {
                    data.push(format!("{key}={v}"));
                }
            }
        } else {
            data.retain(|d| !matches!(d.split('=').next(), Some("uid" | "gid" | "size")));
        }
        let source = self.device.clone().unwrap_or_else(|| fs_type.clone());
        Some(MountSpec {
            fs_type,
            source,
            flags,
            data: data.join(","),
        })
    }
}

/// Go's wording for the common errors of `stat`.
fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<LocalVolumeOptions> {
        LocalVolumeOptions::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn podman_messages() {
        let msg = |pairs: &[(&str, &str)]| parse(pairs).unwrap_err().to_string();
        assert_eq!(
            msg(&[("badOpt", "bad")]),
            "invalid mount option badOpt for driver 'local': invalid argument"
        );
        assert_eq!(
            msg(&[("type", "bind"), ("device", "/bogus/nothere")]),
            "invalid volume option device for driver 'local': stat /bogus/nothere: no such file or directory"
        );
        assert_eq!(msg(&[("o", "uid")]), "uid option must provide a UID: invalid argument");
        assert_eq!(
            msg(&[("o", "gid=abc")]),
            "cannot convert GID abc to integer: strconv.Atoi: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            msg(&[("o", "size=lots")]),
            "cannot convert size lots to integer: invalid size: 'lots'"
        );
        assert_eq!(
            msg(&[("o", "size=2m")]),
            "volume options size and inodes not supported. Filesystem does not support Project Quota"
        );
        assert_eq!(
            msg(&[("type", "tmpfs"), ("o", "inodes=10")]),
            "volume option inodes not supported on tmpfs filesystem"
        );
        assert_eq!(
            msg(&[("type", "tmpfs"), ("o", "size=1m,noquota")]),
            "volume options size and inodes cannot be used without quota"
        );
        let e = parse(&[("nope", "x")]).unwrap_err();
        assert_eq!(corral_define::HasKind::kind(&e), corral_define::ErrorKind::InvalidArg);
    }

    #[test]
    fn tmpfs_mount_spec() {
        let o = parse(&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=2m,nodev,uid=1000")]).unwrap();
        assert_eq!(o.size, Some(2_000_000));
        assert_eq!(o.uid, Some(1000));
        let spec = o.mount_spec().unwrap();
        assert_eq!(spec.data, "size=2m,uid=1000");
        assert_eq!(spec.flags, MountFlags::NODEV);
        assert_eq!(spec.source, "tmpfs");
        let plain = parse(&[("o", "uid=5,gid=6")]).unwrap();
        assert_eq!((plain.uid, plain.gid), (Some(5), Some(6)));
        assert!(plain.mount_spec().is_none());
        assert_eq!(parse_human_size("1.5k").unwrap(), 1500);
        assert_eq!(parse_human_size("3MiB").unwrap(), 3_000_000);
        assert_eq!(parse_human_size("512").unwrap(), 512);
    }
}
