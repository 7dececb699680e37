//! `corral info` (and `corral system info`): the host, the store and the version, in
//! podman's layout: YAML by default, JSON with `--format json`, and Go templates over
//! podman's field names (`{{.Store.GraphRoot}}`).

use std::io::Write;

use anyhow::Context;
use clap::Args;
use corral_core::Runtime;
use serde_json::{Map, Value};

use crate::cli::GlobalOptions;
use crate::engine;
use crate::format::{Formatter, JsonStyle, Origin, is_json, to_json_line};

#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// Change the output format to JSON or a Go template
    #[arg(short = 'f', long = "format", value_name = "string")]
    pub format: Option<String>,

    /// Add extra debug information
    #[arg(short = 'D', long)]
    pub debug: bool,
}

/// The whole report, with podman's JSON keys (in alphabetical order).
pub fn report(runtime: &Runtime) -> anyhow::Result<Value> {
    let info = engine::block_on(runtime.info())??;
    Ok(serde_json::to_value(&info)?)
}

/// podman's Go field name for a JSON key.
fn go_name(key: &str) -> String {
    let special = [
        ("cgroupVersion", "CgroupsVersion"),
        ("ociRuntime", "OCIRuntime"),
        ("os", "OS"),
        ("cpus", "CPUs"),
        ("idMappings", "IDMappings"),
        ("gidmap", "GIDMap"),
        ("uidmap", "UIDMap"),
        ("seccompEnabled", "SECCOMPEnabled"),
        ("seccompProfilePath", "SECCOMPProfilePath"),
    ];
    if let Some((_, go)) = special.iter().find(|(json, _)| *json == key) {
        return (*go).to_owned();
    }
    let mut chars = key.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The report with Go field names, for templates.
fn go_fields(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (go_name(k), go_fields(v)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// A YAML scalar as Go's yaml writes it: plain when it can be, quoted otherwise.
fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let plain = !s.is_empty()
                && !s.contains(": ")
                && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
                && !s.ends_with(' ')
                && s.parse::<f64>().is_err()
                && !matches!(s.as_str(), "true" | "false" | "null" | "~" | "yes" | "no");
            if plain {
                s.clone()
            } else {
                format!("'{}'", s.replace('\'', "''"))
            }
        }
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if m.is_empty() => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Object(_) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if a.is_empty() => out.push_str(&format!("{pad}{k}: []\n")),
                    Value::Array(a) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        for item in a {
                            out.push_str(&format!("{pad}- {}\n", yaml_scalar(item)));
                        }
                    }
                    Value::String(s) if s.contains('\n') => {
                        out.push_str(&format!("{pad}{k}: |-\n"));
                        for line in s.lines() {
                            out.push_str(&format!("{pad}  {line}\n"));
                        }
                    }
                    scalar => out.push_str(&format!("{pad}{k}: {}\n", yaml_scalar(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

/// Renders the report for `format` (None: podman's YAML).
pub fn render(report: &Value, format: Option<&str>) -> anyhow::Result<String> {
    match format {
        None | Some("yaml") => {
            let mut out = String::new();
            write_yaml(report, 0, &mut out);
            Ok(out)
        }
        Some(f) if is_json(f) => Ok(to_json_line(report, JsonStyle::LIST)?),
        Some(f) => {
            let mut formatter = Formatter::parse("info", Origin::Unknown, f)?;
            formatter.execute(&go_fields(report))?;
            Ok(formatter.finish())
        }
    }
}

pub fn run(args: &InfoArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let text = render(&report(&runtime)?, args.format.as_deref())?;
    out.write_all(text.as_bytes()).context("writing the info")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layouts() {
        let report = json!({"host": {"ociRuntime": {"version": "crun 1\nspec: 1"}, "os": "linux",
                            "list": ["a"], "none": []},
                            "store": {"graphRoot": "/r", "graphOptions": {}, "imageStore": {"number": 2}}});
        assert_eq!(
            render(&report, None).unwrap(),
            "host:\n  list:\n  - a\n  none: []\n  ociRuntime:\n    version: |-\n      crun 1\n      spec: 1\n  os: linux\n\
             store:\n  graphOptions: {}\n  graphRoot: /r\n  imageStore:\n    number: 2\n"
        );
        assert_eq!(render(&report, Some("{{.Store.GraphRoot}}")).unwrap(), "/r\n");
        assert_eq!(
            render(&report, Some("{{.Host.OS}} {{.Store.ImageStore.Number}}")).unwrap(),
            "linux 2\n"
        );
        let json: Value = serde_json::from_str(&render(&report, Some("json")).unwrap()).unwrap();
        assert_eq!(json["store"]["graphRoot"], "/r");
        assert_eq!(yaml_scalar(&json!("")), "''");
        assert_eq!(yaml_scalar(&json!("1.5")), "'1.5'");
    }
}
