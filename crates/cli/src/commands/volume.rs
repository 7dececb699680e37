//! `corral volume create|exists|inspect|ls|prune|rm`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use anyhow::Context;
use clap::{Args, Subcommand};
use corral_core::{CoreError, Runtime, Volume, VolumeFilters, VolumeInspect, VolumeSpec};
use corral_define::{ErrorKind, HasKind};

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;
use crate::format::{Formatter, Headers, JsonStyle, ListFormat, Origin, is_json, to_json_line};

#[derive(Debug, Args)]
pub struct VolumeArgs {
    #[command(subcommand)]
    pub command: VolumeCommand,
}

/// The subcommands of `corral volume`.
#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a new volume
    #[command(override_usage = "corral volume create [options] [NAME]")]
    Create(CreateArgs),

    /// Check if volume exists
    #[command(override_usage = "corral volume exists VOLUME")]
    Exists(ExistsArgs),

    /// Display detailed information on one or more volumes
    #[command(override_usage = "corral volume inspect [options] VOLUME [VOLUME...]")]
    Inspect(InspectArgs),

    /// List volumes
    #[command(visible_alias = "list", override_usage = "corral volume ls [options]")]
    Ls(LsArgs),

    /// Remove all unused volumes
    #[command(override_usage = "corral volume prune [options]")]
    Prune(PruneArgs),

    /// Remove one or more volumes
    #[command(
        visible_alias = "remove",
        override_usage = "corral volume rm [options] VOLUME [VOLUME...]"
    )]
    Rm(RmArgs),
}

pub fn run(args: VolumeArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        VolumeCommand::Create(args) => create(&args, global, out),
        VolumeCommand::Exists(args) => exists(&args, global, out),
        VolumeCommand::Inspect(args) => inspect(&args, global, out),
        VolumeCommand::Ls(args) => ls(&args, global, out),
        VolumeCommand::Prune(args) => prune(&args, global, out),
        VolumeCommand::Rm(args) => rm(&args, global, out),
    }
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, value_name = "string", default_value = "local")]
    pub driver: String,

    /// Don't fail if volume already exists
    #[arg(long)]
    pub ignore: bool,

    /// Set metadata for a volume (default [])
    #[arg(short = 'l', long, value_name = "stringArray")]
    pub label: Vec<String>,

    /// Set driver specific options (default [])
    #[arg(short = 'o', long, value_name = "stringArray")]
    pub opt: Vec<String>,

    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ExistsArgs {
    #[arg(value_name = "VOLUME", required = true)]
    pub volume: String,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Inspect all volumes
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Format volume output using JSON or a Go template
    #[arg(short = 'f', long, value_name = "string", default_value = "json")]
    pub format: String,

    #[arg(value_name = "VOLUME")]
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    /// Filter volume output
    #[arg(short = 'f', long, value_name = "stringArray")]
    pub filter: Vec<String>,

    /// Format volume output using Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// Do not print headers
    #[arg(short = 'n', long)]
    pub noheading: bool,

    /// Print volume output in quiet mode
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    #[arg(
        long,
        value_name = "stringArray",
        help = "Provide filter values (e.g. 'label=<key>=<value>')"
    )]
    pub filter: Vec<String>,

    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Remove all volumes
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Remove a volume by force, even if it is being used by a container
    #[arg(short = 'f', long)]
    pub force: bool,

    #[arg(value_name = "VOLUME")]
    pub volumes: Vec<String>,
}

/// `key=value` pairs; a bare `key` gets an empty value.
fn key_values(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((key, value)) => (key.to_owned(), value.to_owned()),
            None => (item.clone(), String::new()),
        })
        .collect()
}

pub fn create(args: &CreateArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    if args.ignore
        && let Some(name) = &args.name
        && runtime.has_volume(name)?
    {
        writeln!(out, "{name}").context("writing the volume name")?;
        return Ok(());
    }
    let spec = VolumeSpec {
        name: args.name.clone(),
        driver: Some(args.driver.clone()),
        labels: key_values(&args.label),
        options: key_values(&args.opt),
        ..VolumeSpec::default()
    };
    let volume = runtime.new_volume(spec)?;
    writeln!(out, "{}", volume.name()).context("writing the volume name")
}

pub fn exists(args: &ExistsArgs, global: &GlobalOptions, _out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    if runtime.has_volume(&args.volume)? {
        return Ok(());
    }
    Err(CliError::Exit {
        code: 1,
        message: String::new(),
    }
    .into())
}

/// Renders inspect documents for `--format` (JSON, or a template run on each).
fn render_inspect(format: &str, docs: &[VolumeInspect]) -> anyhow::Result<String> {
    if is_json(format) {
        return Ok(to_json_line(docs, JsonStyle::INSPECT)?);
    }
    let mut formatter = Formatter::parse("inspect", Origin::User, format)?;
    formatter.execute(docs)?;
    Ok(formatter.finish())
}

pub fn inspect(args: &InspectArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.volumes.is_empty() && !args.all {
        return Err(CliError::Usage("provide one or more volume names or use --all".into()).into());
    }
    if !args.volumes.is_empty() && args.all {
        return Err(CliError::Usage("cannot specify --all with volumes".into()).into());
    }
    let runtime = engine::runtime(global)?;
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    if args.all {
        docs = runtime
            .volumes(&VolumeFilters::default())?
            .iter()
            .map(Volume::inspect)
            .collect();
    }
    for name in &args.volumes {
        match runtime.lookup_volume(name) {
            Ok(volume) => docs.push(volume.inspect()),
            Err(err) if err.kind() == ErrorKind::NoSuchVolume => errors.push(format!("no such volume {name}")),
            Err(err) => return Err(err.into()),
        }
    }
    let text = render_inspect(&args.format, &docs)?;
    out.write_all(text.as_bytes()).context("writing the inspect output")?;
    let mut errors = errors.into_iter();
    let Some(first) = errors.next() else {
        return Ok(());
    };
    for other in errors {
        eprintln!("error inspecting object: {other}");
    }
    Err(anyhow::anyhow!("inspecting object: {first}"))
}

pub fn ls(args: &LsArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.quiet && args.format.is_some() {
        return Err(CliError::Usage("quiet and format flags cannot be used together".into()).into());
    }
    let filters = VolumeFilters::parse(&args.filter)?;
    let runtime = engine::runtime(global)?;
    let docs: Vec<VolumeInspect> = runtime.volumes(&filters)?.iter().map(Volume::inspect).collect();
    let format = args.format.as_deref();
    let text = if format.is_some_and(is_json) {
        to_json_line(&docs, JsonStyle::LIST)?
    } else if docs.is_empty() {
        String::new()
    } else {
        let headers = Headers::new().with("Name", "VOLUME NAME");
        let list = ListFormat {
            name: "ls",
            default_format: "{{range .}}{{.Driver}}\t{{.Name}}\n{{end -}}",
            headers: &headers,
            json_style: JsonStyle::LIST,
        };
        let format = if args.quiet { Some("{{.Name}}\n") } else { format };
        list.render(format, args.noheading, &docs)?
    };
    out.write_all(text.as_bytes()).context("writing the volume list")
}

/// `volume rm` and `volume prune` go on after a failure and report them all: each on
/// its own `Error:` line; exit 1 for a missing volume, 2 for one in use (the last wins).
fn report_errors(errors: Vec<CoreError>) -> anyhow::Result<()> {
    let Some(last) = errors.last() else {
        return Ok(());
    };
    let code = match last.kind() {
        ErrorKind::NoSuchVolume => 1,
        ErrorKind::VolumeInUse => 2,
        kind => kind.exit_code(),
    };
    let message: Vec<String> = errors.iter().map(|e| format!("Error: {e}")).collect();
    Err(CliError::Exit {
        code,
        message: message.join("\n"),
    }
    .into())
}

fn remove_all(
    runtime: &Runtime,
    volumes: Vec<Result<Volume, CoreError>>,
    force: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let results = engine::block_on(async {
        let mut results = Vec::new();
        for volume in volumes {
            let removed = match volume {
                Ok(volume) => runtime
                    .remove_volume(&volume, force)
                    .await
                    .map(|()| volume.name().to_owned()),
                Err(err) => Err(err),
            };
            results.push(removed);
        }
        results
    })?;
    let mut errors = Vec::new();
    for removed in results {
        match removed {
            Ok(name) => writeln!(out, "{name}").context("writing the removed volumes")?,
            Err(err) => errors.push(err),
        }
    }
    report_errors(errors)
}

pub fn rm(args: &RmArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.volumes.is_empty() != args.all {
        return Err(CliError::Usage("choose either one or more volumes or all".into()).into());
    }
    let runtime = engine::runtime(global)?;
    let volumes: Vec<Result<Volume, CoreError>> = if args.all {
        runtime
            .volumes(&VolumeFilters::default())?
            .into_iter()
            .map(Ok)
            .collect()
    } else {
        args.volumes.iter().map(|name| runtime.lookup_volume(name)).collect()
    };
    remove_all(&runtime, volumes, args.force, out)
}

pub fn prune(args: &PruneArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let filters = VolumeFilters::parse(&args.filter)?;
    let runtime = engine::runtime(global)?;
    if !args.force {
        let mut unused = Vec::new();
        for volume in runtime.volumes(&filters)? {
            if volume.users()?.is_empty() {
                unused.push(volume.name().to_owned());
            }
        }
        writeln!(
            out,
            "WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:"
        )
        .context("writing the prompt")?;
        if unused.is_empty() {
            return Ok(());
        }
        for name in &unused {
            writeln!(out, "{name}").context("writing the prompt")?;
        }
        write!(out, "Are you sure you want to continue? [y/N] ").context("writing the prompt")?;
        out.flush().context("writing the prompt")?;
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .context("reading the answer")?;
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Ok(());
        }
    }
    let mut errors = Vec::new();
    for report in engine::block_on(runtime.prune_volumes(&filters))?? {
        match report.error {
            None => writeln!(out, "{}", report.name).context("writing the removed volumes")?,
            Some(err) => errors.push(err),
        }
    }
    report_errors(errors)
}
