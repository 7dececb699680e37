//! `corral image inspect`, `history` and `image tree`.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{ArgAction, Args};
use corral_storage::{ImageStore, StorageError};
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::commands::image::human_size;
use crate::commands::ps::human_duration;
use crate::engine;
use crate::format::{Formatter, Headers, JsonStyle, ListFormat, Origin, Value, is_json, to_json_line, to_value};

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format the output to a Go template or json
    #[arg(short = 'f', long, value_name = "string", default_value = "json")]
    pub format: String,

    #[arg(value_name = "IMAGE", required = true, num_args = 1..)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Change the output to JSON or a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// Display sizes and dates in human readable format
    #[arg(short = 'H', long, value_name = "bool", default_value_t = true, action = ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: bool,

    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Display the numeric IDs only
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,
}

#[derive(Debug, Clone, Args)]
pub struct TreeArgs {
    /// Show all child images and layers of the specified image
    #[arg(long)]
    pub whatrequires: bool,

    #[arg(value_name = "IMAGE", required = true)]
    pub image: String,
}

/// A document as Go's template sees podman's struct: the `Id` JSON field is the `ID` field.
fn with_go_id(mut value: Value) -> Value {
    if let Value::Struct(fields) = &mut value
        && let Some(id) = fields.field("Id").cloned()
    {
        std::rc::Rc::make_mut(fields).fields.push(("ID".into(), id));
    }
    value
}

/// `image inspect`: the JSON array of the images found (printed even when some were
/// not), then the first error, as podman does.
pub fn inspect(args: &InspectArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let mut found = Vec::new();
    let mut errors: Vec<StorageError> = Vec::new();
    for image in &args.images {
        match store.inspect(image) {
            Ok(doc) => found.push(doc),
            Err(err) => errors.push(err),
        }
    }
    let text = if is_json(&args.format) {
        to_json_line(&found, JsonStyle::INSPECT)?
    } else {
        let mut formatter = Formatter::parse("inspect", Origin::User, &args.format)?;
        let values = found
            .iter()
            .map(|doc| to_value(doc).map(with_go_id))
            .collect::<Result<Vec<Value>, _>>()?;
        formatter.execute_value(&Value::List(values.into()))?;
        formatter.finish()
    };
    out.write_all(text.as_bytes()).context("writing the inspect output")?;
    let mut errors = errors.into_iter();
    let Some(first) = errors.next() else {
        return Ok(());
    };
    for other in errors {
        eprintln!("error inspecting object: {other}");
    }
    Err(anyhow::Error::new(first).context("inspecting object"))
}

/// One `history` row with podman's display forms.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct HistoryRow {
    #[serde(rename = "ID")]
    id: String,
    created: String,
    created_at: String,
    created_since: String,
    created_by: String,
    size: String,
    comment: String,
    tags: Vec<String>,
}

/// `history --format json`: podman's layer struct, with its extra `Created` string.
#[derive(Debug, Clone, Serialize)]
struct HistoryJson {
    id: String,
    created: String,
    #[serde(rename = "CreatedBy", skip_serializing_if = "String::is_empty")]
    created_by: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    size: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    comment: String,
    #[serde(rename = "Created")]
    created_rfc3339: String,
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Go's `time.RFC3339` in UTC (whole seconds).
fn rfc3339(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "0001-01-01T00:00:00Z".to_owned(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

pub fn history(args: &HistoryArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let entries = runtime.storage()?.history(&args.image)?;
    if args.format.as_deref().is_some_and(is_json) {
        let layers: Vec<HistoryJson> = entries
            .iter()
            .map(|e| {
                let created = rfc3339(parse_time(e.created.as_deref()));
                HistoryJson {
                    id: e.id.clone(),
                    created: created.clone(),
                    created_by: e.created_by.clone(),
                    tags: e.tags.clone(),
                    size: e.size,
                    comment: e.comment.clone(),
                    created_rfc3339: created,
                }
            })
            .collect();
        let text = to_json_line(&layers, JsonStyle::COMPACT)?;
        return out.write_all(text.as_bytes()).context("writing the history");
    }
    let now = Utc::now();
    let rows: Vec<HistoryRow> = entries
        .iter()
        .map(|e| {
            let time = parse_time(e.created.as_deref());
            let created = if args.human {
                let since = time.map_or(i64::MAX / 2, |t| (now - t).num_seconds());
                format!("{} ago", human_duration(since))
            } else {
                rfc3339(time)
            };
            let created_by = if !args.no_trunc && e.created_by.len() > 45 {
                let mut cut = 42;
                while !e.created_by.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!("{}...", &e.created_by[..cut])
            } else {
                e.created_by.clone()
            };
            let id = if !args.no_trunc && e.id.len() >= 12 {
                e.id[..12].to_owned()
            } else {
                e.id.clone()
            };
            HistoryRow {
                id,
                created_since: created.clone(),
                created,
                created_at: rfc3339(time),
                created_by,
                size: human_size(e.size, 3),
                comment: e.comment.clone(),
                tags: e.tags.clone(),
            }
        })
        .collect();
    let text = if args.quiet {
        rows.iter().map(|r| format!("{}\n", r.id)).collect()
    } else {
        let headers = Headers::new().with("CreatedBy", "CREATED BY");
        let list = ListFormat {
            name: "history",
            default_format: "{{range .}}{{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}\n{{end -}}",
            headers: &headers,
            json_style: JsonStyle::COMPACT,
        };
        list.render(args.format.as_deref(), false, &rows)?
    };
    out.write_all(text.as_bytes()).context("writing the history")
}

/// Go's `fmt` of a string slice: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

pub fn tree(args: &TreeArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = engine::runtime(global)?;
    let tree = runtime.storage()?.tree(&args.image)?;
    let mut text = format!(
        "Image ID: {}\nTags:     {}\nSize:     {}\n",
        corral_define::short_id(&tree.id),
        go_list(&tree.names),
        human_size(tree.size, 4)
    );
    text.push_str(if tree.layers.is_empty() {
        "No Image Layers\n"
    } else {
        "Image Layers\n"
    });
    let count = tree.layers.len();
    for (i, layer) in tree.layers.iter().enumerate() {
        let branch = if i + 1 == count { "└── " } else { "├── " };
        text.push_str(&format!(
            "{branch}ID: {} Size: {:>7}",
            corral_define::short_id(layer.id.hex()),
            human_size(layer.size, 4)
        ));
        if !layer.top_layer_of.is_empty() {
            text.push_str(&format!(" Top Layer of: {}", go_list(&layer.top_layer_of)));
        }
        text.push('\n');
    }
    out.write_all(text.as_bytes()).context("writing the image tree")
}
