//! The `corral` command line, podman's command line over corral's engine,
//! and its output layer.
//!
//! [`run`] is the whole program: it parses podman's global options and
//! commands ([`cli`]), runs one ([`commands`]), and turns a failure into
//! podman's `Error: ...` on stderr and exit code ([`error`]).
//!
//! The output layer ([`format`](mod@format)) stands alone: Go-template `--format`
//! strings, `table` layouts aligned as podman aligns them, and JSON in
//! podman's layouts, over any `serde::Serialize` data:
//!
//! ```
//! use corral_cli::format::{Headers, JsonStyle, ListFormat};
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct Row {
//!     #[serde(rename = "ID")]
//!     id: String,
//!     #[serde(rename = "Names")]
//!     names: Vec<String>,
//! }
//!
//! let rows = [
//!     Row { id: "6c74672d5fc9".into(), names: vec!["web".into()] },
//!     Row { id: "b6d4b467c421".into(), names: vec!["c64be97fec20-infra".into()] },
//! ];
//! let headers = Headers::new().with("ID", "container id");
//! let ps = ListFormat {
//!     name: "ps",
//!     default_format: "table {{.ID}}\t{{.Names}}",
//!     headers: &headers,
//!     json_style: JsonStyle::LIST,
//! };
//!
//! // Without --format: the default table, with its header row.
//! assert_eq!(
//!     ps.render(None, false, &rows).unwrap(),
//!     "CONTAINER ID  NAMES\n\
//!      6c74672d5fc9  [web]\n\
//!      b6d4b467c421  [c64be97fec20-infra]\n"
//! );
//! // A --format table: spaces separate columns, headers come from the fields.
//! assert_eq!(
//!     ps.render(Some("table {{.Names}} {{.ID}}"), false, &rows[..1]).unwrap(),
//!     "NAMES       CONTAINER ID\n[web]       6c74672d5fc9\n"
//! );
//! // A row template with functions: no header, no alignment.
//! assert_eq!(
//!     ps.render(Some(r#"{{.ID}}:{{join .Names ","}}"#), false, &rows[..1]).unwrap(),
//!     "6c74672d5fc9:web\n"
//! );
//! // A missing field is podman's template error.
//! assert_eq!(
//!     ps.render(Some("{{.Bogus}}"), false, &rows).unwrap_err().to_string(),
//!     "template: ps:1:13: executing \"ps\" at <.Bogus>: can't evaluate field Bogus in type Row"
//! );
//! ```

pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod format;
mod logging;
pub mod progress;
mod stdio;

use std::ffi::OsString;
use std::io::Write;

use cli::{BIN, Parsed};
use error::{CliError, error_text, exit_code_for};

/// Runs the `corral` command with `args` (program name first) and returns
/// the exit code. Output goes to `stdout`; errors go to `stderr` as
/// podman prints them.
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    match run_inner(&args, stdout) {
        Ok(()) => 0,
        Err(err) => {
            let text = error_text(&err);
            // An empty text is a container's own exit code (`run`): nothing to say.
            if !text.is_empty() {
                // Nothing more can be done when stderr itself is gone.
                let _ = writeln!(stderr, "{text}");
            }
            exit_code_for(&err)
        }
    }
}

fn run_inner(args: &[OsString], stdout: &mut dyn Write) -> anyhow::Result<()> {
    let cli = match cli::parse(args)? {
        Parsed::Run(cli) => cli,
        Parsed::Print(text) => {
            stdout.write_all(text.as_bytes())?;
            return Ok(());
        }
    };
    if cli.version {
        writeln!(stdout, "{BIN} version {}", env!("CARGO_PKG_VERSION"))?;
        return Ok(());
    }
    let level = cli.global.effective_log_level()?;
    logging::init(&level);
    tracing::info!("{BIN} filtering at log level {level}");
    let Some(command) = cli.command else {
        write!(stdout, "{}", cli::command().render_help())?;
        return Err(CliError::MissingCommand(BIN.to_owned()).into());
    };
    let invocation: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    tracing::debug!("Called {}.PersistentPreRunE({})", command.name(), invocation.join(" "));
    command.run(&cli.global, stdout)
}
