//! `corral system info|df|migrate|prune|renumber|reset`: the engine as a whole.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context;
use clap::{Args, Subcommand};
use corral_core::{Runtime, VolumeFilters};
use corral_storage::ImageStore;
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::commands::image::{human_size, image_users, in_use};
use crate::commands::{container_prune, events, image_rm, info, system_admin, volume};
use crate::engine;
use crate::format::{Headers, JsonStyle, ListFormat};

#[derive(Debug, Args)]
pub struct SystemArgs {
    #[command(subcommand)]
    pub command: SystemCommand,
}

/// The subcommands of `corral system`.
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show podman disk usage
    #[command(override_usage = "corral system df [options]")]
    Df(DfArgs),

    /// Show corral events
    #[command(override_usage = "corral system events [options]")]
    Events(events::EventsArgs),

    /// Display corral system information
    #[command(override_usage = "corral system info [options]")]
    Info(info::InfoArgs),

    /// Migrate containers
    #[command(override_usage = "corral system migrate [options]")]
    Migrate(system_admin::MigrateArgs),

    /// Remove unused data
    #[command(override_usage = "corral system prune [options]")]
    Prune(PruneArgs),

    /// Migrate lock numbers
    #[command(override_usage = "corral system renumber")]
    Renumber,

    /// Reset corral storage
    #[command(override_usage = "corral system reset [options]")]
    Reset(ResetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DfArgs {
    /// Pretty-print images using a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// Show detailed information on disk usage
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused data
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Do not prompt for confirmation. The default is false
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Prune volumes
    #[arg(long)]
    pub volumes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub fn run(args: SystemArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        SystemCommand::Df(args) => df(&args, global, out),
        SystemCommand::Events(args) => events::run(&args, global, out),
        SystemCommand::Info(args) => info::run(&args, global, out),
        SystemCommand::Migrate(args) => system_admin::migrate(&args, global, out),
        SystemCommand::Prune(args) => prune(&args, global, out),
        SystemCommand::Renumber => system_admin::renumber(global),
        SystemCommand::Reset(args) => reset(&args, global, out),
    }
}

/// Prints `warning`, asks, and reads the answer from stdin: only `y`/`Y` goes on.
fn confirmed(out: &mut dyn Write, warning: &str) -> anyhow::Result<bool> {
    write!(out, "{warning}\nAre you sure you want to continue? [y/N] ").context("writing the prompt")?;
    out.flush().context("writing the prompt")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

/// Bytes in the files under `path` (not following links).
fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.flatten().map(|e| disk_usage(&e.path())).sum())
        .unwrap_or(0)
}

/// One row of `system df`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DfRow {
    #[serde(rename = "Type")]
    pub kind: String,
    pub total: usize,
    pub active: usize,
    pub size: String,
    pub reclaimable: String,
}

fn df_row(kind: &str, total: usize, active: usize, size: u64, reclaimable: u64) -> DfRow {
    let percent = (reclaimable * 100).checked_div(size).unwrap_or(0);
    DfRow {
        kind: kind.to_owned(),
        total,
        active,
        size: human_size(size, 3),
        reclaimable: format!("{} ({percent}%)", human_size(reclaimable, 3)),
    }
}

/// The summary rows: images, containers, local volumes.
pub fn df_rows(runtime: &Runtime) -> anyhow::Result<Vec<DfRow>> {
    let users = in_use(&image_users(runtime)?);
    let images = runtime.storage()?.list()?;
    let image_size: u64 = images.iter().map(|i| i.size).sum();
    let used: Vec<_> = images.iter().filter(|i| users.contains(&i.id)).collect();
    let used_size: u64 = used.iter().map(|i| i.size).sum();

    let containers = runtime.get_containers()?;
    let (mut active, mut size, mut reclaimable) = (0, 0, 0);
    for ctr in &containers {
        let bytes = disk_usage(&runtime.container_static_dir(ctr.id()));
        size += bytes;
        if engine::block_on(ctr.status())??.is_active() {
            active += 1;
        } else {
            reclaimable += bytes;
        }
    }

    let volumes = runtime.volumes(&VolumeFilters::default())?;
    let (mut vol_active, mut vol_size, mut vol_reclaimable) = (0, 0, 0);
    for v in &volumes {
        let bytes = disk_usage(Path::new(v.mount_point()));
        vol_size += bytes;
        if v.users()?.is_empty() {
            vol_reclaimable += bytes;
        } else {
            vol_active += 1;
        }
    }
    Ok(vec![
        df_row("Images", images.len(), used.len(), image_size, image_size - used_size),
        df_row("Containers", containers.len(), active, size, reclaimable),
        df_row("Local Volumes", volumes.len(), vol_active, vol_size, vol_reclaimable),
    ])
}

pub fn df(args: &DfArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let rows = df_rows(&runtime)?;
    let headers = Headers::new();
    let layout = ListFormat {
        name: "df",
        default_format: "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
        headers: &headers,
        json_style: JsonStyle::LIST,
    };
    if args.verbose && args.format.is_none() {
        tracing::debug!("system df -v shows the summary only");
    }
    let text = layout.render(args.format.as_deref(), false, &rows)?;
    out.write_all(text.as_bytes()).context("writing the disk usage")
}

/// Runs one prune into a buffer; prints `title` and what it removed when it removed something.
fn prune_section(
    out: &mut dyn Write,
    title: &str,
    prune: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut removed = Vec::new();
    let result = prune(&mut removed);
    if !removed.is_empty() {
        writeln!(out, "{title}")?;
        out.write_all(&removed)?;
    }
    result
}

pub fn prune(args: &PruneArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !args.force {
        let mut warning = String::from("WARNING! This command removes:\n\t- all stopped containers\n");
        if args.volumes {
            warning.push_str("\t- all volumes not used by at least one container\n");
        }
        warning.push_str(if args.all {
            "\t- all images without at least one container associated with them\n"
        } else {
            "\t- all dangling images\n"
        });
        warning.push_str("\t- all build cache\n");
        if !confirmed(out, &warning)? {
            return Ok(());
        }
    }
    let before = df_rows(&engine::runtime(global)?)?;
    prune_section(out, "Deleted Containers", |o| {
        let prune = container_prune::PruneArgs {
            force: true,
            filter: Vec::new(),
        };
        container_prune::run(&prune, global, o)
    })?;
    if args.volumes {
        prune_section(out, "Deleted Volumes", |o| {
            let prune = volume::PruneArgs {
                filter: Vec::new(),
                force: true,
            };
            volume::prune(&prune, global, o)
        })?;
    }
    prune_section(out, "Deleted Images", |o| {
        let prune = image_rm::PruneArgs {
            all: args.all,
            filter: Vec::new(),
            force: true,
        };
        image_rm::prune(&prune, global, o)
    })?;
    let after = df_rows(&engine::runtime(global)?)?;
    let reclaimed: u64 = before
        .iter()
        .zip(&after)
        .map(|(b, a)| parse_human(&b.size).saturating_sub(parse_human(&a.size)))
        .sum();
    writeln!(out, "Total reclaimed space: {}", human_size(reclaimed, 3)).context("writing the summary")
}

/// The bytes a [`human_size`] text stands for, near enough for a total.
fn parse_human(text: &str) -> u64 {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let number: f64 = text[..split].parse().unwrap_or(0.0);
    let scale = match &text[split..] {
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => 1.0,
    };
    (number * scale) as u64
}

pub fn reset(args: &ResetArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !args.force {
        let warning = "WARNING! This will remove:\n        - all containers\n        - all pods\n        - all images\n        - all networks\n        - all build cache\n        - all machines\n        - all volumes";
        if !confirmed(out, warning)? {
            return Ok(());
        }
    }
    let runtime = engine::runtime(global)?;
    engine::block_on(runtime.reset())??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_sizes() {
        let row = df_row("Images", 2, 1, 2_000_000, 500_000);
        assert_eq!((row.size.as_str(), row.reclaimable.as_str()), ("2MB", "500kB (25%)"));
        assert_eq!(df_row("x", 0, 0, 0, 0).reclaimable, "0B (0%)");
        assert_eq!(parse_human("2.5MB"), 2_500_000);
        assert_eq!(parse_human("0B"), 0);
    }
}
