//! `corral exec`: run a command in a running container, exiting with its exit
//! code (126 when it cannot be run, 127 when it is not found), or detached
//! (`-d`, printing the exec session's ID).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use corral_attach::DetachKeys;
use corral_core::{Container, ExecRequest};
use corral_define::{ContainerStatus, DefineError, ErrorKind};

use crate::cli::GlobalOptions;
use crate::commands::start::exit_with;
use crate::engine;
use crate::error::{CliError, error_text};
use crate::stdio::StdioAttach;

#[derive(Debug, Clone, Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    /// Run the exec session in detached mode (backgrounded)
    #[arg(short = 'd', long)]
    pub detach: bool,

    /// Select the key sequence for detaching a container. Format is a single character [a-Z] or a comma separated sequence of `ctrl-<value>`, where `<value>` is one of: a-z, @, ^, [, \ or _
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,

    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "stringArray")]
    pub env: Vec<String>,

    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "file")]
    pub env_file: Vec<PathBuf>,

    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Give the process extended Linux capabilities inside the container
    #[arg(long)]
    pub privileged: bool,

    /// Allocate a pseudo-TTY. The default is false
    #[arg(short = 't', long)]
    pub tty: bool,

    /// Sets the username or UID used and optionally the groupname or GID for the specified command
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,

    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,

    /// The container (unless `--latest`), then the command and its arguments.
    #[arg(value_name = "CONTAINER", allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `KEY=VALUE` entries into `env`; a bare `KEY` takes the host's value, and is
/// left out when the host has none.
fn add_env<'a>(entries: impl IntoIterator<Item = &'a str>, env: &mut BTreeMap<String, String>) {
    for entry in entries {
        match entry.split_once('=') {
            Some((key, value)) => {
                env.insert(key.to_owned(), value.to_owned());
            }
            None => {
                if let Ok(value) = std::env::var(entry) {
                    env.insert(entry.to_owned(), value);
                }
            }
        }
    }
}

impl ExecArgs {
    /// The container's name and the command, split from the arguments.
    fn target_and_command(&self) -> anyhow::Result<(Option<&str>, &[String])> {
        if self.latest {
            return Ok((None, &self.args));
        }
        match self.args.split_first() {
            Some((container, command)) => Ok((Some(container), command)),
            None => {
                Err(CliError::Usage("exec requires the name or ID of a container or the --latest flag".into()).into())
            }
        }
    }

    fn request(&self, command: &[String]) -> anyhow::Result<ExecRequest> {
        if command.is_empty() {
            return Err(CliError::Usage("must provide a non-empty command to start an exec session".into()).into());
        }
        let mut env = BTreeMap::new();
        for file in &self.env_file {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading env file {}", file.display()))?;
            add_env(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#')),
                &mut env,
            );
        }
        add_env(self.env.iter().map(String::as_str), &mut env);
        Ok(ExecRequest {
            command: command.to_vec(),
            env,
            terminal: self.tty,
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            attach_stdin: self.interactive && !self.detach,
            privileged: self.privileged,
        })
    }
}

/// podman's exit code when an attached exec session could not be made.
const NO_SESSION: i32 = 255;

/// podman's refusal to exec in a container that is not running.
async fn ensure_running(container: &Container) -> anyhow::Result<()> {
    if container.status().await? != ContainerStatus::Running {
        return Err(DefineError::with_context(
            ErrorKind::InvalidState,
            "can only create exec sessions on running containers",
        )
        .into());
    }
    Ok(())
}

/// Runs `request` with our stdio attached; returns its exit code.
async fn exec_attached(container: &Container, request: &ExecRequest, detach_keys: DetachKeys) -> anyhow::Result<i32> {
    let StdioAttach {
        raw_mode: _raw_mode,
        streams,
        options,
    } = StdioAttach::new(request.terminal, request.attach_stdin, detach_keys)?;
    Ok(container.exec(request, streams, options).await?)
}

pub fn run(args: &ExecArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let (name, command) = args.target_and_command()?;
    let request = args.request(command)?;
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
    if args.detach {
        let session = engine::block_on(async {
            ensure_running(&container).await?;
            anyhow::Ok(container.exec_detached(&request).await?)
        })??;
        return writeln!(out, "{session}").context("writing the exec session ID");
    }
    let code = engine::block_on(async {
        if let Err(err) = ensure_running(&container).await {
            // podman 4 exits 255 (its session's -1) when the exec session cannot be made.
            return Err(CliError::Exit {
                code: NO_SESSION,
                message: error_text(&err),
            }
            .into());
        }
        exec_attached(&container, &request, detach_keys).await
    })??;
    exit_with(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        exec: ExecArgs,
    }

    fn parse(args: &[&str]) -> ExecArgs {
        Wrapper::try_parse_from(std::iter::once("exec").chain(args.iter().copied()))
            .unwrap()
            .exec
    }

    #[test]
    fn container_then_command_with_its_own_flags() {
        let args = parse(&["-e", "A=1", "-u", "0", "web", "ls", "-l", "/"]);
        let (name, command) = args.target_and_command().unwrap();
        assert_eq!(name, Some("web"));
        assert_eq!(command, ["ls", "-l", "/"]);
        let request = args.request(command).unwrap();
        assert_eq!(request.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(request.user.as_deref(), Some("0"));

        let latest = parse(&["-l", "true"]);
        assert_eq!(latest.target_and_command().unwrap(), (None, &["true".to_string()][..]));
        assert!(parse(&[]).target_and_command().is_err());
        let no_command = parse(&["web"]);
        let (_, command) = no_command.target_and_command().unwrap();
        assert!(no_command.request(command).is_err());
    }

    #[test]
    fn env_files_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("env");
        std::fs::write(&file, "# comment\nA=file\n\nB=file\n").unwrap();
        let args = parse(&["--env-file", file.to_str().unwrap(), "-e", "B=flag", "web", "env"]);
        let request = args.request(&["env".into()]).unwrap();
        assert_eq!(request.env.get("A").map(String::as_str), Some("file"));
        assert_eq!(request.env.get("B").map(String::as_str), Some("flag"));
    }
}
