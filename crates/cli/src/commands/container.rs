//! `corral container ...`: the container commands under one group, with
//! those only found here (`cleanup`, `exists`).

use std::io::Write;

use clap::{Args, Subcommand};

use crate::cli::GlobalOptions;
use crate::commands::{
    attach, cleanup, commit, container_prune, cp, create, diff, exec, exists, export, inspect, kill, logs, mount,
    pause, port, ps, rename, restart, rm, run, start, stop, top, wait,
};

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

    /// Attach to a running container
    #[command(override_usage = "corral container attach [options] CONTAINER")]
    Attach(attach::AttachArgs),

    /// Create new image based on the changed container
    #[command(override_usage = "corral container commit [options] CONTAINER [IMAGE]")]
    Commit(commit::CommitArgs),

    /// Inspect changes to the container's file systems
    #[command(override_usage = "corral container diff [options] CONTAINER")]
    Diff(diff::DiffArgs),

    /// Run a process in a running container
    #[command(override_usage = "corral container exec [options] CONTAINER [COMMAND [ARG...]]")]
    Exec(exec::ExecArgs),

    /// Export container's filesystem contents as a tar archive
    #[command(override_usage = "corral container export [options] CONTAINER")]
    Export(export::ExportArgs),

    /// Mount a working container's root filesystem
    #[command(override_usage = "corral container mount [options] [CONTAINER...]")]
    Mount(mount::MountArgs),

    /// Remove all non running containers
    #[command(override_usage = "corral container prune [options]")]
    Prune(container_prune::PruneArgs),

    /// Rename an existing container
    #[command(override_usage = "corral container rename CONTAINER NAME")]
    Rename(rename::RenameArgs),

    /// Display the running processes of a container
    #[command(override_usage = "corral container top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]")]
    Top(top::TopArgs),

    /// Unmount working container's root filesystem
    #[command(
        visible_alias = "umount",
        override_usage = "corral container unmount [options] CONTAINER [CONTAINER...]"
    )]
    Unmount(mount::UnmountArgs),

    /// List port mappings or a specific mapping for the container
    #[command(override_usage = "corral container port [options] CONTAINER [PORT]")]
    Port(port::PortArgs),

    /// Copy files/folders between a container and the local filesystem
    #[command(override_usage = "corral container cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH")]
    Cp(cp::CpArgs),
}

pub fn run(args: ContainerArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        ContainerCommand::Attach(args) => attach::run(&args, global, out),
        ContainerCommand::Commit(args) => commit::run(&args, global, out),
        ContainerCommand::Diff(args) => diff::run(&args, global, out),
        ContainerCommand::Exec(args) => exec::run(&args, global, out),
        ContainerCommand::Export(args) => export::run(&args, global, out),
        ContainerCommand::Mount(args) => mount::mount(&args, global, out),
        ContainerCommand::Prune(args) => container_prune::run(&args, global, out),
        ContainerCommand::Rename(args) => rename::run(&args, global, out),
        ContainerCommand::Top(args) => top::run(&args, global, out),
        ContainerCommand::Unmount(args) => mount::unmount(&args, global, out),
        ContainerCommand::Port(args) => port::run(&args, global, out),
        ContainerCommand::Cp(args) => cp::run(&args, global, out),
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
