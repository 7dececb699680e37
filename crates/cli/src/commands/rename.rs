//! `corral rename`: give a container a new name.

use std::io::Write;

use clap::Args;

use crate::cli::GlobalOptions;
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    pub container: String,

    #[arg(value_name = "NAME", required = true)]
    pub name: String,
}

pub fn run(args: &RenameArgs, global: &GlobalOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let container = runtime.lookup_container(&args.container)?;
    engine::block_on(container.rename(&args.name))??;
    Ok(())
}
