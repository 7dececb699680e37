//! What the container commands share: finding the containers named on the
//! command line (or `--all`, `--latest`), and reporting each one's result
//! the way podman does.

use std::io::Write;

use anyhow::bail;
use corral_core::{Container, Runtime};
use corral_define::ErrorKind;

use crate::error::{CliError, error_kind};

/// The containers a command acts on, each with the name or ID the user typed
/// (podman prints that back); with `--all` or `--latest`, the full ID.
pub fn select(
    runtime: &Runtime,
    names: &[String],
    all: bool,
    latest: bool,
) -> anyhow::Result<Vec<(String, Container)>> {
    if (all || latest) && !names.is_empty() {
        bail!(CliError::Usage(
            "--all, --latest and containers cannot be used together".into()
        ));
    }
    if all && latest {
        bail!(CliError::Usage("--all and --latest cannot be used together".into()));
    }
    if all {
        return Ok(runtime
            .get_containers()?
            .into_iter()
            .map(|c| (c.id().to_owned(), c))
            .collect());
    }
    if latest {
        let container = runtime.latest()?;
        return Ok(vec![(container.id().to_owned(), container)]);
    }
    if names.is_empty() {
        bail!(CliError::Usage("you must provide at least one name or id".into()));
    }
    names
        .iter()
        .map(|name| Ok((name.clone(), runtime.lookup_container(name)?)))
        .collect()
}

/// The kind of the first error in the chain that has one.
pub fn kind_of(err: &anyhow::Error) -> Option<ErrorKind> {
    err.chain().find_map(error_kind)
}

/// Whether `err` says the container does not exist.
pub fn is_no_such_container(err: &anyhow::Error) -> bool {
    kind_of(err) == Some(ErrorKind::NoSuchContainer)
}

/// Results of one command over several containers, printed as podman's
/// `OutputErrors`: each success's name on stdout, every error but the last
/// as `Error: ...` on stderr, the last one returned.
#[derive(Debug, Default)]
pub struct Report {
    errors: Vec<anyhow::Error>,
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    /// Prints `name` for a success, keeps the error of a failure.
    pub fn record(&mut self, out: &mut dyn Write, name: &str, result: anyhow::Result<()>) -> anyhow::Result<()> {
        match result {
            Ok(()) => writeln!(out, "{name}")?,
            Err(err) => self.errors.push(err),
        }
        Ok(())
    }

    /// Keeps an error.
    pub fn fail(&mut self, err: anyhow::Error) {
        self.errors.push(err);
    }

    pub fn errors(&self) -> &[anyhow::Error] {
        &self.errors
    }

    /// Prints every error but the last and returns the last.
    pub fn finish(mut self) -> anyhow::Result<()> {
        let Some(last) = self.errors.pop() else {
            return Ok(());
        };
        let mut stderr = std::io::stderr();
        for err in &self.errors {
            let _ = writeln!(stderr, "{}", crate::error::error_text(err));
        }
        Err(last)
    }
}

/// `true` when `err` is (or wraps) an `InvalidState` error.
pub fn is_invalid_state(err: &anyhow::Error) -> bool {
    kind_of(err) == Some(ErrorKind::InvalidState)
}
