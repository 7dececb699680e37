//! `--tz`: the container's /etc/localtime is a copy of a zone file from the host's
//! tz database (`local`: the host's own /etc/localtime), as podman makes it.

use std::path::{Path, PathBuf};

use super::go_io_text;
use crate::error::{CoreError, Result};

/// Where the zone files are.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The host's zone, which `local` means.
const HOST_LOCALTIME: &str = "/etc/localtime";

/// podman's wording for an option refused at creation.
fn create_option_error(what: impl std::fmt::Display) -> CoreError {
    CoreError::Rejected(format!("running container create option: {what}"))
}

/// Checks at creation that `tz` is `local` or a zone file (not a directory).
pub(crate) fn check(tz: &str) -> Result<()> {
    if tz == "local" {
        return Ok(());
    }
    let zone = Path::new(ZONEINFO).join(tz);
    let meta = std::fs::metadata(&zone)
        .map_err(|e| create_option_error(format!("stat {}: {}", zone.display(), go_io_text(&e))))?;
    if meta.is_dir() {
        return Err(create_option_error("invalid timezone: is a directory"));
    }
    Ok(())
}

/// The host's zone file `tz` names, links resolved (a copy of it becomes the
/// container's /etc/localtime, so a later change on the host does not reach it).
pub(crate) fn zone_file(tz: &str) -> Result<PathBuf> {
    let wanted = if tz == "local" {
        PathBuf::from(HOST_LOCALTIME)
    } else {
        Path::new(ZONEINFO).join(tz)
    };
    std::fs::canonicalize(&wanted).map_err(|e| CoreError::io("finding the zone file", &wanted, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_checked_as_podman_checks_them() {
        assert!(check("local").is_ok());
        assert_eq!(
            check("Bogus/Zone").unwrap_err().to_string(),
            "running container create option: stat /usr/share/zoneinfo/Bogus/Zone: no such file or directory"
        );
        if Path::new("/usr/share/zoneinfo/Asia").is_dir() {
            assert!(check("Asia/Tokyo").is_ok());
            assert_eq!(
                check("Asia").unwrap_err().to_string(),
                "running container create option: invalid timezone: is a directory"
            );
            let zone = zone_file("Asia/Tokyo").unwrap();
            assert!(zone.is_absolute() && zone.is_file());
        }
    }
}
