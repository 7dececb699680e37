//! `corral container prune`: remove every container that is not running or
//! paused (and passes `--filter label|label!|until`), dependents first, printing
//! each removed ID.

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::Args;
use corral_core::ContainerFilters;

use crate::cli::GlobalOptions;
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation. The default is false
    #[arg(short = 'f', long)]
    pub force: bool,

    #[arg(
        long,
        value_name = "stringArray",
        help = "Provide filter values (e.g. 'label=<key>=<value>')"
    )]
    pub filter: Vec<String>,
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
    let filters = ContainerFilters::parse_prune(&args.filter)?;
    if !args.force && !confirmed()? {
        return Ok(());
    }
    let runtime = engine::runtime(global)?;
    let reports = engine::block_on(runtime.prune_containers(&filters))??;
    let mut failures = Vec::new();
    for report in reports {
        match report.error {
            None => writeln!(out, "{}", report.id).context("writing the removed IDs")?,
            Some(err) => failures.push(anyhow::Error::from(err)),
        }
    }
    let mut failures = failures.into_iter();
    match failures.next_back() {
        None => Ok(()),
        Some(last) => {
            for other in failures {
                eprintln!("{}", crate::error::error_text(&other));
            }
            Err(last)
        }
    }
}
