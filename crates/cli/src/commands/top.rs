//! `corral top`: the processes of a running container, as `ps` in it lists them.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use corral_define::{ContainerStatus, DefineError, ErrorKind};

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
#[command(trailing_var_arg = true)]
pub struct TopArgs {
    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// The container (unless `--latest`), then `ps` arguments.
    #[arg(value_name = "CONTAINER", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(args: &TopArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let (name, ps_args) = match (args.latest, args.args.split_first()) {
        (true, _) => (None, args.args.as_slice()),
        (false, Some((name, rest))) => (Some(name), rest),
        (false, None) => {
            return Err(CliError::Usage("you must provide the name or id of a running container".into()).into());
        }
    };
    let runtime = engine::runtime(global)?;
    let container = match name {
        Some(name) => runtime
            .lookup_container(name)
            .context("unable to look up requested container")?,
        None => runtime.latest()?,
    };
    let lines = engine::block_on(async {
        if container.status().await? != ContainerStatus::Running {
            return Err(DefineError::with_context(
                ErrorKind::InvalidState,
                "top can only be used on running containers",
            )
            .into());
        }
        anyhow::Ok(container.top(ps_args).await?)
    })??;
    for line in lines {
        writeln!(out, "{line}").context("writing the process list")?;
    }
    Ok(())
}
