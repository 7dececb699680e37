//! `corral attach`: connect the terminal to a running container's main
//! process until it exits (exiting with its code) or the user detaches.

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;
use corral_attach::{AttachEnd, DetachKeys};
use corral_core::Container;
use corral_define::ContainerStatus;

use crate::cli::GlobalOptions;
use crate::commands::start::exit_with;
use crate::engine;
use crate::error::CliError;
use crate::stdio::StdioAttach;

#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// Select the key sequence for detaching a container. Format is a single character [a-Z] or a comma separated sequence of `ctrl-<value>`, where `<value>` is one of: a-z, @, ^, [, \ or _
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// Do not attach STDIN. The default is false
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Streams until the container's output ends or the user detaches; returns
/// the exit code, or None when detached.
async fn attach(container: &Container, stdin_wanted: bool, detach_keys: DetachKeys) -> anyhow::Result<Option<i32>> {
    if container.status().await? != ContainerStatus::Running {
        bail!("you can only attach to running containers");
    }
    let with_stdin = stdin_wanted && container.config().misc.stdin;
    let StdioAttach {
        raw_mode: _raw_mode,
        streams,
        options,
    } = StdioAttach::new(container.config().misc.terminal, with_stdin, detach_keys)?;
    match container.attach(streams, options).await? {
        AttachEnd::Detached => Ok(None),
        AttachEnd::OutputEnded | AttachEnd::StdinClosed => Ok(Some(container.wait().await?)),
    }
}

pub fn run(args: &AttachArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let name = match (args.latest, args.containers.as_slice()) {
        (true, []) => None,
        (false, [name]) => Some(name),
        _ => {
            return Err(CliError::Usage(
                "attach requires the name or id of one running container or the latest flag".into(),
            )
            .into());
        }
    };
    let detach_keys = match &args.detach_keys {
        Some(keys) => DetachKeys::parse(keys)?,
        None => DetachKeys::default(),
    };
    let runtime = engine::runtime(global)?;
    let container = match name {
        Some(name) => runtime.lookup_container(name)?,
        None => runtime.latest()?,
    };
    out.flush().context("writing output")?;
    match engine::block_on(attach(&container, !args.no_stdin, detach_keys))?? {
        Some(code) => exit_with(code),
        None => Ok(()),
    }
}
