//! `corral container exists`: exit 0 when the container exists, 1 when not.

use std::io::Write;

use clap::Args;
use corral_define::{ErrorKind, HasKind};

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
pub struct ExistsArgs {
    /// Check for external containers as well as Podman containers
    #[arg(long)]
    pub external: bool,

    #[arg(value_name = "CONTAINER", required = true)]
    pub container: String,
}

pub fn run(args: &ExistsArgs, global: &GlobalOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    match runtime.lookup_container(&args.container) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == ErrorKind::NoSuchContainer => Err(CliError::Exit {
            code: 1,
            message: String::new(),
        }
        .into()),
        Err(err) => Err(err.into()),
    }
}
