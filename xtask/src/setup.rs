//! `cargo xtask setup`: everything the engine and its tests need from the
//! machine, installed only when missing, and silent when nothing is.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// Debian packages the engine drives and the tests use.
pub const PACKAGES: &[&str] = &[
    "crun",
    "runc",
    "conmon",
    "containernetworking-plugins",
    "iptables",
    "catatonit",
    "criu",
    "busybox-static",
    "uidmap",
    "skopeo",
    "umoci",
    // GNU time: `bench` reads peak RSS through it (see bench_cli::peak_rss_kib).
    "time",
];

pub fn run() -> Result<()> {
    install_missing_packages()?;
    ensure_hugetlb_v1_mounted()?;
    Ok(())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn install_missing_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("setup: installing {}", missing.join(" "));
    let status = Command::new("apt-get")
        .arg("update")
        .arg("-qq")
        .status()
        .context("running apt-get update")?;
    if !status.success() {
        bail!("apt-get update failed with {status}");
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get install")?;
    if !status.success() {
        bail!("apt-get install {} failed with {status}", missing.join(" "));
    }
    Ok(())
}

/// crun refuses to run while the hugetlb controller is only on the cgroup v2
/// side of a hybrid hierarchy; mounting it on the v1 side cures that. The
/// mount does not survive a reboot, so it is checked on every setup.
fn ensure_hugetlb_v1_mounted() -> Result<()> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").context("reading /proc/self/mounts")?;
    let cgroup_root_is_v2 = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 2 && f[1] == "/sys/fs/cgroup" && f[2] == "cgroup2"
    });
    if cgroup_root_is_v2 {
        return Ok(());
    }
    let hugetlb_on_v1 = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[2] == "cgroup" && f[3].split(',').any(|o| o == "hugetlb")
    });
    let kernel_has_hugetlb = std::fs::read_to_string("/proc/cgroups")
        .map(|c| c.lines().any(|l| l.starts_with("hugetlb")))
        .unwrap_or(false);
    if hugetlb_on_v1 || !kernel_has_hugetlb {
        return Ok(());
    }
    let dir = Path::new("/sys/fs/cgroup/hugetlb");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let status = Command::new("mount")
        .args(["-t", "cgroup", "-o", "hugetlb", "cgroup"])
        .arg(dir)
        .status()
        .context("running mount for the hugetlb cgroup")?;
    if !status.success() {
        bail!(
            "mounting the hugetlb cgroup controller on {} failed with {status}",
            dir.display()
        );
    }
    eprintln!("setup: mounted the hugetlb cgroup controller on {}", dir.display());
    Ok(())
}
