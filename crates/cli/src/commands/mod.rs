//! One file per command. A command is an `Args` struct and a `run`
//! function taking the parsed arguments, the global options and stdout;
//! adding one is a new file, a variant of [`Command`] and a line in
//! [`Command::run`].

pub mod completion;
pub mod help;
pub mod version;

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

    /// Display the corral version information
    #[command(override_usage = "corral version [options]")]
    Version(version::VersionArgs),
}

impl Command {
    /// The command's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Completion(_) => "completion",
            Command::Help(_) => "help",
            Command::Version(_) => "version",
        }
    }

    /// Runs the command, writing its output to `out`.
    pub fn run(self, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
        match self {
            Command::Completion(args) => completion::run(&args, global, out),
            Command::Help(args) => help::run(&args, global, out),
            Command::Version(args) => version::run(&args, global, out),
        }
    }
}
