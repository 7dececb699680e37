//! `corral wait`: until containers exit, printing each one's exit code.

use std::io::Write;

use clap::Args;
use corral_core::Container;
use corral_define::{ErrorKind, HasKind};

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Ignore if a container does not exist
    #[arg(long)]
    pub ignore: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub fn run(args: &WaitArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    // None: a missing container `--ignore` let pass; podman prints -1 for it.
    let mut targets: Vec<Option<Container>> = Vec::new();
    if args.latest || args.containers.is_empty() {
        targets.extend(
            select(&runtime, &args.containers, false, args.latest)?
                .into_iter()
                .map(|(_, c)| Some(c)),
        );
    } else {
        for name in &args.containers {
            match runtime.lookup_container(name) {
                Ok(container) => targets.push(Some(container)),
                Err(err) if args.ignore && err.kind() == ErrorKind::NoSuchContainer => targets.push(None),
                Err(err) => return Err(err.into()),
            }
        }
    }
    let mut report = Report::new();
    engine::block_on(async {
        for target in &targets {
            let Some(container) = target else {
                writeln!(out, "-1")?;
                continue;
            };
            match container.wait().await {
                Ok(code) => writeln!(out, "{code}")?,
                Err(err) => report.fail(err.into()),
            }
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
