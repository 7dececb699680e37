//! `corral container inspect`: podman's InspectContainerData as JSON, or
//! through a Go template.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use crate::cli::GlobalOptions;
use crate::commands::targets::select;
use crate::engine;
use crate::format::{Formatter, JsonStyle, Origin, is_json, to_json_line};

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output to a Go template or json
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Display total file size
    #[arg(short = 's', long)]
    pub size: bool,

    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Renders inspect data: JSON without a format (or with `json`), else the
/// template once per container.
pub fn render(values: &[serde_json::Value], format: Option<&str>) -> anyhow::Result<String> {
    match format {
        None => Ok(to_json_line(values, JsonStyle::INSPECT)?),
        Some(format) if is_json(format) => Ok(to_json_line(values, JsonStyle::INSPECT)?),
        Some(format) => {
            let mut formatter = Formatter::parse("inspect", Origin::User, format)?;
            formatter.execute(values)?;
            Ok(formatter.finish())
        }
    }
}

pub fn run(args: &InspectArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let targets = select(&runtime, &args.containers, false, args.latest)?;
    let values = engine::block_on(async {
        let mut values = Vec::new();
        for (_, container) in &targets {
            values.push(container.inspect().await?);
        }
        anyhow::Ok(values)
    })??;
    let text = render(&values, args.format.as_deref())?;
    out.write_all(text.as_bytes()).context("writing inspect output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_templates() {
        let values = vec![serde_json::json!({"Id": "abc", "State": {"Status": "running"}})];
        assert_eq!(
            render(&values, None).unwrap(),
            "[\n     {\n          \"Id\": \"abc\",\n          \"State\": {\n               \"Status\": \"running\"\n          }\n     }\n]\n"
        );
        assert_eq!(render(&values, Some("{{.State.Status}}")).unwrap(), "running\n");
    }
}
