//! `corral completion bash|zsh|fish|powershell`: shell completion scripts.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use clap_complete::Shell;

use crate::cli::{self, BIN, GlobalOptions};

/// The shells podman generates completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl From<CompletionShell> for Shell {
    fn from(shell: CompletionShell) -> Shell {
        match shell {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
            CompletionShell::Powershell => Shell::PowerShell,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CompletionArgs {
    /// Output the completion to file rather than stdout.
    #[arg(short = 'f', long = "file", value_name = "string")]
    pub file: Option<PathBuf>,

    #[arg(value_enum, value_name = "shell", hide_possible_values = true)]
    pub shell: CompletionShell,
}

/// The completion script for `shell`, ending with podman's note of where it came from.
pub fn script(shell: CompletionShell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(Shell::from(shell), &mut cli::command(), BIN, &mut script);
    script.extend_from_slice(
        format!("\n# This file is generated with \"{BIN} completion\"; see: {BIN}-completion(1)\n").as_bytes(),
    );
    script
}

pub fn run(args: &CompletionArgs, _global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let script = script(args.shell);
    match &args.file {
        Some(path) => std::fs::write(path, &script)
            .with_context(|| format!("writing the completion script to {}", path.display())),
        None => out.write_all(&script).context("writing the completion script"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_name_the_binary_and_its_commands() {
        let bash = String::from_utf8(script(CompletionShell::Bash)).unwrap();
        assert!(bash.contains("_corral()"), "bash script lacks its function");
        assert!(bash.contains("version"));
        assert!(bash.ends_with("# This file is generated with \"corral completion\"; see: corral-completion(1)\n"));
        let fish = String::from_utf8(script(CompletionShell::Fish)).unwrap();
        assert!(fish.contains("complete -c corral"));
    }
}
