//! `corral container inspect`: podman's InspectContainerData as JSON, or
//! through a Go template.

use std::io::Write;

use clap::Args;

use crate::cli::GlobalOptions;
use crate::commands::inspect_any::{InspectArgs as InspectAnyArgs, ObjectType};
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
    // podman's `container inspect` is `inspect --type container`: the same
    // output, and the same report of a name it does not find.
    let any = InspectAnyArgs {
        format: args.format.clone(),
        latest: args.latest,
        size: args.size,
        object_type: ObjectType::Container,
        names: args.containers.clone(),
    };
    crate::commands::inspect_any::run(&any, global, out)
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
