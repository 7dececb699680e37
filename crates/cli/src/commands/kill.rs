//! `corral kill`: a signal to the container's process.

use std::io::Write;

use clap::Args;
use corral_core::parse_signal;

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal all running containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string", default_value = "KILL")]
    pub signal: String,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn run(args: &KillArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let signal = i32::try_from(parse_signal(&args.signal)?)?;
    let runtime = engine::runtime(global)?;
    let mut targets = select(&runtime, &args.containers, args.all, args.latest)?;
    if args.all {
        targets.retain(|(_, c)| c.record().is_ok_and(|r| r.state.state.is_active()));
    }
    let mut report = Report::new();
    engine::block_on(async {
        for (name, container) in &targets {
            let result = container.kill(signal).await.map_err(anyhow::Error::from);
            report.record(out, name, result)?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
