//! `corral start`, and starting a container with the terminal attached to it
//! (`start -a`, `run`): connected to conmon's attach socket before the
//! process starts, so no output is lost.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use corral_attach::DetachKeys;
use corral_core::{Container, ContainerGraph};
use corral_define::ContainerStatus;

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, select};
use crate::engine;
use crate::error::{CliError, ENGINE_ERROR, error_text};
use crate::stdio::StdioAttach;

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach container's STDOUT and STDERR
    #[arg(short = 'a', long)]
    pub attach: bool,

    /// Select the key sequence for detaching a container. Format is a single character [a-Z] or a comma separated sequence of `ctrl-<value>`, where `<value>` is one of: a-z, @, ^, [, \ or _
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Start all containers regardless of their state or configuration
    #[arg(long)]
    pub all: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// How to attach the terminal to a starting container.
#[derive(Debug, Clone, Default)]
pub struct AttachSetup {
    /// Forward our stdin to the container.
    pub stdin: bool,
    /// `--detach-keys`; None: podman's `ctrl-p,ctrl-q`.
    pub detach_keys: Option<String>,
}

/// How an attached run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    /// The process exited with this code.
    Exited(i32),
    /// The user detached; the container goes on.
    Detached,
}

/// Starts `container` with stdout and stderr (and stdin when asked)
/// attached, streams until its output ends or the user detaches, and
/// returns how it ended.
pub async fn start_attached(container: &Container, setup: &AttachSetup) -> anyhow::Result<Attached> {
    let keys = match &setup.detach_keys {
        Some(keys) => DetachKeys::parse(keys)?,
        None => DetachKeys::default(),
    };
    let StdioAttach {
        raw_mode: _raw_mode,
        streams,
        options,
    } = StdioAttach::new(container.config().misc.terminal, setup.stdin, keys)?;
    Ok(match container.start_and_attach(streams, options).await? {
        Some(code) => Attached::Exited(code),
        None => Attached::Detached,
    })
}

/// A container's exit code as the command's own: nothing printed.
pub fn exit_with(code: i32) -> anyhow::Result<()> {
    if code == 0 {
        return Ok(());
    }
    Err(CliError::Exit {
        code,
        message: String::new(),
    }
    .into())
}

/// podman's report of a container that failed to start: its ID (quoted when not
/// attached, as podman quotes it) before the reason, exit code 125 whatever the reason.
fn start_failed(id: String, err: anyhow::Error) -> anyhow::Error {
    let text = error_text(&err);
    let reason = text.strip_prefix("Error: ").unwrap_or(&text);
    CliError::Exit {
        code: ENGINE_ERROR,
        message: format!("Error: unable to start container {id}: {reason}"),
    }
    .into()
}

pub fn run(args: &StartArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let targets = select(&runtime, &args.containers, args.all, args.latest)?;
    if args.attach || args.interactive {
        let [(_, container)] = targets.as_slice() else {
            return Err(CliError::Usage("you cannot start and attach multiple containers at once".into()).into());
        };
        let setup = AttachSetup {
            stdin: args.interactive,
            detach_keys: args.detach_keys.clone(),
        };
        out.flush().context("writing output")?;
        return match engine::block_on(start_attached(container, &setup))? {
            Ok(Attached::Exited(code)) => exit_with(code),
            Ok(Attached::Detached) => Ok(()),
            Err(err) => Err(start_failed(container.id().to_string(), err)),
        };
    }
    // Dependencies before the containers that depend on them.
    let targets =
        ContainerGraph::of_containers(targets.iter().map(|(_, c)| c))?.arrange_for_start(targets, |(_, c)| c.id());
    let mut report = Report::new();
    engine::block_on(async {
        for (name, container) in &targets {
            let result = async {
                // podman leaves a running container be.
                if container.status().await? != ContainerStatus::Running {
                    container.start().await?;
                }
                Ok(())
            }
            .await
            .map_err(|err| start_failed(format!("{:?}", container.id()), err));
            report.record(out, name, result)?;
        }
        anyhow::Ok(())
    })??;
    report.finish()
}
