//! [`Version`]: podman's `define.Version`, what `version` and `info` report.

use serde::Serialize;

/// This engine's version facts, with podman's JSON names; `RustVersion` where
/// podman has `GoVersion`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    #[serde(rename = "APIVersion")]
    pub api_version: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "RustVersion")]
    pub rust_version: String,
    #[serde(rename = "GitCommit")]
    pub git_commit: String,
    #[serde(rename = "BuiltTime")]
    pub built_time: String,
    #[serde(rename = "Built")]
    pub built: i64,
    #[serde(rename = "OsArch")]
    pub os_arch: String,
    #[serde(rename = "Os")]
    pub os: String,
}

/// Go's name for the machine architecture (`amd64`, `arm64`, ...).
pub(crate) fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// Go's `time.ANSIC` layout in local time: `Thu Jan  1 00:00:00 1970`.
fn ansic(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|time| {
            time.with_timezone(&chrono::Local)
                .format("%a %b %e %H:%M:%S %Y")
                .to_string()
        })
        .unwrap_or_default()
}

impl Version {
    /// This build's version. `CORRAL_GIT_COMMIT` and `CORRAL_BUILD_TIME`
    /// (seconds since the epoch), when set at build time, fill the commit
    /// and build time, as podman's build does.
    pub fn current() -> Self {
        let built = option_env!("CORRAL_BUILD_TIME")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Version {
            api_version: env!("CARGO_PKG_VERSION").to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            rust_version: env!("CORRAL_RUSTC_VERSION").to_owned(),
            git_commit: option_env!("CORRAL_GIT_COMMIT").unwrap_or_default().to_owned(),
            built_time: ansic(built),
            built,
            os_arch: format!("{}/{}", std::env::consts::OS, go_arch(std::env::consts::ARCH)),
            os: std::env::consts::OS.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_for_architectures() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("s390x"), "s390x");
        assert_eq!(ansic(0).len(), "Thu Jan  1 00:00:00 1970".len());
    }

    #[test]
    fn current_names_this_build() {
        let v = Version::current();
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        assert!(v.rust_version.starts_with("1."), "{}", v.rust_version);
        assert_eq!(v.os_arch, format!("linux/{}", go_arch(std::env::consts::ARCH)));
    }
}
