//! `corral container prune`: remove every container that is not running or
//! paused, printing each removed ID.

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::Args;
use corral_core::RemoveOptions;
use corral_define::ContainerStatus;

use crate::cli::GlobalOptions;
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation. The default is false
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// Asks on stderr, reads the answer from stdin: only `y`/`Y` goes on.
fn confirmed() -> anyhow::Result<bool> {
    let mut stderr = std::io::stderr();
    write!(
        stderr,
        "WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] "
    )?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

pub fn run(args: &PruneArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !args.force && !confirmed()? {
        return Ok(());
    }
    let runtime = engine::runtime(global)?;
    let containers = runtime.get_containers()?;
    let mut removed = Vec::new();
    let mut failures = Vec::new();
    engine::block_on(async {
        for container in &containers {
            if container.config().misc.is_infra {
                continue;
            }
            let result = async {
                let prunable = matches!(
                    container.status().await?,
                    ContainerStatus::Configured
                        | ContainerStatus::Created
                        | ContainerStatus::Stopped
                        | ContainerStatus::Exited
                );
                if prunable {
                    container.remove(RemoveOptions::default()).await?;
                }
                anyhow::Ok(prunable)
            }
            .await;
            match result {
                Ok(true) => removed.push(container.id().to_owned()),
                Ok(false) => {}
                Err(err) => failures.push(err),
            }
        }
    })?;
    for id in removed {
        writeln!(out, "{id}").context("writing the removed IDs")?;
    }
    let mut failures = failures.into_iter();
    match failures.next() {
        None => Ok(()),
        Some(first) => {
            for other in failures {
                eprintln!("{}", crate::error::error_text(&other));
            }
            Err(first)
        }
    }
}
