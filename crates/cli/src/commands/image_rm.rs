//! `corral rmi` / `image rm` and `image prune`.
//!
//! `rmi` prints podman's `Untagged: NAME` lines, then `Deleted: ID` lines, then the
//! errors, and exits as podman does: 1 when an image was not found, 2 when one is in
//! use by a container, 125 for anything else.

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::Args;
use corral_core::RemoveOptions as ContainerRemoveOptions;
use corral_storage::image::{MatchedBy, lookup};
use corral_storage::{ImageStore, RemoveOptions, RemoveReport, StorageError};

use crate::cli::GlobalOptions;
use crate::commands::image::{image_users, in_use};
use crate::commands::images::filter_images;
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Remove all images
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Force Removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Ignore errors if a specified image does not exist
    #[arg(short = 'i', long)]
    pub ignore: bool,

    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all images not in use by containers, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,

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

/// The failures of a command that goes on after one: podman's exit code and text for
/// them (one error as it is, several as a list).
fn joined_errors(errors: Vec<(i32, String)>) -> anyhow::Result<()> {
    let Some((code, _)) = errors.last().cloned() else {
        return Ok(());
    };
    let message = if errors.len() == 1 {
        format!("Error: {}", errors[0].1)
    } else {
        let points: Vec<String> = errors.iter().map(|(_, e)| format!("* {e}")).collect();
        format!("Error: {} errors occurred:\n\t{}", errors.len(), points.join("\n\t"))
    };
    Err(CliError::Exit { code, message }.into())
}

fn storage_exit_code(err: &StorageError) -> i32 {
    match err {
        StorageError::NoSuchImage { .. } | StorageError::NoSuchLayer { .. } => 1,
        StorageError::ImageInUse { .. } => 2,
        _ => 125,
    }
}

pub fn rmi(args: &RmiArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.images.is_empty() && !args.all {
        return Err(CliError::Usage("image name or ID must be specified".into()).into());
    }
    if !args.images.is_empty() && args.all {
        return Err(
            CliError::Usage("when using the --all switch, you may not pass any images names or IDs".into()).into(),
        );
    }
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let targets: Vec<String> = if args.all {
        store.list()?.into_iter().map(|i| i.id).collect()
    } else {
        args.images.clone()
    };
    let mut untagged = Vec::new();
    let mut deleted = Vec::new();
    let mut errors: Vec<(i32, String)> = Vec::new();
    for target in &targets {
        let records = store.list()?;
        let found = match lookup(&records, target) {
            Ok(found) => found,
            Err(err) => {
                if !(args.ignore && matches!(err, StorageError::NoSuchImage { .. })) {
                    errors.push((storage_exit_code(&err), err.to_string()));
                }
                continue;
            }
        };
        let image = &records[found.index];
        let found_id = image.id.clone();
        let only_a_name = matches!(found.by, MatchedBy::Name(_)) && image.names.len() > 1;
        if !only_a_name {
            let users: Vec<(String, String)> = image_users(&runtime)?
                .into_iter()
                .filter(|(_, image_id)| *image_id == image.id)
                .collect();
            if let Some((container, _)) = users.first() {
                if !args.force {
                    errors.push((
                        2,
                        format!(
                            "image used by {container}: image is in use by a container: consider listing external containers and force-removing image"
                        ),
                    ));
                    continue;
                }
                for (container, _) in &users {
                    let ctr = runtime.lookup_container(container)?;
                    engine::block_on(ctr.remove(ContainerRemoveOptions {
                        force: true,
                        timeout: None,
                    }))??;
                }
            }
        }
        let users = in_use(&image_users(&runtime)?);
        let options = RemoveOptions {
            force: args.force || args.all,
        };
        match store.remove(target, options, &users) {
            Ok(report) => {
                removal_events(&runtime, &found_id, target, &report);
                untagged.extend(report.untagged);
                deleted.extend(report.deleted);
            }
            Err(err) => errors.push((storage_exit_code(&err), err.to_string())),
        }
    }
    for name in &untagged {
        writeln!(out, "Untagged: {name}").context("writing the removed images")?;
    }
    for id in &deleted {
        writeln!(out, "Deleted: {id}").context("writing the removed images")?;
    }
    joined_errors(errors)
}

/// podman's events for one removal: `untag` for every name, `remove` when the image
/// went, naming the reference it was removed by.
fn removal_events(runtime: &corral_core::Runtime, id: &str, reference: &str, report: &RemoveReport) {
    for name in &report.untagged {
        runtime.image_event("untag", id, name);
    }
    if report.deleted.is_some() {
        runtime.image_event("remove", id, reference);
    }
}

/// Asks on stdout, reads the answer from stdin: whether the user typed `y`.
fn confirmed(out: &mut dyn Write, question: &str) -> anyhow::Result<bool> {
    write!(out, "{question}\nAre you sure you want to continue? [y/N] ").context("writing the prompt")?;
    out.flush().context("writing the prompt")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

pub fn prune(args: &PruneArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !args.force {
        let question = if args.all {
            "WARNING! This command removes all images without at least one container associated with them."
        } else {
            "WARNING! This command removes all dangling images."
        };
        if !confirmed(out, question)? {
            return Ok(());
        }
    }
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let users = in_use(&image_users(&runtime)?);
    let records = store.list()?;
    let wanted = filter_images(&records, &args.filter, &users)?;
    let mut errors = Vec::new();
    for image in records.iter().filter(|r| wanted.contains(&r.id)) {
        if users.contains(&image.id) || (!args.all && !image.names.is_empty()) {
            continue;
        }
        let removed = store.untag(&image.id, None).and_then(|names| {
            for name in &names {
                runtime.image_event("untag", &image.id, name);
            }
            store.remove(&image.id, RemoveOptions { force: false }, &users)
        });
        match removed {
            Ok(report) => {
                removal_events(&runtime, &image.id, "", &report);
                if let Some(id) = report.deleted {
                    writeln!(out, "{id}").context("writing the removed images")?;
                }
            }
            Err(err) => errors.push((125, err.to_string())),
        }
    }
    joined_errors(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{error_text, exit_code_for};

    #[test]
    fn errors_join_as_podman() {
        assert!(joined_errors(Vec::new()).is_ok());
        let one = joined_errors(vec![(1, "x: image not known".into())]).unwrap_err();
        assert_eq!(exit_code_for(&one), 1);
        assert_eq!(error_text(&one), "Error: x: image not known");
        let two = joined_errors(vec![(1, "a".into()), (2, "b".into())]).unwrap_err();
        assert_eq!(exit_code_for(&two), 2);
        assert_eq!(error_text(&two), "Error: 2 errors occurred:\n\t* a\n\t* b");
    }
}
