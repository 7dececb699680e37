//! `corral run`: create and start a container, attached to it (exiting
//! with its exit code) or detached (`-d`, printing its ID).

use std::io::Write;

use anyhow::Context;
use clap::Args;
use corral_core::RemoveOptions;

use crate::cli::GlobalOptions;
use crate::commands::create::CreateFlags;
use crate::commands::start::{AttachSetup, Attached, exit_with, start_attached};
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Override the key sequence for detaching a container. Format is a single character [a-Z] or a comma separated sequence of `ctrl-<value>`, where `<value>` is one of: a-z, @, ^, [, \ or _
    #[arg(long = "detach-keys", value_name = "[a-Z]")]
    pub detach_keys: Option<String>,

    #[command(flatten)]
    pub flags: CreateFlags,
}

pub fn run(args: &RunArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let mut spec = args.flags.spec(std::env::args().collect())?;
    let remove = args.flags.rm;
    if !args.detach {
        // Attached, `run` removes the container itself once it has the exit
        // code: the exit command removing it first would take the code with it.
        spec.auto_remove = false;
    }
    let container = runtime.new_container(spec)?;
    let force = RemoveOptions {
        force: true,
        timeout: Some(0),
    };
    let result = engine::block_on(async {
        if args.detach {
            container.start().await?;
            return Ok(None);
        }
        let setup = AttachSetup {
            stdin: args.flags.interactive,
            detach_keys: args.detach_keys.clone(),
        };
        Ok(Some(start_attached(&container, &setup).await?))
    })?;
    let result: anyhow::Result<Option<Attached>> = result;
    let removing = remove && !matches!(result, Ok(None) | Ok(Some(Attached::Detached)));
    if removing {
        let volumes = &container.config().root_fs.named_volumes;
        let removed = engine::block_on(async {
            container.remove(force).await?;
            runtime.remove_anonymous_volumes(volumes).await
        })?;
        if let Err(err) = removed {
            tracing::debug!("removing container {}: {err}", container.id());
        }
    }
    match result? {
        None => writeln!(out, "{}", container.id()).context("writing the container ID"),
        Some(Attached::Detached) => Ok(()),
        Some(Attached::Exited(code)) => exit_with(code),
    }
}
