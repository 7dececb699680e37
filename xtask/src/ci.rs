//! `cargo xtask ci`: what `.ci/run` runs on a fresh clone.

use anyhow::{Result, bail};
use std::process::Command;

pub fn run() -> Result<()> {
    crate::setup::run()?;
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])?;
    cargo(&["doc", "--workspace", "--no-deps"], &[("RUSTDOCFLAGS", "-D warnings")])?;
    cargo(&["test", "--workspace", "--doc"], &[])?;
    // nextest last, so its summary line closes the output.
    if has_nextest() {
        cargo(&["nextest", "run", "--workspace", "--no-fail-fast"], &[])
    } else {
        cargo(&["test", "--workspace", "--no-fail-fast"], &[])
    }
}

fn has_nextest() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    eprintln!("ci: cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .status()?;
    if !status.success() {
        bail!("cargo {} failed with {status}", args.join(" "));
    }
    Ok(())
}
