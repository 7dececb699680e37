//! The command line: podman's global options, the command tree, and
//! parse errors reworded the way podman (cobra and pflag) words them.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind as ClapKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser};

use crate::commands::Command;
use crate::error::CliError;

/// The binary's name, as podman's commands print `podman`.
pub const BIN: &str = "corral";

/// podman's log levels for `--log-level`.
pub const LOG_LEVELS: [&str; 8] = ["trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"];

const ROOT_HELP: &str = "{about}\n\nUsage:\n  {usage}\n\nAvailable Commands:\n{subcommands}\n\nOptions:\n{options}\n";
const COMMAND_HELP: &str = "{about}\n\nDescription:\n  {about}\n\nUsage:\n  {usage}\n\n{all-args}\n";

/// `corral [options] [command]`.
#[derive(Debug, Parser)]
#[command(
    name = BIN,
    about = "Manage pods, containers and images",
    disable_help_subcommand = true,
    disable_version_flag = true,
    override_usage = "corral [options] [command]"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,

    #[arg(short = 'v', long = "version", help = "version for corral")]
    pub version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// podman's global options, given before or after the command; every
/// command receives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct GlobalOptions {
    /// Path to the root directory in which data, including images, is stored
    #[arg(long, global = true, value_name = "string")]
    pub root: Option<PathBuf>,

    /// Path to the 'run directory' where all state information is stored
    #[arg(long, global = true, value_name = "string")]
    pub runroot: Option<PathBuf>,

    /// Path to the OCI-compatible binary used to run containers.
    #[arg(long, global = true, value_name = "string")]
    pub runtime: Option<String>,

    /// Log messages above specified level (trace, debug, info, warn, warning, error, fatal, panic)
    #[arg(long, global = true, value_name = "string", default_value = "warn")]
    pub log_level: String,

    /// Docker compatibility, force setting of log-level
    #[arg(short = 'D', long, global = true, hide = true)]
    pub debug: bool,

    /// Select which storage driver is used to manage storage of images and containers
    #[arg(long, global = true, value_name = "string")]
    pub storage_driver: Option<String>,

    /// Cgroup manager to use ("cgroupfs"|"systemd")
    #[arg(long, global = true, value_name = "string")]
    pub cgroup_manager: Option<String>,

    /// Events backend to use ("file"|"journald"|"none")
    #[arg(long, global = true, value_name = "string")]
    pub events_backend: Option<String>,

    /// Path to the tmp directory for libpod state content
    #[arg(long, global = true, value_name = "string")]
    pub tmpdir: Option<PathBuf>,

    /// Set the OCI hooks directory path (may be set multiple times)
    #[arg(long = "hooks-dir", global = true, value_name = "stringArray")]
    pub hooks_dir: Vec<PathBuf>,

    /// Path to default mounts file
    #[arg(long = "default-mounts-file", global = true, hide = true, value_name = "string")]
    pub default_mounts_file: Option<PathBuf>,

    /// Output logging information to syslog as well as the console (accepted, ignored)
    #[arg(long, global = true)]
    pub syslog: bool,
}

impl GlobalOptions {
    /// The effective log level: `--debug` means `debug`. Fails with podman's
    /// messages (exit code 1) on an unknown level or both flags.
    pub fn effective_log_level(&self) -> Result<String, CliError> {
        let level = self.log_level.to_lowercase();
        if self.debug {
            if level != "warn" {
                return Err(CliError::Exit {
                    code: 1,
                    message: "Setting --log-level and --debug is not allowed".to_owned(),
                });
            }
            return Ok("debug".to_owned());
        }
        if !LOG_LEVELS.contains(&level.as_str()) {
            return Err(CliError::Exit {
                code: 1,
                message: format!(
                    "Log Level \"{}\" is not supported, choose from: {}",
                    self.log_level,
                    LOG_LEVELS.join(", ")
                ),
            });
        }
        Ok(level)
    }
}

/// The whole command tree with podman-like help layouts.
pub fn command() -> clap::Command {
    Cli::command()
        .help_template(ROOT_HELP)
        .mut_subcommands(|sub| sub.help_template(COMMAND_HELP))
}

/// What parsing the arguments asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run this.
    Run(Box<Cli>),
    /// Print this on stdout and exit 0 (`--help`).
    Print(String),
}

/// Parses `args` (program name first), with podman's wording for mistakes.
pub fn parse<I, T>(args: I) -> Result<Parsed, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let matches = command().try_get_matches_from(&args);
    let matches = match matches {
        Ok(matches) => matches,
        Err(err) => {
            let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            let mut root = command();
            root.build();
            if err.kind() == ClapKind::DisplayHelp {
                // `-h`, `--help` and `corral help` all print the same, compact page.
                let (_, reached) = reached(&root, &args);
                return Ok(Parsed::Print(reached.clone().render_help().to_string()));
            }
            return Err(CliError::Usage(podman_message(&err, &root, &args)));
        }
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|err| CliError::Usage(clap_text(&err)))?;
    Ok(Parsed::Run(Box::new(cli)))
}

/// clap's own message, first line, without its `error: ` prefix.
fn clap_text(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// Follows the subcommand names in `args`, skipping options and their
/// values: the command path (`corral pod`) and the deepest command reached.
fn reached<'a>(root: &'a clap::Command, args: &[String]) -> (String, &'a clap::Command) {
    let takes_value = |cmd: &clap::Command, matches: &dyn Fn(&clap::Arg) -> bool| {
        cmd.get_arguments()
            .any(|arg| matches(arg) && arg.get_action().takes_values())
    };
    let mut path = vec![root.get_name().to_owned()];
    let mut current = root;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if !long.contains('=') && takes_value(current, &|a| a.get_long() == Some(long)) {
                rest.next();
            }
            continue;
        }
        if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let last = shorts.chars().last();
            if shorts.chars().count() == 1 && takes_value(current, &|a| a.get_short() == last) {
                rest.next();
            }
            continue;
        }
        match current.find_subcommand(arg) {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                current = sub;
            }
            None => break,
        }
    }
    (path.join(" "), current)
}

fn context_string(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(list) => list.first().cloned(),
        _ => None,
    }
}

fn context_strings(err: &clap::Error, kind: ContextKind) -> Vec<String> {
    match err.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(list)) => list.clone(),
        _ => Vec::new(),
    }
}

/// A flag as pflag names it in messages: `--format`, or `'f' in -f`.
fn flag_name(arg: &str) -> String {
    let flag = arg.split([' ', '=']).next().unwrap_or(arg);
    if flag.starts_with("--") {
        return flag.to_owned();
    }
    match flag.strip_prefix('-').and_then(|s| s.chars().next()) {
        Some(c) => format!("'{c}' in {flag}"),
        None => flag.to_owned(),
    }
}

/// podman's wording of a command-line mistake; `root` is the built command
/// tree `args` were parsed with.
fn podman_message(err: &clap::Error, root: &clap::Command, args: &[String]) -> String {
    let (path, cmd) = reached(root, args);
    let see = format!("\nSee '{path} --help'");
    let invalid_arg = context_string(err, ContextKind::InvalidArg).unwrap_or_default();
    match err.kind() {
        ClapKind::InvalidSubcommand => {
            let name = context_string(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            let suggestions = context_strings(err, ContextKind::SuggestedSubcommand);
            if suggestions.is_empty() {
                format!("unrecognized command `{path} {name}`\nTry '{path} --help' for more information")
            } else {
                format!(
                    "unrecognized command `{path} {name}`\n\nDid you mean this?\n\t{}\n\nTry '{path} --help' for more information",
                    suggestions.join("\n\t")
                )
            }
        }
        ClapKind::UnknownArgument if invalid_arg.starts_with("--") => {
            format!("unknown flag: {}{see}", flag_name(&invalid_arg))
        }
        ClapKind::UnknownArgument if invalid_arg.len() > 1 && invalid_arg.starts_with('-') => {
            let short = invalid_arg.chars().nth(1).unwrap_or('-');
            format!("unknown shorthand flag: '{short}' in {invalid_arg}{see}")
        }
        ClapKind::UnknownArgument => {
            let accepted = cmd.get_positionals().count();
            if accepted == 0 {
                format!("`{path}` takes no arguments")
            } else {
                format!("accepts at most {accepted} arg(s), received {}", accepted + 1)
            }
        }
        ClapKind::MissingRequiredArgument => {
            let missing = context_strings(err, ContextKind::InvalidArg);
            if missing.iter().all(|m| m.starts_with('<')) {
                let required: Vec<&clap::Arg> = cmd.get_positionals().filter(|a| a.is_required_set()).collect();
                let given = required.len().saturating_sub(missing.len());
                let open_ended = required
                    .iter()
                    .any(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1));
                if open_ended {
                    format!("requires at least {} arg(s), only received {given}", required.len())
                } else {
                    format!("accepts {} arg(s), received {given}", required.len())
                }
            } else {
                let names: Vec<String> = missing
                    .iter()
                    .map(|m| {
                        m.trim_start_matches('-')
                            .split(' ')
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect();
                format!("required flag(s) \"{}\" not set", names.join("\", \""))
            }
        }
        ClapKind::InvalidValue | ClapKind::ValueValidation => {
            let value = context_string(err, ContextKind::InvalidValue).unwrap_or_default();
            if invalid_arg.starts_with('<') {
                format!("invalid argument \"{value}\" for \"{path}\"")
            } else if value.is_empty() && err.kind() == ClapKind::InvalidValue {
                format!("flag needs an argument: {}{see}", flag_name(&invalid_arg))
            } else {
                let flag = invalid_arg.split(' ').next().unwrap_or_default();
                let detail = match std::error::Error::source(err) {
                    Some(source) => source.to_string(),
                    None => format!(
                        "valid values are {}",
                        context_strings(err, ContextKind::ValidValue).join(", ")
                    ),
                };
                format!("invalid argument \"{value}\" for \"{flag}\" flag: {detail}{see}")
            }
        }
        ClapKind::ArgumentConflict => {
            let mut group = vec![flag_name(&invalid_arg)];
            group.extend(context_strings(err, ContextKind::PriorArg).iter().map(|a| flag_name(a)));
            let group: Vec<String> = group.iter().map(|g| g.trim_start_matches('-').to_owned()).collect();
            let group = group.join(" ");
            format!("if any flags in the group [{group}] are set none of the others can be; [{group}] were all set")
        }
        _ => clap_text(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_error(args: &[&str]) -> String {
        match parse(args.iter().copied()) {
            Err(CliError::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn the_command_tree_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn global_options_parse_before_and_after_the_command() {
        let Ok(Parsed::Run(cli)) = parse(["corral", "--root", "/r", "version", "--runroot=/rr", "--syslog"]) else {
            panic!("parse failed");
        };
        assert_eq!(cli.global.root, Some(PathBuf::from("/r")));
        assert_eq!(cli.global.runroot, Some(PathBuf::from("/rr")));
        assert!(cli.global.syslog);
        assert_eq!(cli.global.log_level, "warn");
    }

    #[test]
    fn mistakes_are_worded_as_podman() {
        assert_eq!(
            usage_error(&["corral", "frobnicate"]),
            "unrecognized command `corral frobnicate`\nTry 'corral --help' for more information"
        );
        assert_eq!(
            usage_error(&["corral", "--root", "/x", "versio"]),
            "unrecognized command `corral versio`\n\nDid you mean this?\n\tversion\n\nTry 'corral --help' for more information"
        );
        assert_eq!(
            usage_error(&["corral", "version", "--bogus"]),
            "unknown flag: --bogus\nSee 'corral version --help'"
        );
        assert_eq!(
            usage_error(&["corral", "version", "-x"]),
            "unknown shorthand flag: 'x' in -x\nSee 'corral version --help'"
        );
        assert_eq!(
            usage_error(&["corral", "version", "extra"]),
            "`corral version` takes no arguments"
        );
        assert_eq!(
            usage_error(&["corral", "version", "--format"]),
            "flag needs an argument: --format\nSee 'corral version --help'"
        );
        assert_eq!(usage_error(&["corral", "completion"]), "accepts 1 arg(s), received 0");
        assert_eq!(
            usage_error(&["corral", "completion", "tcsh"]),
            "invalid argument \"tcsh\" for \"corral completion\""
        );
    }

    #[test]
    fn argument_counts_as_cobra() {
        let mut root = clap::Command::new("corral")
            .subcommand(clap::Command::new("start").arg(clap::Arg::new("names").required(true).num_args(1..)));
        root.build();
        let message = |args: &[&str]| {
            let err = root.clone().try_get_matches_from(args).unwrap_err();
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            podman_message(&err, &root, &args)
        };
        assert_eq!(
            message(&["corral", "start"]),
            "requires at least 1 arg(s), only received 0"
        );
        assert_eq!(
            message(&["corral", "start", "--all"]),
            "unknown flag: --all\nSee 'corral start --help'"
        );
    }

    #[test]
    fn log_levels_as_podman() {
        let options = |level: &str, debug: bool| GlobalOptions {
            log_level: level.to_owned(),
            debug,
            ..GlobalOptions::default()
        };
        assert_eq!(options("INFO", false).effective_log_level().unwrap(), "info");
        assert_eq!(options("warn", true).effective_log_level().unwrap(), "debug");
        assert_eq!(
            options("bogus", false).effective_log_level().unwrap_err(),
            CliError::Exit {
                code: 1,
                message: "Log Level \"bogus\" is not supported, choose from: trace, debug, info, warn, warning, error, fatal, panic".into()
            }
        );
        assert!(options("info", true).effective_log_level().is_err());
    }

    #[test]
    fn help_is_printed_not_failed() {
        let Ok(Parsed::Print(help)) = parse(["corral", "--help"]) else {
            panic!("--help must print");
        };
        assert!(help.starts_with("Manage pods, containers and images\n\nUsage:\n  corral [options] [command]\n"));
        assert!(help.contains("Available Commands:\n"));
        assert!(help.contains("version"));
    }
}
