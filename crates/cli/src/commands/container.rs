//! `corral container ...`: the container commands under one group, with
//! those only found here (`cleanup`, `exists`).

use std::io::Write;

use clap::{Args, Subcommand};

use crate::cli::GlobalOptions;
use crate::commands::{cleanup, create, exists, inspect, kill, logs, pause, ps, restart, rm, run, start, stop, wait};

#[derive(Debug, Args)]
pub struct ContainerArgs {
    #[command(subcommand)]
    pub command: ContainerCommand,
}

/// The subcommands of `corral container`.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Clean up network and mountpoints of one or more containers
    #[command(
        hide = true,
        override_usage = "corral container cleanup [options] CONTAINER [CONTAINER...]"
    )]
    Cleanup(cleanup::CleanupArgs),

    /// Create but do not start a container
    #[command(override_usage = "corral container create [options] IMAGE [COMMAND [ARG...]]")]
    Create(create::CreateArgs),

    /// Check if a container exists in local storage
    #[command(override_usage = "corral container exists [options] CONTAINER")]
    Exists(exists::ExistsArgs),

    /// Display the configuration of a container
    #[command(override_usage = "corral container inspect [options] CONTAINER [CONTAINER...]")]
    Inspect(inspect::InspectArgs),

    /// Kill one or more running containers with a specific signal
    #[command(override_usage = "corral container kill [options] CONTAINER [CONTAINER...]")]
    Kill(kill::KillArgs),

    /// Fetch the logs of one or more containers
    #[command(override_usage = "corral container logs [options] CONTAINER [CONTAINER...]")]
    Logs(logs::LogsArgs),

    /// Pause all the processes in one or more containers
    #[command(override_usage = "corral container pause [options] CONTAINER [CONTAINER...]")]
    Pause(pause::PauseArgs),

    /// List containers
    #[command(visible_aliases = ["ls", "list"], override_usage = "corral container ps [options]")]
    Ps(ps::PsArgs),

    /// Restart one or more containers
    #[command(override_usage = "corral container restart [options] CONTAINER [CONTAINER...]")]
    Restart(restart::RestartArgs),

    /// Remove one or more containers
    #[command(override_usage = "corral container rm [options] CONTAINER [CONTAINER...]")]
    Rm(rm::RmArgs),

    /// Run a command in a new container
    #[command(override_usage = "corral container run [options] IMAGE [COMMAND [ARG...]]")]
    Run(run::RunArgs),

    /// Start one or more containers
    #[command(override_usage = "corral container start [options] CONTAINER [CONTAINER...]")]
    Start(start::StartArgs),

    /// Stop one or more containers
    #[command(override_usage = "corral container stop [options] CONTAINER [CONTAINER...]")]
    Stop(stop::StopArgs),

    /// Unpause the processes in one or more containers
    #[command(override_usage = "corral container unpause [options] CONTAINER [CONTAINER...]")]
    Unpause(pause::PauseArgs),

    /// Block on one or more containers
    #[command(override_usage = "corral container wait [options] CONTAINER [CONTAINER...]")]
    Wait(wait::WaitArgs),
}

pub fn run(args: ContainerArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        ContainerCommand::Cleanup(args) => cleanup::run(&args, global, out),
        ContainerCommand::Create(args) => create::run(&args, global, out),
        ContainerCommand::Exists(args) => exists::run(&args, global, out),
        ContainerCommand::Inspect(args) => inspect::run(&args, global, out),
        ContainerCommand::Kill(args) => kill::run(&args, global, out),
        ContainerCommand::Logs(args) => logs::run(&args, global, out),
        ContainerCommand::Pause(args) => pause::run(&args, true, global, out),
        ContainerCommand::Ps(args) => ps::run(&args, global, out),
        ContainerCommand::Restart(args) => restart::run(&args, global, out),
        ContainerCommand::Rm(args) => rm::run(&args, global, out),
        ContainerCommand::Run(args) => run::run(&args, global, out),
        ContainerCommand::Start(args) => start::run(&args, global, out),
        ContainerCommand::Stop(args) => stop::run(&args, global, out),
        ContainerCommand::Unpause(args) => pause::run(&args, false, global, out),
        ContainerCommand::Wait(args) => wait::run(&args, global, out),
    }
}
