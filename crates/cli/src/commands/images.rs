//! `corral images` / `image list`: podman's table (one row per name), `-q`, a Go
//! template, or JSON, with `--filter` (`reference`, `dangling`, `label`, `before`,
//! `since`/`after`, `id`, `containers`, `readonly`).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use corral_storage::{ImageRecord, ImageStore, ImageSummary, image::lookup};
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::commands::image::{image_users, in_use, spaced_size};
use crate::commands::ps::human_duration;
use crate::engine;
use crate::error::CliError;
use crate::format::{Headers, JsonStyle, ListFormat, is_json, to_json_line};

const SORT_FIELDS: [&str; 5] = ["created", "id", "repository", "size", "tag"];

#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Show digests
    #[arg(long)]
    pub digests: bool,

    /// Filter output based on conditions provided (default [])
    #[arg(short = 'f', long, value_name = "stringSlice", value_delimiter = ',')]
    pub filter: Vec<String>,

    /// Change the output format to JSON or a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// Display the image name history
    #[arg(long)]
    pub history: bool,

    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Do not print column headings
    #[arg(short = 'n', long)]
    pub noheading: bool,

    /// Display only image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Sort by created, id, repository, size, tag
    #[arg(long, value_name = "string", default_value = "created")]
    pub sort: String,

    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,
}

/// One row: an image under one of its names, with the computed columns podman's
/// template methods give (`.ID`, `.Created`, `.Size` are the display forms).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageRow {
    pub repository: String,
    pub tag: String,
    #[serde(rename = "ID")]
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: String,
    pub created_at: String,
    pub created_since: String,
    pub created_time: String,
    pub size: String,
    pub shared_size: u64,
    pub virtual_size: u64,
    pub labels: BTreeMap<String, String>,
    pub containers: usize,
    pub read_only: bool,
    pub names: Vec<String>,
    pub digest: String,
    pub history: String,
    pub dangling: bool,
    #[serde(skip)]
    created_unix: i64,
    #[serde(skip)]
    bytes: u64,
    #[serde(skip)]
    summary: ImageSummary,
}

/// `repo:tag` split as podman's `tokenRepoTag` splits it.
fn repo_and_tag(name: &str) -> (String, String) {
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let without_digest = name.split('@').next().unwrap_or(name);
    match without_digest[slash.min(without_digest.len())..].rfind(':') {
        Some(colon) => {
            let at = slash + colon;
            (without_digest[..at].to_owned(), without_digest[at + 1..].to_owned())
        }
        None => (without_digest.to_owned(), "<none>".to_owned()),
    }
}

/// Go's `time.Time.String()` of a UTC time: `2026-01-01 00:00:00 +0000 UTC`.
fn go_utc_string(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default()
}

fn rows_of(summaries: &[ImageSummary], no_trunc: bool, now: DateTime<Utc>) -> Vec<ImageRow> {
    let mut rows = Vec::new();
    for s in summaries {
        let id = if no_trunc {
            format!("sha256:{}", s.id)
        } else {
            corral_define::short_id(&s.id).to_owned()
        };
        let created = format!("{} ago", human_duration(now.timestamp() - s.created));
        let row = |repository: String, tag: String| ImageRow {
            repository,
            tag,
            id: id.clone(),
            parent_id: s.parent_id.clone(),
            repo_tags: s.names.clone(),
            repo_digests: s.repo_digests.clone(),
            created: created.clone(),
            created_at: go_utc_string(s.created),
            created_since: created.clone(),
            created_time: go_utc_string(s.created),
            size: spaced_size(s.size),
            shared_size: s.shared_size,
            virtual_size: s.virtual_size,
            labels: s.labels.clone().unwrap_or_default(),
            containers: s.containers,
            read_only: false,
            names: s.names.clone(),
            digest: s.digest.clone(),
            history: s.history.join(", "),
            dangling: s.names.is_empty(),
            created_unix: s.created,
            bytes: s.size,
            summary: s.clone(),
        };
        if s.names.is_empty() {
            rows.push(row("<none>".into(), "<none>".into()));
            continue;
        }
        let split: Vec<(String, String)> = s.names.iter().map(|n| repo_and_tag(n)).collect();
        let tagged: Vec<&(String, String)> = split.iter().filter(|(_, tag)| tag != "<none>").collect();
        if tagged.is_empty() {
            let (repo, tag) = split[0].clone();
            rows.push(row(repo, tag));
        } else {
            rows.extend(tagged.into_iter().map(|(repo, tag)| row(repo.clone(), tag.clone())));
        }
    }
    rows
}

fn sort_rows(rows: &mut [ImageRow], key: &str) {
    match key {
        "id" => rows.sort_by(|a, b| a.id.cmp(&b.id)),
        "repository" => rows.sort_by(|a, b| a.repository.cmp(&b.repository)),
        "size" => rows.sort_by_key(|r| r.bytes),
        "tag" => rows.sort_by(|a, b| a.tag.cmp(&b.tag)),
        _ => rows.sort_by_key(|r| std::cmp::Reverse(r.created_unix)),
    }
}

/// path.Match's `*` and `?` (neither crosses a `/`) over whole strings.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            glob_matches(rest, text) || text.first().is_some_and(|c| *c != b'/') && glob_matches(pattern, &text[1..])
        }
        (Some((b'?', rest)), Some((c, text_rest))) => *c != b'/' && glob_matches(rest, text_rest),
        (Some((p, rest)), Some((c, text_rest))) => p == c && glob_matches(rest, text_rest),
        _ => false,
    }
}

/// libimage's reference filter: the value names the image (as a lookup finds it), or
/// matches one of its names, in full or familiar form (`busybox`), with or without the tag.
fn reference_matches(value: &str, record: &ImageRecord, all: &[ImageRecord]) -> bool {
    if lookup(all, value).is_ok_and(|m| all[m.index].id == record.id) {
        return true;
    }
    let value_has_tag = value.rsplit('/').next().is_some_and(|last| last.contains(':'));
    record.names.iter().any(|name| {
        let familiar = name
            .strip_prefix("docker.io/library/")
            .or_else(|| name.strip_prefix("docker.io/"))
            .unwrap_or(name);
        [name.as_str(), familiar].iter().any(|candidate| {
            let (repo, _) = repo_and_tag(candidate);
            let target = if value_has_tag { candidate.to_string() } else { repo };
            glob_matches(value.as_bytes(), target.as_bytes())
                || glob_matches(format!("*/{value}").as_bytes(), target.as_bytes())
        })
    })
}

fn parse_bool(key: &str, value: &str) -> anyhow::Result<bool> {
    match value.to_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(anyhow::anyhow!(
            "invalid image filter {key}={value:?}: must be true or false"
        )),
    }
}

/// Applies `filters` to the records; `users` are the containers' image IDs.
pub fn filter_images(records: &[ImageRecord], filters: &[String], users: &[String]) -> anyhow::Result<Vec<String>> {
    let mut keep: Vec<&ImageRecord> = records.iter().collect();
    let mut references: Vec<&str> = Vec::new();
    for filter in filters {
        let Some((key, value)) = filter.split_once('=') else {
            return Err(anyhow::anyhow!(
                "invalid image filter {filter:?}: must be in the format \"filter=value\""
            ));
        };
        let created = |reference: &str| -> anyhow::Result<i64> {
            let m = lookup(records, reference)?;
            Ok(created_unix(&records[m.index]))
        };
        match key {
            "reference" => references.push(value),
            "dangling" => {
                let want = parse_bool(key, value)?;
                keep.retain(|r| r.names.is_empty() == want);
            }
            "label" => keep.retain(|r| match value.split_once('=') {
                Some((k, v)) => r.labels.get(k).is_some_and(|l| l == v),
                None => r.labels.contains_key(value),
            }),
            "before" => {
                let limit = created(value)?;
                keep.retain(|r| created_unix(r) < limit);
            }
            "since" | "after" => {
                let limit = created(value)?;
                keep.retain(|r| created_unix(r) > limit);
            }
            "id" => keep.retain(|r| r.id.starts_with(value.trim_start_matches("sha256:"))),
            "containers" => {
                let want = parse_bool(key, value)?;
                keep.retain(|r| users.contains(&r.id) == want);
            }
            "readonly" => {
                if parse_bool(key, value)? {
                    keep.clear();
                }
            }
            "intermediate" => {
                if parse_bool(key, value)? {
                    keep.clear();
                }
            }
            _ => return Err(anyhow::anyhow!("unsupported image filter {key:?}")),
        }
    }
    if !references.is_empty() {
        keep.retain(|r| references.iter().any(|value| reference_matches(value, r, records)));
    }
    Ok(keep.into_iter().map(|r| r.id.clone()).collect())
}

fn created_unix(record: &ImageRecord) -> i64 {
    record
        .created
        .as_deref()
        .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
        .map_or(-62_135_596_800, |t| t.timestamp())
}

/// podman's default layout for the flags given.
fn default_format(args: &ImagesArgs) -> String {
    let mut row = vec![
        "{{if .Repository}}{{.Repository}}{{else}}<none>{{end}}",
        "{{if .Tag}}{{.Tag}}{{else}}<none>{{end}}",
    ];
    if args.digests {
        row.push("{{.Digest}}");
    }
    row.extend(["{{.ID}}", "{{.Created}}", "{{.Size}}"]);
    if args.history {
        row.push("{{if .History}}{{.History}}{{else}}<none>{{end}}");
    }
    format!("{{{{range . }}}}{}\n{{{{end -}}}}", row.join("\t"))
}

pub fn run(args: &ImagesArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !args.filter.is_empty() && args.image.is_some() {
        return Err(CliError::Usage("cannot specify an image and a filter(s)".into()).into());
    }
    if !SORT_FIELDS.contains(&args.sort.as_str()) {
        return Err(CliError::Usage(format!(
            "\"{}\" is not a valid field for sorting. Choose from: {}",
            args.sort,
            SORT_FIELDS.join(", ")
        ))
        .into());
    }
    let mut filters = args.filter.clone();
    if let Some(image) = &args.image {
        filters.push(format!("reference={image}"));
    }
    let runtime = engine::runtime(global)?;
    let store = runtime.storage()?;
    let users = in_use(&image_users(&runtime)?);
    let records = store.list()?;
    let wanted = filter_images(&records, &filters, &users)?;
    let summaries: Vec<ImageSummary> = store
        .summaries(&users)?
        .into_iter()
        .filter(|s| wanted.contains(&s.id))
        .collect();
    let mut rows = rows_of(&summaries, args.no_trunc, Utc::now());
    sort_rows(&mut rows, &args.sort);

    let text = if args.format.as_deref().is_some_and(is_json) {
        let json: Vec<&ImageSummary> = rows.iter().map(|r| &r.summary).collect();
        to_json_line(&json, JsonStyle::IMAGES)?
    } else if args.quiet {
        let mut seen: Vec<&str> = Vec::new();
        for row in &rows {
            if !seen.contains(&row.id.as_str()) {
                seen.push(&row.id);
            }
        }
        seen.iter().map(|id| format!("{id}\n")).collect()
    } else {
        let headers = Headers::new().with("ID", "IMAGE ID").with("ReadOnly", "R/O");
        let layout = default_format(args);
        let list = ListFormat {
            name: "images",
            default_format: &layout,
            headers: &headers,
            json_style: JsonStyle::IMAGES,
        };
        list.render(args.format.as_deref(), args.noheading, &rows)?
    };
    out.write_all(text.as_bytes()).context("writing the image list")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_tags() {
        assert_eq!(
            repo_and_tag("localhost/busybox:latest"),
            ("localhost/busybox".into(), "latest".into())
        );
        assert_eq!(
            repo_and_tag("localhost:5000/a/b:1.0"),
            ("localhost:5000/a/b".into(), "1.0".into())
        );
        assert_eq!(
            repo_and_tag("localhost:5000/a"),
            ("localhost:5000/a".into(), "<none>".into())
        );
    }

    #[test]
    fn globs_as_path_match() {
        assert!(glob_matches(b"busy*", b"busybox"));
        assert!(glob_matches(b"*/busybox", b"localhost/busybox"));
        assert!(!glob_matches(b"*", b"localhost/busybox"));
        assert!(glob_matches(b"b?sybox", b"busybox"));
        assert!(!glob_matches(b"busy", b"busybox"));
    }
}
