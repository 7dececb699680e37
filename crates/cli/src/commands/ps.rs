//! `corral ps`: list containers as podman's table, a Go template, or JSON.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use corral_core::{ContainerFilters, Runtime, go_time_string};
use corral_define::{CompactString, ContainerConfig, ContainerState, ContainerStatus};
use corral_storage::ImageStore;
use serde::Serialize;

use crate::cli::GlobalOptions;
use crate::commands::image::human_size;
use crate::engine;
use crate::error::CliError;
use crate::format::{Headers, JsonStyle, ListFormat, is_json, to_json_line};

/// Go's zero time as Unix seconds: what podman reports for a time never set.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// podman's default layout.
const DEFAULT_FORMAT: &str =
    "{{range .}}{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\n{{end -}}";
/// `ps --size`: the default table with podman's SIZE column last.
const SIZE_FORMAT: &str = "{{range .}}{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}\n{{end -}}";

#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// Show all the containers, default is only running containers
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Show containers in storage not controlled by Podman
    #[arg(long)]
    pub external: bool,

    /// Filter output based on conditions given
    #[arg(short = 'f', long, value_name = "stringArray")]
    pub filter: Vec<String>,

    /// Pretty-print containers to JSON or using a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,

    /// Print the n last created containers (all states)
    #[arg(short = 'n', long, value_name = "int", default_value_t = -1, allow_negative_numbers = true)]
    pub last: i64,

    /// Act on the latest container podman is aware of
    #[arg(short = 'l', long)]
    pub latest: bool,

    /// Display the extended information
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,

    /// Do not print headers
    #[arg(long)]
    pub noheading: bool,

    /// Print the numeric IDs of the containers only
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Display the total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
}

/// A container's disk use as `ps --size` reports it (podman's `ContainerSize`):
/// its writable layer, and that plus its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ContainerSize {
    #[serde(rename = "rootFsSize")]
    pub root_fs_size: u64,
    #[serde(rename = "rwSize")]
    pub rw_size: u64,
}

impl ContainerSize {
    /// podman's SIZE column: `12.3kB (virtual 5.12MB)`.
    fn human(self) -> String {
        format!(
            "{} (virtual {})",
            human_size(self.rw_size, 3),
            human_size(self.root_fs_size, 3)
        )
    }
}

/// The sizes of every listed container; a container whose layer cannot be read
/// (removed meanwhile) counts as empty, as its listing line is already decided.
fn sizes_of(runtime: &Runtime, listed: &[&Listed]) -> anyhow::Result<Vec<ContainerSize>> {
    let image_sizes: BTreeMap<String, u64> = runtime
        .storage()?
        .list()?
        .into_iter()
        .map(|image| (image.id, image.size))
        .collect();
    Ok(listed
        .iter()
        .map(|l| {
            let rw_size = runtime.container_rw_size(&l.config.id).unwrap_or(0);
            let image = image_sizes
                .get(l.config.root_fs.rootfs_image_id.as_str())
                .copied()
                .unwrap_or(0);
            ContainerSize {
                root_fs_size: image + rw_size,
                rw_size,
            }
        })
        .collect())
}

/// docker's `HumanDuration`: `Less than a second`, `5 seconds`, `About a minute`, ...
pub fn human_duration(seconds: i64) -> String {
    let hours = (seconds as f64 / 3600.0 + 0.5) as i64;
    match seconds {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s / 60 == 1 => "About a minute".into(),
        s if s / 60 < 60 => format!("{} minutes", s / 60),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        s => format!("{} years", s / 3600 / 24 / 365),
    }
}

/// How long ago `time` was, podman's way (`5 seconds ago`).
pub fn ago(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ago", human_duration((now - time).num_seconds()))
}

/// podman's name for a status in listings: a configured container is `created`.
pub fn state_name(status: ContainerStatus) -> &'static str {
    match status {
        ContainerStatus::Configured => "created",
        other => other.as_str(),
    }
}

/// The STATUS column: `Up 5 seconds ago`, `Exited (0) 2 minutes ago`, `Created`.
pub fn status_text(state: &ContainerState, now: DateTime<Utc>) -> String {
    match state.state {
        ContainerStatus::Running => format!("Up {}", ago(state.started_time.unwrap_or(now), now)),
        ContainerStatus::Stopped | ContainerStatus::Exited => format!(
            "Exited ({}) {}",
            state.exit_code,
            ago(state.finished_time.unwrap_or(now), now)
        ),
        other => {
            let name = state_name(other);
            let mut chars = name.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// Labels as the output's plain strings.
fn string_map(labels: &BTreeMap<CompactString, CompactString>) -> BTreeMap<String, String> {
    labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn unix_or_zero(time: Option<DateTime<Utc>>) -> i64 {
    time.map_or(GO_ZERO_UNIX, |t| t.timestamp())
}

/// One container as `ps --format json` prints it (podman's `ListContainer`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListContainer {
    pub auto_remove: bool,
    pub command: Vec<String>,
    pub created_at: String,
    pub exited: bool,
    pub exited_at: i64,
    pub exit_code: i32,
    pub id: String,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub is_infra: bool,
    pub labels: Option<BTreeMap<String, String>>,
    pub mounts: Vec<String>,
    pub names: Vec<String>,
    pub namespaces: BTreeMap<String, String>,
    pub networks: Vec<String>,
    pub pid: i32,
    pub pod: String,
    pub pod_name: String,
    pub ports: Option<Vec<String>>,
    pub size: Option<ContainerSize>,
    pub started_at: i64,
    pub state: String,
    pub status: String,
    pub created: i64,
}

/// One row of the table or a user's template (podman's `psReporter`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PsRow {
    #[serde(rename = "ID")]
    pub id: String,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created_human: String,
    pub created_at: String,
    pub running_for: String,
    pub status: String,
    pub state: String,
    pub ports: String,
    pub names: String,
    pub labels: BTreeMap<String, String>,
    pub mounts: Vec<String>,
    pub networks: String,
    pub pid: i32,
    pub pod: String,
    pub pod_name: String,
    pub auto_remove: bool,
    pub exited: bool,
    pub exit_code: i32,
    pub exited_at: i64,
    pub started_at: i64,
    pub restarts: String,
    pub is_infra: bool,
    pub created: i64,
    /// Filled only with `--size`.
    pub size: String,
}

/// What a listing knows of one container.
#[derive(Debug, Clone)]
pub struct Listed {
    pub config: ContainerConfig,
    pub state: ContainerState,
}

impl Listed {
    fn command(&self) -> Vec<String> {
        let image = &self.config.image;
        image
            .entrypoint
            .iter()
            .chain(image.command.iter())
            .map(|arg| arg.to_string())
            .collect()
    }

    pub fn to_json(&self, now: DateTime<Utc>) -> ListContainer {
        let c = &self.config;
        let s = &self.state;
        ListContainer {
            auto_remove: c.misc.auto_remove,
            command: self.command(),
            created_at: ago(c.created_time, now),
            exited: s.exited,
            exited_at: unix_or_zero(s.finished_time),
            exit_code: s.exit_code,
            id: c.id.to_string(),
            image: c.root_fs.rootfs_image_name.to_string(),
            image_id: c.root_fs.rootfs_image_id.to_string(),
            is_infra: c.misc.is_infra,
            labels: Some(string_map(&c.misc.labels)).filter(|l| !l.is_empty()),
            mounts: c.root_fs.mounts.iter().map(ToString::to_string).collect(),
            names: vec![c.name.to_string()],
            namespaces: BTreeMap::new(),
            networks: Vec::new(),
            pid: s.pid,
            pod: c.pod.as_deref().unwrap_or_default().to_string(),
            pod_name: String::new(),
            ports: None,
            size: None,
            started_at: unix_or_zero(s.started_time),
            state: state_name(s.state).to_owned(),
            status: status_text(s, now),
            created: c.created_time.timestamp(),
        }
    }

    pub fn to_row(&self, now: DateTime<Utc>, no_trunc: bool) -> PsRow {
        let c = &self.config;
        let s = &self.state;
        let truncate = |id: &str| {
            if no_trunc {
                id.to_owned()
            } else {
                id.chars().take(12).collect()
            }
        };
        let mut command = self.command().join(" ");
        if !no_trunc && command.len() > 17 {
            let mut end = 17;
            while !command.is_char_boundary(end) {
                end -= 1;
            }
            command.truncate(end);
            command.push_str("...");
        }
        PsRow {
            id: truncate(&c.id),
            image: c.root_fs.rootfs_image_name.to_string(),
            image_id: truncate(&c.root_fs.rootfs_image_id),
            command,
            created_human: ago(c.created_time, now),
            created_at: go_time_string(c.created_time),
            running_for: ago(c.created_time, now),
            status: status_text(s, now),
            state: state_name(s.state).to_owned(),
            ports: String::new(),
            names: c.name.to_string(),
            labels: string_map(&c.misc.labels),
            mounts: c.root_fs.mounts.iter().map(ToString::to_string).collect(),
            networks: String::new(),
            pid: s.pid,
            pod: c.pod.as_deref().map(truncate).unwrap_or_default(),
            pod_name: String::new(),
            auto_remove: c.misc.auto_remove,
            exited: s.exited,
            exit_code: s.exit_code,
            exited_at: unix_or_zero(s.finished_time),
            started_at: unix_or_zero(s.started_time),
            restarts: s.restart_count.to_string(),
            is_infra: c.misc.is_infra,
            created: c.created_time.timestamp(),
            size: String::new(),
        }
    }
}

/// Every container that passes `filters`, with its state brought up to date, newest
/// first.
pub async fn list(runtime: &Runtime, filters: &ContainerFilters) -> anyhow::Result<Vec<Listed>> {
    Ok(runtime
        .get_containers_filtered(filters)
        .await?
        .into_iter()
        .map(|(container, state)| Listed {
            config: container.into_config(),
            state,
        })
        .collect())
}

/// Storage containers the state does not know, as listings show them (podman's
/// `ps --external`): no command, status `Storage`.
fn external_listed(runtime: &Runtime) -> anyhow::Result<Vec<Listed>> {
    let mut listed = Vec::new();
    for record in runtime.external_containers()? {
        let mut config = ContainerConfig {
            id: record.id.as_str().into(),
            name: record.names.first().map(String::as_str).unwrap_or_default().into(),
            ..ContainerConfig::default()
        };
        if let Ok(created) = DateTime::parse_from_rfc3339(&record.created) {
            config.created_time = created.with_timezone(&Utc);
        }
        config.root_fs.rootfs_image_name = corral_storage::ImageStore::lookup(runtime.storage()?, &record.image_id)
            .ok()
            .and_then(|image| image.names.first().cloned())
            .unwrap_or_else(|| record.image_id.clone())
            .into();
        config.root_fs.rootfs_image_id = record.image_id.into();
        listed.push(Listed {
            config,
            state: ContainerState::default(),
        });
    }
    Ok(listed)
}

pub fn run(args: &PsArgs, global: &GlobalOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.last >= 0 && args.latest {
        return Err(CliError::Usage("last and latest are mutually exclusive".into()).into());
    }
    let filters = ContainerFilters::parse(&args.filter)?;
    let runtime = engine::runtime(global)?;
    let listed = engine::block_on(list(&runtime, &filters))??;
    let show_all = args.all || args.latest || args.last >= 0 || filters.has("status");
    let mut shown: Vec<&Listed> = listed
        .iter()
        .filter(|l| show_all || l.state.state == ContainerStatus::Running)
        .collect();
    if args.latest {
        shown.truncate(1);
    } else if let Ok(last) = usize::try_from(args.last) {
        shown.truncate(last);
    }
    let external = if args.external {
        external_listed(&runtime)?
    } else {
        Vec::new()
    };
    shown.extend(external.iter());
    let is_external = |id: &str| external.iter().any(|e| e.config.id.starts_with(id));
    let now = Utc::now();
    let format = args.format.as_deref();
    let sizes = if args.size {
        Some(sizes_of(&runtime, &shown)?)
    } else {
        None
    };
    let size_of = |i: usize| sizes.as_ref().and_then(|s| s.get(i).copied());
    if format.is_some_and(is_json) {
        let mut rows: Vec<ListContainer> = shown
            .iter()
            .enumerate()
            .map(|(i, l)| ListContainer {
                size: size_of(i),
                ..l.to_json(now)
            })
            .collect();
        for row in rows.iter_mut().filter(|r| is_external(&r.id)) {
            (row.state, row.status) = ("storage".into(), "Storage".into());
        }
        let text = to_json_line(&rows, JsonStyle::LIST)?;
        return out.write_all(text.as_bytes()).context("writing the container list");
    }
    if args.quiet && format.is_none() {
        for l in &shown {
            let id: String = if args.no_trunc {
                l.config.id.to_string()
            } else {
                l.config.id.chars().take(12).collect()
            };
            writeln!(out, "{id}")?;
        }
        return Ok(());
    }
    let mut rows: Vec<PsRow> = shown
        .iter()
        .enumerate()
        .map(|(i, l)| PsRow {
            size: size_of(i).map(ContainerSize::human).unwrap_or_default(),
            ..l.to_row(now, args.no_trunc)
        })
        .collect();
    for row in rows.iter_mut().filter(|r| is_external(&r.id)) {
        (row.state, row.status) = ("storage".into(), "Storage".into());
    }
    let headers = Headers::new()
        .with("CreatedHuman", "created")
        .with("ID", "container id")
        .with("Networks", "networks")
        .with("Pod", "pod id")
        .with("PodName", "podname")
        .with("Restarts", "restarts")
        .with("RunningFor", "running for");
    let list = ListFormat {
        name: "ps",
        default_format: if args.size { SIZE_FORMAT } else { DEFAULT_FORMAT },
        headers: &headers,
        json_style: JsonStyle::LIST,
    };
    let text = list.render(format, args.noheading, &rows)?;
    out.write_all(text.as_bytes()).context("writing the container list")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_docker_humanizes_them() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(119), "About a minute");
        assert_eq!(human_duration(120), "2 minutes");
        assert_eq!(human_duration(3599), "59 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(3 * 3600), "3 hours");
        assert_eq!(human_duration(47 * 3600), "47 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(20 * 86400), "2 weeks");
        assert_eq!(human_duration(90 * 86400), "3 months");
        assert_eq!(human_duration(800 * 86400), "2 years");
    }

    fn listed(name: &str, status: ContainerStatus, code: i32) -> Listed {
        let mut config = ContainerConfig {
            id: format!("{name}0123456789abcdef0123456789abcdef0123456789abcdef0123456789").into(),
            name: name.into(),
            created_time: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            ..Default::default()
        };
        config.root_fs.rootfs_image_name = "localhost/busybox:latest".into();
        config.root_fs.rootfs_image_id = "c6615c75c1488c927f364ab8d05b102cdd26088f713d464998304b4af6e3cf0c".into();
        config.image.command = "httpd -f -p 80 -h /var/www".split(' ').map(Into::into).collect();
        config.misc.labels.insert("l".into(), "x".into());
        let state = ContainerState {
            state: status,
            exit_code: code,
            started_time: Some(DateTime::from_timestamp(1_700_000_001, 0).unwrap()),
            finished_time: Some(DateTime::from_timestamp(1_700_000_002, 0).unwrap()),
            ..Default::default()
        };
        Listed { config, state }
    }

    #[test]
    fn rows_read_as_podmans() {
        let now = DateTime::from_timestamp(1_700_000_012, 0).unwrap();
        let web = listed("web", ContainerStatus::Running, 0);
        let row = web.to_row(now, false);
        assert_eq!(row.id.len(), 12);
        assert_eq!(row.command, "httpd -f -p 80 -h...");
        assert_eq!(row.created_human, "12 seconds ago");
        assert_eq!(row.status, "Up 11 seconds ago");
        let done = listed("done", ContainerStatus::Exited, 137);
        assert_eq!(done.to_row(now, false).status, "Exited (137) 10 seconds ago");
        assert_eq!(
            listed("new", ContainerStatus::Configured, 0).to_row(now, false).status,
            "Created"
        );
        assert_eq!(state_name(ContainerStatus::Configured), "created");
        let json = web.to_json(now);
        assert_eq!(json.exited_at, 1_700_000_002);
        assert_eq!(json.status, "Up 11 seconds ago");
        let text = to_json_line(&[json], JsonStyle::LIST).unwrap();
        assert!(text.contains("\"Namespaces\": {\n      \n    },"), "{text}");
        assert!(text.contains("\"Ports\": null,"), "{text}");
    }

    #[test]
    fn table_layout_matches_the_sample() {
        let now = DateTime::from_timestamp(1_700_000_002, 0).unwrap();
        let rows = vec![listed("web", ContainerStatus::Running, 0).to_row(now, false)];
        let headers = Headers::new()
            .with("CreatedHuman", "created")
            .with("ID", "container id");
        let list = ListFormat {
            name: "ps",
            default_format: DEFAULT_FORMAT,
            headers: &headers,
            json_style: JsonStyle::LIST,
        };
        let text = list.render(None, false, &rows).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "CONTAINER ID  IMAGE                     COMMAND               CREATED        STATUS           PORTS       NAMES"
        );
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "{}  localhost/busybox:latest  httpd -f -p 80 -h...  2 seconds ago  Up 1 second ago              web",
                &rows[0].id
            )
        );
        assert_eq!(list.render(Some("{{.Names}}"), false, &rows).unwrap(), "web\n");
    }
}
