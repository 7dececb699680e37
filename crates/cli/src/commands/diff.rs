//! `corral diff`: what a container changed against its image, one
//! `A`/`C`/`D` line a path, or podman's JSON report.

use std::io::Write;

use anyhow::{Context, bail};
use clap::Args;
use corral_storage::{Change, ChangeKind};
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::engine;
use crate::format::is_json;

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Change the output format (json)
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// podman's JSON report of changes, by kind.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
struct ChangesReport {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deleted: Vec<String>,
}

fn report(changes: Vec<Change>) -> ChangesReport {
    let mut report = ChangesReport::default();
    for change in changes {
        match change.kind {
            ChangeKind::Changed => report.changed.push(change.path),
            ChangeKind::Added => report.added.push(change.path),
            ChangeKind::Deleted => report.deleted.push(change.path),
        }
    }
    report
}

pub fn run(args: &DiffArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let as_json = match args.format.as_deref() {
        None | Some("") => false,
        Some(format) if is_json(format) => true,
        Some(format) => bail!("--format {format} is not supported, only json"),
    };
    let runtime = engine::runtime(global)?;
    let container = match (args.latest, args.containers.as_slice()) {
        (true, []) => runtime.latest()?,
        (false, [name]) => runtime.lookup_container(name)?,
        (true, _) => bail!(crate::error::CliError::Usage(
            "--latest and containers cannot be used together".into()
        )),
        (false, _) => bail!(crate::error::CliError::Usage("diff requires one container".into())),
    };
    let changes = engine::block_on(container.diff())??;
    if as_json {
        let text = serde_json::to_string(&report(changes)).context("encoding the changes")?;
        return writeln!(out, "{text}").context("writing the changes");
    }
    for change in changes {
        writeln!(out, "{change}").context("writing the changes")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_report_groups_by_kind_and_omits_empty_kinds() {
        let changes = vec![
            Change {
                path: "/etc".into(),
                kind: ChangeKind::Changed,
            },
            Change {
                path: "/etc/new".into(),
                kind: ChangeKind::Added,
            },
        ];
        assert_eq!(
            serde_json::to_string(&report(changes)).unwrap(),
            r#"{"changed":["/etc"],"added":["/etc/new"]}"#
        );
    }
}
