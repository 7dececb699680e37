//! `corral system renumber` and `corral system migrate`: the engine-wide verbs of
//! corral-core ([`Runtime::renumber`](corral_core::Runtime::renumber),
//! [`Runtime::migrate`](corral_core::Runtime::migrate)).

use std::io::Write;

use anyhow::Context;
use clap::Args;

use crate::cli::GlobalOptions;
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// Specify a new runtime for all containers
    #[arg(long, value_name = "string")]
    pub new_runtime: Option<String>,
}

/// Gives every container, pod and volume a fresh lock; refused while a container runs.
pub fn renumber(global: &GlobalOptions) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    engine::block_on(runtime.renumber())??;
    Ok(())
}

/// Stops the running containers, printing `stopped ID` for each as podman does, and
/// moves every container to `--new-runtime` when given.
pub fn migrate(args: &MigrateArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let report = engine::block_on(runtime.migrate(args.new_runtime.as_deref()))??;
    for id in &report.stopped {
        writeln!(out, "stopped {id}").context("writing the stopped containers")?;
    }
    Ok(())
}
