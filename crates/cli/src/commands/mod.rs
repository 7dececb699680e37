//! One file per command. A command is an `Args` struct and a `run`
//! function taking the parsed arguments, the global options and stdout;
//! adding one is a new file, a variant of [`Command`] and a line in
//! [`Command::run`].

pub mod attach;
pub mod cleanup;
pub mod commit;
pub mod completion;
pub mod container;
pub mod container_prune;
pub mod cp;
pub mod create;
pub mod diff;
pub mod events;
pub mod exec;
pub mod exists;
pub mod export;
pub mod help;
pub mod image;
pub mod image_info;
pub mod image_io;
pub mod image_rm;
pub mod images;
pub mod info;
pub mod inspect;
pub mod inspect_any;
pub mod kill;
pub mod logs;
pub mod mount;
pub mod pause;
pub mod port;
pub mod ps;
pub mod rename;
pub mod restart;
pub mod rm;
pub mod run;
pub mod start;
pub mod stop;
pub mod system;
pub mod system_admin;
pub mod targets;
pub mod top;
pub mod version;
pub mod volume;
pub mod wait;

use std::io::Write;

use clap::Subcommand;

use crate::cli::GlobalOptions;

/// corral's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate shell autocompletions
    #[command(
        hide = true,
        override_usage = "corral completion [options] {bash|zsh|fish|powershell}",
        long_about = "Generate shell autocompletions.\n  Valid arguments are bash, zsh, fish and powershell."
    )]
    Completion(completion::CompletionArgs),

    /// Help about any command
    #[command(override_usage = "corral help [command]")]
    Help(help::HelpArgs),

    /// Manage containers
    #[command(override_usage = "corral container [command]")]
    Container(container::ContainerArgs),

    /// Create but do not start a container
    #[command(override_usage = "corral create [options] IMAGE [COMMAND [ARG...]]")]
    Create(create::CreateArgs),

    /// Kill one or more running containers with a specific signal
    #[command(override_usage = "corral kill [options] CONTAINER [CONTAINER...]")]
    Kill(kill::KillArgs),

    /// Fetch the logs of one or more containers
    #[command(override_usage = "corral logs [options] CONTAINER [CONTAINER...]")]
    Logs(logs::LogsArgs),

    /// Pause all the processes in one or more containers
    #[command(override_usage = "corral pause [options] CONTAINER [CONTAINER...]")]
    Pause(pause::PauseArgs),

    /// List containers
    #[command(override_usage = "corral ps [options]")]
    Ps(ps::PsArgs),

    /// Restart one or more containers
    #[command(override_usage = "corral restart [options] CONTAINER [CONTAINER...]")]
    Restart(restart::RestartArgs),

    /// Remove one or more containers
    #[command(override_usage = "corral rm [options] CONTAINER [CONTAINER...]")]
    Rm(rm::RmArgs),

    /// Run a command in a new container
    #[command(override_usage = "corral run [options] IMAGE [COMMAND [ARG...]]")]
    Run(run::RunArgs),

    /// Start one or more containers
    #[command(override_usage = "corral start [options] CONTAINER [CONTAINER...]")]
    Start(start::StartArgs),

    /// Stop one or more containers
    #[command(override_usage = "corral stop [options] CONTAINER [CONTAINER...]")]
    Stop(stop::StopArgs),

    /// Unpause the processes in one or more containers
    #[command(override_usage = "corral unpause [options] CONTAINER [CONTAINER...]")]
    Unpause(pause::PauseArgs),

    /// Block on one or more containers
    #[command(override_usage = "corral wait [options] CONTAINER [CONTAINER...]")]
    Wait(wait::WaitArgs),

    /// Display the corral version information
    #[command(override_usage = "corral version [options]")]
    Version(version::VersionArgs),

    /// Show history of a specified image
    #[command(override_usage = "corral history [options] IMAGE")]
    History(image_info::HistoryArgs),

    /// Manage images
    #[command(override_usage = "corral image [command]")]
    Image(image::ImageArgs),

    /// List images in local storage
    #[command(override_usage = "corral images [options] [IMAGE]")]
    Images(images::ImagesArgs),

    /// Import a tarball to create a filesystem image
    #[command(override_usage = "corral import [options] PATH [REFERENCE]")]
    Import(image_io::ImportArgs),

    /// Load image(s) from a tar archive
    #[command(override_usage = "corral load [options]")]
    Load(image_io::LoadArgs),

    /// Remove one or more images from local storage
    #[command(override_usage = "corral rmi [options] IMAGE [IMAGE...]")]
    Rmi(image_rm::RmiArgs),

    /// Save image(s) to an archive
    #[command(override_usage = "corral save [options] IMAGE [IMAGE...]")]
    Save(image_io::SaveArgs),

    /// Add an additional name to a local image
    #[command(override_usage = "corral tag IMAGE TARGET_NAME [TARGET_NAME...]")]
    Tag(image::TagArgs),

    /// Remove a name from a local image
    #[command(override_usage = "corral untag IMAGE [IMAGE...]")]
    Untag(image::UntagArgs),

    /// Display corral system information
    #[command(override_usage = "corral info [options]")]
    Info(info::InfoArgs),

    /// Manage corral
    #[command(override_usage = "corral system [command]")]
    System(system::SystemArgs),

    /// Manage volumes
    #[command(override_usage = "corral volume [command]")]
    Volume(volume::VolumeArgs),

    /// Run a process in a running container
    #[command(override_usage = "corral exec [options] CONTAINER [COMMAND [ARG...]]")]
    Exec(exec::ExecArgs),

    /// Attach to a running container
    #[command(override_usage = "corral attach [options] CONTAINER")]
    Attach(attach::AttachArgs),

    /// Create new image based on the changed container
    #[command(override_usage = "corral commit [options] CONTAINER [IMAGE]")]
    Commit(commit::CommitArgs),

    /// Display the changes to the object's file system
    #[command(override_usage = "corral diff [options] {CONTAINER}")]
    Diff(diff::DiffArgs),

    /// Export container's filesystem contents as a tar archive
    #[command(override_usage = "corral export [options] CONTAINER")]
    Export(export::ExportArgs),

    /// Display the configuration of object denoted by ID
    #[command(override_usage = "corral inspect [options] {CONTAINER|IMAGE|POD|NETWORK|VOLUME} [...]")]
    Inspect(inspect_any::InspectArgs),

    /// Rename an existing container
    #[command(override_usage = "corral rename CONTAINER NAME")]
    Rename(rename::RenameArgs),

    /// Display the running processes of a container
    #[command(override_usage = "corral top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]")]
    Top(top::TopArgs),

    /// Mount a working container's root filesystem
    #[command(override_usage = "corral mount [options] [CONTAINER...]")]
    Mount(mount::MountArgs),

    /// Unmount working container's root filesystem
    #[command(
        visible_alias = "umount",
        override_usage = "corral unmount [options] CONTAINER [CONTAINER...]"
    )]
    Unmount(mount::UnmountArgs),

    /// List port mappings or a specific mapping for the container
    #[command(override_usage = "corral port [options] CONTAINER [PORT]")]
    Port(port::PortArgs),

    /// Copy files/folders between a container and the local filesystem
    #[command(override_usage = "corral cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH")]
    Cp(cp::CpArgs),

    /// Show corral events
    #[command(override_usage = "corral events [options]")]
    Events(events::EventsArgs),
}

impl Command {
    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Exec(_) => "exec",
            Command::Attach(_) => "attach",
            Command::Commit(_) => "commit",
            Command::Diff(_) => "diff",
            Command::Export(_) => "export",
            Command::Inspect(_) => "inspect",
            Command::Rename(_) => "rename",
            Command::Top(_) => "top",
            Command::Mount(_) => "mount",
            Command::Unmount(_) => "unmount",
            Command::Port(_) => "port",
            Command::Cp(_) => "cp",
            Command::Events(_) => "events",
            Command::Completion(_) => "completion",
            Command::Help(_) => "help",
            Command::Container(_) => "container",
            Command::Create(_) => "create",
            Command::Kill(_) => "kill",
            Command::Logs(_) => "logs",
            Command::Pause(_) => "pause",
            Command::Ps(_) => "ps",
            Command::Restart(_) => "restart",
            Command::Rm(_) => "rm",
            Command::Run(_) => "run",
            Command::Start(_) => "start",
            Command::Stop(_) => "stop",
            Command::Unpause(_) => "unpause",
            Command::Wait(_) => "wait",
            Command::Version(_) => "version",
            Command::History(_) => "history",
            Command::Image(_) => "image",
            Command::Images(_) => "images",
            Command::Import(_) => "import",
            Command::Load(_) => "load",
            Command::Rmi(_) => "rmi",
            Command::Save(_) => "save",
            Command::Tag(_) => "tag",
            Command::Untag(_) => "untag",
            Command::Volume(_) => "volume",
            Command::Info(_) => "info",
            Command::System(_) => "system",
        }
    }

    /// Runs the command, writing its output to `out`.
    pub fn run(self, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
        match self {
            Command::Exec(args) => exec::run(&args, global, out),
            Command::Attach(args) => attach::run(&args, global, out),
            Command::Commit(args) => commit::run(&args, global, out),
            Command::Diff(args) => diff::run(&args, global, out),
            Command::Export(args) => export::run(&args, global, out),
            Command::Inspect(args) => inspect_any::run(&args, global, out),
            Command::Rename(args) => rename::run(&args, global, out),
            Command::Top(args) => top::run(&args, global, out),
            Command::Mount(args) => mount::mount(&args, global, out),
            Command::Unmount(args) => mount::unmount(&args, global, out),
            Command::Port(args) => port::run(&args, global, out),
            Command::Cp(args) => cp::run(&args, global, out),
            Command::Events(args) => events::run(&args, global, out),
            Command::Completion(args) => completion::run(&args, global, out),
            Command::Help(args) => help::run(&args, global, out),
            Command::Container(args) => container::run(args, global, out),
            Command::Create(args) => create::run(&args, global, out),
            Command::Kill(args) => kill::run(&args, global, out),
            Command::Logs(args) => logs::run(&args, global, out),
            Command::Pause(args) => pause::run(&args, true, global, out),
            Command::Ps(args) => ps::run(&args, global, out),
            Command::Restart(args) => restart::run(&args, global, out),
            Command::Rm(args) => rm::run(&args, global, out),
            Command::Run(args) => run::run(&args, global, out),
            Command::Start(args) => start::run(&args, global, out),
            Command::Stop(args) => stop::run(&args, global, out),
            Command::Unpause(args) => pause::run(&args, false, global, out),
            Command::Wait(args) => wait::run(&args, global, out),
            Command::Version(args) => version::run(&args, global, out),
            Command::History(args) => image_info::history(&args, global, out),
            Command::Image(args) => image::run(args, global, out),
            Command::Images(args) => images::run(&args, global, out),
            Command::Import(args) => image_io::import(&args, global, out),
            Command::Load(args) => image_io::load(&args, global, out),
            Command::Rmi(args) => image_rm::rmi(&args, global, out),
            Command::Save(args) => image_io::save(&args, global, out),
            Command::Tag(args) => image::tag(&args, global, out),
            Command::Untag(args) => image::untag(&args, global, out),
            Command::Volume(args) => volume::run(args, global, out),
            Command::Info(args) => info::run(&args, global, out),
            Command::System(args) => system::run(args, global, out),
        }
    }
}
