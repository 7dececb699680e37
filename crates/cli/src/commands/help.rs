//! `corral help [command]`: the help of the root or of any command, as
//! cobra's `help` command prints it.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use crate::cli::{self, GlobalOptions};

#[derive(Debug, Clone, Args)]
pub struct HelpArgs {
    /// The command whose help to show (`corral help version`).
    #[arg(value_name = "command")]
    pub command: Vec<String>,
}

pub fn run(args: &HelpArgs, _global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut root = cli::command();
    root.build();
    let mut target = &root;
    for name in &args.command {
        match target.find_subcommand(name) {
            Some(sub) => target = sub,
            None => {
                // cobra names the unknown topic and shows the root usage, on
                // stderr, and still succeeds.
                let mut stderr = std::io::stderr();
                writeln!(stderr, "Unknown help topic [`{}`]", args.command.join(" "))?;
                write!(stderr, "{}", root.clone().render_help())?;
                return Ok(());
            }
        }
    }
    let help = target.clone().render_help().to_string();
    write!(out, "{help}").context("writing help")
}
