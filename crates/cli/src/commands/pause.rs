//! `corral pause` and `corral unpause`: freeze and thaw a container's processes.

use std::io::Write;

use clap::Args;
use corral_define::ContainerStatus;

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct PauseArgs {
    /// Pause all running containers
    #[arg(short = 'a', long)]
    pub all: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Pauses (`pause == true`) or unpauses the named containers; with `--all`,
/// every container in the status the move starts from.
pub fn run(args: &PauseArgs, pause: bool, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let mut targets = select(&runtime, &args.containers, args.all, false)?;
    if args.all {
        let from = if pause {
            ContainerStatus::Running
        } else {
            ContainerStatus::Paused
        };
        targets.retain(|(_, c)| c.record().is_ok_and(|r| r.state.state == from));
    }
    let mut report = Report::new();
    engine::block_on(async {
        for (name, container) in &targets {
            let result = if pause {
                container.pause().await
            } else {
                container.unpause().await
            };
            report.record(out, name, result.map_err(anyhow::Error::from))?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
