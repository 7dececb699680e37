//! `corral stop`: the stop signal, then SIGKILL after the timeout.

use std::io::Write;

use clap::Args;
use corral_core::ContainerGraph;
use corral_define::{ErrorKind, HasKind};

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Stop all running containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Ignore errors when a specified container is missing
    #[arg(short = 'i', long)]
    pub ignore: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", value_name = "int")]
    pub time: Option<u32>,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn run(args: &StopArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let mut targets = Vec::new();
    if args.ignore && !args.all && !args.latest {
        for name in &args.containers {
            match runtime.lookup_container(name) {
                Ok(container) => targets.push((name.clone(), container)),
                Err(err) if err.kind() == ErrorKind::NoSuchContainer => {}
                Err(err) => return Err(err.into()),
            }
        }
    } else {
        targets = select(&runtime, &args.containers, args.all, args.latest)?;
    }
    if args.all {
        targets.retain(|(_, c)| c.record().is_ok_and(|r| r.state.state.is_active()));
    }
    // Dependents before the containers they depend on.
    let targets =
        ContainerGraph::of_containers(targets.iter().map(|(_, c)| c))?.arrange_for_stop(targets, |(_, c)| c.id());
    let mut report = Report::new();
    engine::block_on(async {
        for (name, container) in &targets {
            let result = match container.stop(args.time).await {
                // podman (for docker's sake) stops a container never started by doing nothing.
                Err(err) if err.kind() == ErrorKind::InvalidState => Ok(()),
                other => other.map_err(anyhow::Error::from),
            };
            report.record(out, name, result)?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
