//! Resolving `--user` in the container's own /etc/passwd and /etc/group.

use std::path::Path;

use corral_define::CompactString;

use crate::error::{CoreError, Result};

/// Who the container's process runs as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

/// Reads `<rootfs>/<rel>`, treating a missing file (or a symlink, which could point out
/// of the root filesystem) as empty.
fn read_etc(rootfs: &Path, rel: &str) -> Result<String> {
    let path = rootfs.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => std::fs::read_to_string(&path).map_err(|e| CoreError::io("reading", &path, e)),
        Ok(_) => Ok(String::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(CoreError::io("inspecting", &path, e)),
    }
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 7 {
            return None;
        }
        Some(PasswdEntry {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f[5],
        })
    })
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 4 {
            return None;
        }
        Some(GroupEntry {
            name: f[0],
            gid: f[2].parse().ok()?,
            members: f[3].split(',').filter(|m| !m.is_empty()).collect(),
        })
    })
}

fn find_group(groups: &str, spec: &str) -> Result<u32> {
    if let Ok(gid) = spec.parse::<u32>() {
        return Ok(gid);
    }
    group_entries(groups)
        .find(|g| g.name == spec)
        .map(|g| g.gid)
        .ok_or_else(|| {
            CoreError::InvalidArg(format!(
                "unable to find group {spec}: no matching entries in group file"
            ))
        })
}

/// Resolves `user` (`""`, `name`, `uid`, `name:group`, `uid:gid`) and `extra_groups`
/// against the root filesystem, as podman does: a name must exist; a number need not
/// (its group is then 0 and its home `/`).
pub(crate) fn resolve(rootfs: &Path, user: &str, extra_groups: &[CompactString]) -> Result<ResolvedUser> {
    let passwd = read_etc(rootfs, "etc/passwd")?;
    let groups = read_etc(rootfs, "etc/group")?;
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let (uid, mut gid, home, name) = match user_part.parse::<u32>() {
        Ok(uid) => match passwd_entries(&passwd).find(|e| e.uid == uid) {
            Some(e) => (uid, e.gid, e.home.to_string(), Some(e.name.to_string())),
            None => (uid, 0, "/".to_string(), None),
        },
        Err(_) => {
            let e = passwd_entries(&passwd).find(|e| e.name == user_part).ok_or_else(|| {
                CoreError::InvalidArg(format!(
                    "unable to find user {user_part}: no matching entries in passwd file"
                ))
            })?;
            (e.uid, e.gid, e.home.to_string(), Some(e.name.to_string()))
        }
    };
    let mut additional_gids = Vec::new();
    if let Some(g) = group_part {
        gid = find_group(&groups, g)?;
    } else if let Some(name) = &name {
        additional_gids.extend(
            group_entries(&groups)
                .filter(|g| g.members.contains(&name.as_str()) && g.gid != gid)
                .map(|g| g.gid),
        );
    }
    for g in extra_groups {
        let gid = find_group(&groups, g)?;
        if !additional_gids.contains(&gid) {
            additional_gids.push(gid);
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\ncorral:x:1000:1000:corral:/home/corral:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\ncorral:x:1000:\nwheel:x:10:corral\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn names_numbers_and_groups() {
        let dir = rootfs();
        let root = resolve(dir.path(), "", &[]).unwrap();
        assert_eq!((root.uid, root.gid, root.home.as_str()), (0, 0, "/root"));
        let u = resolve(dir.path(), "corral", &[]).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (1000, 1000, "/home/corral"));
        assert_eq!(u.additional_gids, [10]);
        let u = resolve(dir.path(), "1000:wheel", &["root".into()]).unwrap();
        assert_eq!((u.uid, u.gid), (1000, 10));
        assert_eq!(u.additional_gids, [0]);
        let u = resolve(dir.path(), "4242", &[]).unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (4242, 0, "/"));
        let err = resolve(dir.path(), "nobody", &[]).unwrap_err();
        assert!(err.to_string().contains("no matching entries in passwd file"), "{err}");
        assert!(resolve(dir.path(), "corral:nogroup", &[]).is_err());
    }
}
