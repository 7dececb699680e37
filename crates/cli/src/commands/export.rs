//! `corral export`: a container's whole filesystem as a tar, to a file
//! (`-o`) or to stdout when that is not a terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::cli::GlobalOptions;
use crate::engine;
use crate::error::CliError;

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Write to a specified file (default: stdout, which must be redirected)
    #[arg(short = 'o', long, value_name = "string")]
    pub output: Option<PathBuf>,

    #[arg(value_name = "CONTAINER", required = true)]
    pub container: String,
}

pub fn run(args: &ExportArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        bail!(CliError::Usage(
            "refusing to export to terminal. Use -o flag or redirect".into()
        ));
    }
    let runtime = engine::runtime(global)?;
    let container = runtime.lookup_container(&args.container)?;
    match &args.output {
        Some(path) => {
            // Written to a temporary name and renamed, so no torn archive is left.
            let mut partial = path.clone().into_os_string();
            partial.push(format!(".{}.partial", std::process::id()));
            let partial = PathBuf::from(partial);
            let written = (|| {
                let mut file = std::fs::File::create(&partial)
                    .with_context(|| format!("creating the archive {}", partial.display()))?;
                engine::block_on(container.export(&mut file))??;
                file.sync_all()
                    .with_context(|| format!("writing the archive {}", partial.display()))?;
                std::fs::rename(&partial, path)
                    .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&partial);
            }
            written
        }
        None => {
            engine::block_on(container.export(out))??;
            out.flush().context("writing the archive")
        }
    }
}
