//! `corral commit`: a new image from a container's changes, printing its ID.

use std::io::Write;

use anyhow::Context;
use clap::{ArgAction, Args};
use corral_storage::CommitOptions;

use crate::cli::GlobalOptions;
use crate::engine;

#[derive(Debug, Clone, Args)]
pub struct CommitArgs {
    /// Set the author for the image committed
    #[arg(short = 'a', long, value_name = "string")]
    pub author: Option<String>,

    /// Apply the following possible instructions to the created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR
    #[arg(short = 'c', long = "change", value_name = "stringArray")]
    pub change: Vec<String>,

    /// Set commit message for imported image
    #[arg(short = 'm', long, value_name = "string")]
    pub message: Option<String>,

    /// Pause container during commit
    #[arg(short = 'p', long, value_name = "bool", action = ArgAction::Set, default_value_t = false,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub pause: bool,

    /// Suppress output
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[arg(value_name = "CONTAINER", required = true)]
    pub container: String,

    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,
}

pub fn run(args: &CommitArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let container = runtime.lookup_container(&args.container)?;
    let options = CommitOptions {
        name: args.image.clone(),
        author: args.author.clone(),
        message: args.message.clone(),
        created_by: None,
        changes: args.change.clone(),
    };
    let id = engine::block_on(container.commit(&options, args.pause))??;
    writeln!(out, "{id}").context("writing the image ID")
}
