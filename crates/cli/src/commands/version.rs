//! `corral version`: podman's `Client:` block, `--format` and `--format json`.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::format::{Formatter, JsonStyle, Origin, is_json, to_json_line};

/// podman's layout, with the Rust version where podman shows Go's.
const VERSION_TEMPLATE: &str = "{{with .Client -}}
Client:\\tCorral Engine
Version:\\t{{.Version}}
API Version:\\t{{.APIVersion}}
Rust Version:\\t{{.RustVersion}}
{{if .GitCommit -}}Git Commit:\\t{{.GitCommit}}\\n{{end -}}
Built:\\t{{.BuiltTime}}
OS/Arch:\\t{{.OsArch}}
{{- end}}
";

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,
}

/// One side's version facts (podman's `define.Version`).
pub use corral_core::Version;

/// What `version` reports: the client, and the server when there is one
/// (corral has no remote mode, so never).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionReport {
    #[serde(rename = "Client")]
    pub client: Version,
    #[serde(rename = "Server", skip_serializing_if = "Option::is_none")]
    pub server: Option<Version>,
}

/// Renders the report for `format` (`None`: podman's layout).
pub fn render(report: &VersionReport, format: Option<&str>) -> anyhow::Result<String> {
    let Some(format) = format else {
        let mut formatter = Formatter::parse("version", Origin::Podman, VERSION_TEMPLATE)?;
        formatter.execute(report)?;
        return Ok(formatter.finish());
    };
    if is_json(format) {
        return Ok(to_json_line(report, JsonStyle::COMPACT)?);
    }
    let mut formatter = Formatter::parse("version", Origin::Unknown, format)?;
    if let Err(error) = formatter.execute(report) {
        // podman retries a `.Server.` template on the client alone.
        tracing::debug!("Failed to execute template: {error}");
        let mut formatter = Formatter::parse("version", Origin::Unknown, &format.replace(".Server.", "."))?;
        formatter.execute(&report.client)?;
        return Ok(formatter.finish());
    }
    Ok(formatter.finish())
}

pub fn run(args: &VersionArgs, _global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let report = VersionReport {
        client: Version::current(),
        server: None,
    };
    let text = render(&report, args.format.as_deref())?;
    out.write_all(text.as_bytes()).context("writing the version")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> VersionReport {
        VersionReport {
            client: Version {
                api_version: "0.1.0".into(),
                version: "0.1.0".into(),
                rust_version: "1.95.0".into(),
                git_commit: String::new(),
                built_time: "Thu Jan  1 00:00:00 1970".into(),
                built: 0,
                os_arch: "linux/amd64".into(),
                os: "linux".into(),
            },
            server: None,
        }
    }

    #[test]
    fn default_layout_is_podmans() {
        assert_eq!(
            render(&report(), None).unwrap(),
            "Client:        Corral Engine\n\
             Version:       0.1.0\n\
             API Version:   0.1.0\n\
             Rust Version:  1.95.0\n\
             Built:         Thu Jan  1 00:00:00 1970\n\
             OS/Arch:       linux/amd64\n"
        );
        let mut with_commit = report();
        with_commit.client.git_commit = "abc123".into();
        assert!(
            render(&with_commit, None)
                .unwrap()
                .contains("\nGit Commit:    abc123\nBuilt:")
        );
    }

    #[test]
    fn formats() {
        assert_eq!(render(&report(), Some("{{.Client.Version}}")).unwrap(), "0.1.0\n");
        assert_eq!(render(&report(), Some("{{.Server.Os}}")).unwrap(), "linux\n");
        assert_eq!(
            render(&report(), Some("json")).unwrap(),
            "{\"Client\":{\"APIVersion\":\"0.1.0\",\"Version\":\"0.1.0\",\"RustVersion\":\"1.95.0\",\"GitCommit\":\"\",\
             \"BuiltTime\":\"Thu Jan  1 00:00:00 1970\",\"Built\":0,\"OsArch\":\"linux/amd64\",\"Os\":\"linux\"}}\n"
        );
        assert!(render(&report(), Some("{{.Client.Bogus}}")).is_err());
    }
}
