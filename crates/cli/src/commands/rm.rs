//! `corral rm`: remove containers, with podman's exit codes (1 when one did
//! not exist, 2 when one was running or paused, 125 otherwise).

use std::io::Write;

use clap::Args;
use corral_core::{Container, ContainerGraph, RemoveOptions};
use corral_define::{DefineError, ErrorKind, HasKind};

use crate::cli::GlobalOptions;
use crate::commands::targets::{Report, is_invalid_state, is_no_such_container, select};
use crate::engine;
use crate::error::{CliError, error_text};

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Remove all containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Force removal of a running or unusable container
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Ignore errors when a specified container is missing
    #[arg(short = 'i', long)]
    pub ignore: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Seconds to wait for stop before killing the container
    #[arg(short = 't', long = "time", value_name = "uint")]
    pub time: Option<u32>,

    /// Remove container from storage library
    #[arg(long)]
    pub storage: bool,

    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// podman's exit code for a failed `rm`.
fn exit_code(errors: &[anyhow::Error]) -> i32 {
    if errors.iter().any(is_no_such_container) {
        1
    } else if errors.iter().any(is_invalid_state) {
        2
    } else {
        errors.last().map_or(125, crate::error::exit_code_for)
    }
}

async fn remove(container: &Container, options: RemoveOptions) -> anyhow::Result<()> {
    if !options.force {
        let state = container.state().await?.state;
        if state.is_active() {
            // podman's wording, checked here before the engine's own.
            return Err(DefineError::with_context(
                ErrorKind::InvalidState,
                format!(
                    "cannot remove container {} as it is {state} - running or paused containers cannot be removed without force",
                    container.id()
                ),
            )
            .into());
        }
    }
    Ok(container.remove(options).await?)
}

/// Ends `rm` with the last error and podman's exit code for all of them.
fn finish(report: Report) -> anyhow::Result<()> {
    let code = exit_code(report.errors());
    report.finish().map_err(|last| {
        CliError::Exit {
            code,
            message: error_text(&last),
        }
        .into()
    })
}

/// `rm --storage`: storage containers the state does not know, by ID or name.
fn remove_storage(runtime: &corral_core::Runtime, args: &RmArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut report = Report::new();
    for name in &args.containers {
        let result = runtime.remove_storage_container(name).map(|_| ()).map_err(Into::into);
        report.record(out, name, result)?;
    }
    finish(report)
}

pub fn run(args: &RmArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.time.is_some() && !args.force {
        return Err(CliError::Usage("--force option must be specified to use the --time option".into()).into());
    }
    let runtime = engine::runtime(global)?;
    if args.storage {
        return remove_storage(&runtime, args, out);
    }
    let mut targets = Vec::new();
    let mut report = Report::new();
    if args.all || args.latest || args.containers.is_empty() {
        targets = select(&runtime, &args.containers, args.all, args.latest)?;
    } else {
        for name in &args.containers {
            match runtime.lookup_container(name) {
                Ok(container) => targets.push((name.clone(), container)),
                // podman also removes a storage container the state does not know
                // (left by a create that died halfway, or made by another tool).
                Err(err) if err.kind() == ErrorKind::NoSuchContainer => match runtime.remove_storage_container(name) {
                    Ok(_) => report.record(out, name, Ok(()))?,
                    Err(_) if args.force || args.ignore => {}
                    Err(_) => report.fail(err.into()),
                },
                Err(err) => report.fail(err.into()),
            }
        }
    }
    // Dependents before the containers they depend on.
    let targets =
        ContainerGraph::of_containers(targets.iter().map(|(_, c)| c))?.arrange_for_stop(targets, |(_, c)| c.id());
    let options = RemoveOptions {
        force: args.force,
        timeout: args.time,
    };
    engine::block_on(async {
        for (name, container) in &targets {
            let mut result = remove(container, options).await;
            // Removed by another process meanwhile: gone, as forced removal wants.
            if args.force && result.as_ref().is_err_and(is_no_such_container) {
                continue;
            }
            if result.is_ok() && args.volumes {
                let volumes = &container.config().root_fs.named_volumes;
                result = runtime.remove_anonymous_volumes(volumes).await.map_err(Into::into);
            }
            report.record(out, name, result)?;
        }
        anyhow::Ok(())
    })??;
    finish(report)
}
