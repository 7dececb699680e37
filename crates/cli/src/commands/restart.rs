//! `corral restart`: stop when running, then start.

use std::io::Write;

use clap::Args;

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// Restart all non-running containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Restart only running containers
    #[arg(long)]
    pub running: bool,

    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", value_name = "int")]
    pub time: Option<u32>,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn run(args: &RestartArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let mut targets = select(&runtime, &args.containers, args.all, args.latest)?;
    if args.running {
        targets.retain(|(_, c)| c.record().is_ok_and(|r| r.state.state.is_active()));
    }
    let mut report = Report::new();
    engine::block_on(async {
        for (name, container) in &targets {
            let result = container.restart(args.time).await.map_err(anyhow::Error::from);
            report.record(out, name, result)?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
