//! `corral container cleanup`: what conmon's exit command runs when a
//! container's process exits (unmount, restart policy, `--rm`).

use std::io::Write;

use clap::Args;

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    /// Cleans up all containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Remove container (and pod if created) after exit
    #[arg(long)]
    pub rm: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn run(args: &CleanupArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let targets = select(&runtime, &args.containers, args.all, args.latest)?;
    let mut report = Report::new();
    engine::block_on(async {
        for (_, container) in &targets {
            let mut result = runtime
                .cleanup_container(container.id())
                .await
                .map_err(anyhow::Error::from);
            if result.is_ok() && args.rm && runtime.lookup_container(container.id()).is_ok() {
                result = container.remove(Default::default()).await.map_err(anyhow::Error::from);
            }
            report.record(out, container.id(), result)?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
