//! Events, podman's `file` events backend: one JSON object a line in
//! `<runroot>/events/events.log` (podman's own layout, so its lines read the same),
//! appended by every process that acts on a container, image, volume or the system,
//! and read back, filtered and followed, by `corral events`.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use corral_define::ContainerConfig;
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{CoreError, Result};
use crate::gotime::go_time_string;
use crate::runtime::Runtime;

/// How often a followed log is looked at for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Where events go (containers.conf's `events_logger`, `--events-backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventsLogger {
    /// The log file under the runroot.
    #[default]
    File,
    /// Nowhere: nothing is recorded and nothing can be read.
    None,
}

impl EventsLogger {
    pub fn as_str(self) -> &'static str {
        match self {
            EventsLogger::File => "file",
            EventsLogger::None => "none",
        }
    }
}

impl FromStr for EventsLogger {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "file" => Ok(EventsLogger::File),
            "none" => Ok(EventsLogger::None),
            "journald" => Err(CoreError::Rejected(
                "the \"journald\" events backend is not supported: corral cannot read the journal; use \"file\" or \"none\""
                    .into(),
            )),
            other => Err(CoreError::InvalidArg(format!(
                "configuring runtime: {other:?} is not a valid events backend"
            ))),
        }
    }
}

/// One event, serialized as podman 4.3 writes it (field names, order, and which
/// fields are left out when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The exit code, on `died` and `exec_died` events (left out when 0).
    #[serde(rename = "ContainerExitCode", default, skip_serializing_if = "is_zero")]
    pub container_exit_code: i32,
    #[serde(rename = "ID", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(rename = "Image", default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    /// The container's, volume's or image reference's name; an archive's path.
    #[serde(rename = "Name", default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "network", default, skip_serializing_if = "String::is_empty")]
    pub network: String,
    /// What happened: `create`, `init`, `start`, `died`, `stop`, `tag`, ...
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "Time", serialize_with = "serialize_go_time")]
    pub time: DateTime<Utc>,
    /// What it happened to: `container`, `image`, `volume`, `pod`, `system`.
    #[serde(rename = "Type")]
    pub event_type: String,
    #[serde(rename = "health_status", default, skip_serializing_if = "String::is_empty")]
    pub health_status: String,
    #[serde(rename = "PodID", default, skip_serializing_if = "String::is_empty")]
    pub pod_id: String,
    /// A container's labels (an object, maybe empty); null for other events.
    #[serde(rename = "Attributes", default)]
    pub attributes: Option<BTreeMap<String, String>>,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn serialize_go_time<S: Serializer>(time: &DateTime<Utc>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::gotime::go_rfc3339_nano(*time))
}

impl Event {
    /// An event of `event_type` that happened now.
    pub fn new(event_type: &str, status: &str) -> Event {
        Event {
            container_exit_code: 0,
            id: String::new(),
            image: String::new(),
            name: String::new(),
            network: String::new(),
            status: status.to_owned(),
            time: Utc::now(),
            event_type: event_type.to_owned(),
            health_status: String::new(),
            pod_id: String::new(),
            attributes: None,
        }
    }

    /// The line `podman events` prints: time, type, status, then what the type shows
    /// (a container's image, name, pod and labels; an image's ID and name; a volume's
    /// name). `truncate` shortens IDs to 12 characters.
    pub fn human_readable(&self, truncate: bool) -> String {
        let id = if truncate { short_id(&self.id) } else { &self.id };
        let head = format!("{} {} {}", go_time_string(self.time), self.event_type, self.status);
        match self.event_type.as_str() {
            "container" | "pod" => {
                let mut line = format!("{head} {id} (image={}, name={}", self.image, self.name);
                if !self.pod_id.is_empty() {
                    line.push_str(&format!(", pod_id={}", self.pod_id));
                }
                if !self.health_status.is_empty() {
                    line.push_str(&format!(", health_status={}", self.health_status));
                }
                for (key, value) in self.attributes.iter().flatten() {
                    line.push_str(&format!(", {key}={value}"));
                }
                line.push(')');
                line
            }
            "network" => format!("{head} {id} (container={id}, name={})", self.network),
            "image" => format!("{head} {id} {}", self.name),
            "system" if self.name.is_empty() => head,
            "system" | "volume" | "machine" => format!("{head} {}", self.name),
            _ => String::new(),
        }
    }
}

/// An ID as podman's `TruncateID` shortens it: no `algo:` prefix, 12 characters.
fn short_id(id: &str) -> &str {
    let id = id.split_once(':').map_or(id, |(_, rest)| rest);
    id.get(..12).unwrap_or(id)
}

/// podman's `ParseInputTime`: RFC 3339 (with or without fraction or zone), a date,
/// a Unix timestamp (`1700000000.5`), or a Go duration (`10m`, `1h30s`) counted back
/// from now for `since` and forward from now otherwise (`until`).
pub fn parse_input_time(input: &str, since: bool) -> std::result::Result<DateTime<Utc>, String> {
    parse_input_time_at(input, since, Utc::now())
}

fn parse_input_time_at(input: &str, since: bool, now: DateTime<Utc>) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(input) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(input, format) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Some(t) = parse_date_with_zone(input) {
        return Ok(t);
    }
    if let Ok(seconds) = input.parse::<f64>()
        && seconds.is_finite()
    {
        let whole = seconds.trunc();
        let nanos = ((seconds - whole) * 1e9) as i64;
        if let Some(t) = DateTime::from_timestamp(whole as i64, 0) {
            return Ok(t + chrono::Duration::nanoseconds(nanos));
        }
    }
    let nanos = parse_go_duration(input).ok_or_else(|| "unable to interpret time value".to_owned())?;
    let duration = chrono::Duration::nanoseconds(nanos);
    Ok(if since { now - duration } else { now + duration })
}

/// `2006-01-02` (UTC midnight) and Go's `2006-01-02Z07:00` (`2024-01-02Z`,
/// `2024-01-02+01:00`).
fn parse_date_with_zone(input: &str) -> Option<DateTime<Utc>> {
    let date_part = input.get(..10)?;
    let date = NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()?;
    let midnight = date.and_hms_opt(0, 0, 0)?;
    let zone = &input[10..];
    let offset_seconds = match zone {
        "" | "Z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (hours, minutes) = zone[1..].split_once(':')?;
            if hours.len() != 2 || minutes.len() != 2 {
                return None;
            }
            sign * (hours.parse::<i32>().ok()? * 3600 + minutes.parse::<i32>().ok()? * 60)
        }
    };
    let offset = chrono::FixedOffset::east_opt(offset_seconds)?;
    Some(offset.from_local_datetime(&midnight).single()?.with_timezone(&Utc))
}

/// Go's `time.ParseDuration` in nanoseconds: `300ms`, `-1.5h`, `2h45m`; a unit
/// after every number except a lone `0`.
pub fn parse_go_duration(input: &str) -> Option<i64> {
    let (negative, mut rest) = match input.as_bytes().first()? {
        b'-' => (true, &input[1..]),
        b'+' => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_nanos = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * unit_nanos;
    }
    if total > i64::MAX as f64 {
        return None;
    }
    let nanos = total as i64;
    Some(if negative { -nanos } else { nanos })
}

/// `--filter key=value` as podman's events take them. Values given for one key are
/// alternatives; every key given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    by_key: Vec<(FilterKey, Vec<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterKey {
    /// A container event of this container (name, or ID prefix).
    Container,
    /// This status (`event` or `status`); docker's `die` means `died`.
    Event,
    /// An image event of this image (name, or ID prefix).
    Image,
    /// A pod event of this pod (name, or ID prefix).
    Pod,
    /// A volume event of a volume whose name starts so.
    Volume,
    /// Events of this type.
    Type,
    /// Events carrying this attribute: `key=value`, or `key` with any value.
    Label,
}

impl EventFilter {
    /// Parses `key=value` filters; an unknown key or a filter without `=` is refused
    /// with podman's message.
    pub fn parse(filters: &[String]) -> Result<EventFilter> {
        let mut by_key: Vec<(String, FilterKey, Vec<String>)> = Vec::new();
        for filter in filters {
            let (key, value) = filter.split_once('=').ok_or_else(|| invalid_filter(filter))?;
            let kind = match key.to_ascii_lowercase().as_str() {
                "container" => FilterKey::Container,
                "event" | "status" => FilterKey::Event,
                "image" => FilterKey::Image,
                "pod" => FilterKey::Pod,
                "volume" => FilterKey::Volume,
                "type" => FilterKey::Type,
                "label" => FilterKey::Label,
                _ => return Err(invalid_filter(key)),
            };
            let value = if kind == FilterKey::Event && value == "die" {
                "died"
            } else {
                value
            };
            match by_key.iter_mut().find(|(k, _, _)| k == key) {
                Some((_, _, values)) => values.push(value.to_owned()),
                None => by_key.push((key.to_owned(), kind, vec![value.to_owned()])),
            }
        }
        Ok(EventFilter {
            by_key: by_key.into_iter().map(|(_, kind, values)| (kind, values)).collect(),
        })
    }

    /// Whether `event` passes every key.
    pub fn matches(&self, event: &Event) -> bool {
        self.by_key
            .iter()
            .all(|(key, values)| values.iter().any(|value| key.matches(event, value)))
    }
}

impl FilterKey {
    fn matches(self, e: &Event, value: &str) -> bool {
        let named_or_id_prefix =
            |event_type: &str| e.event_type == event_type && (e.name == value || e.id.starts_with(value));
        match self {
            FilterKey::Container => named_or_id_prefix("container"),
            FilterKey::Image => named_or_id_prefix("image"),
            FilterKey::Pod => named_or_id_prefix("pod"),
            FilterKey::Volume => e.event_type == "volume" && e.name.starts_with(value),
            FilterKey::Event => e.status == value,
            FilterKey::Type => e.event_type == value,
            FilterKey::Label => {
                let attributes = e.attributes.iter().flatten();
                match value.split_once('=') {
                    Some((key, wanted)) => attributes.into_iter().any(|(k, v)| k == key && v == wanted),
                    None => attributes.into_iter().any(|(k, _)| k == value),
                }
            }
        }
    }
}

fn invalid_filter(what: &str) -> CoreError {
    CoreError::Rejected(format!("failed to parse event filters: {what} is an invalid filter"))
}

/// What [`Runtime::read_events`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// `key=value` filters (see [`EventFilter`]).
    pub filters: Vec<String>,
    /// Only events after this time (see [`parse_input_time`]).
    pub since: Option<String>,
    /// Only events before this time; a stream ends when it passes.
    pub until: Option<String>,
    /// Follow the log for new events. Without `since` and `until` a stream shows only
    /// events recorded after it began, as podman's does.
    pub stream: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            filters: Vec::new(),
            since: None,
            until: None,
            stream: true,
        }
    }
}

/// The events of a log, in the order they were recorded; an iterator that, when
/// streaming, waits for more until `until` passes. Dropping it stops reading.
#[derive(Debug)]
pub struct EventReader {
    path: PathBuf,
    file: Option<File>,
    /// Bytes of the file already read.
    offset: u64,
    /// The start of a line whose end is not written yet.
    partial: Vec<u8>,
    ready: VecDeque<Event>,
    filter: EventFilter,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    stream: bool,
    finished: bool,
}

impl EventReader {
    fn open(path: PathBuf, options: &ReadOptions) -> Result<EventReader> {
        let filter = EventFilter::parse(&options.filters)?;
        let time = |input: &Option<String>, since: bool| -> Result<Option<DateTime<Utc>>> {
            let Some(input) = input else {
                return Ok(None);
            };
            let which = if since { "since" } else { "until" };
            parse_input_time(input, since).map(Some).map_err(|e| {
                CoreError::Rejected(format!(
                    "failed to parse event filters: unable to convert {which} time of {input}: {e}"
                ))
            })
        };
        let since = time(&options.since, true)?;
        let until = time(&options.until, false)?;
        let mut reader = EventReader {
            path,
            file: None,
            offset: 0,
            partial: Vec::new(),
            ready: VecDeque::new(),
            filter,
            since,
            until,
            stream: options.stream,
            finished: false,
        };
        if options.stream && since.is_none() && until.is_none() {
            reader.open_file()?;
            if let Some(file) = &reader.file {
                reader.offset = file
                    .metadata()
                    .map_err(|e| CoreError::io("reading the size of", &reader.path, e))?
                    .len();
            }
        }
        Ok(reader)
    }

    /// Opens the log when it exists; a missing log has no events yet.
    fn open_file(&mut self) -> Result<()> {
        match File::open(&self.path) {
            Ok(file) => {
                self.file = Some(file);
                self.offset = 0;
                self.partial.clear();
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CoreError::io("opening events log", &self.path, e)),
        }
    }

    /// Reads what was appended since the last look. A log replaced (a new file at the
    /// path) or cut shorter is read again from its start.
    fn read_new_lines(&mut self) -> Result<()> {
        let replaced = match (&self.file, std::fs::metadata(&self.path)) {
            (Some(file), Ok(on_disk)) => {
                let open = file
                    .metadata()
                    .map_err(|e| CoreError::io("reading the size of", &self.path, e))?;
                open.ino() != on_disk.ino() || open.dev() != on_disk.dev() || on_disk.len() < self.offset
            }
            (None, Ok(_)) => true,
            (_, Err(_)) => false,
        };
        if replaced {
            self.open_file()?;
        }
        let Some(file) = &mut self.file else {
            return Ok(());
        };
        file.seek(SeekFrom::Start(self.offset))
            .map_err(|e| CoreError::io("reading events log", &self.path, e))?;
        let mut bytes = std::mem::take(&mut self.partial);
        let read = file
            .read_to_end(&mut bytes)
            .map_err(|e| CoreError::io("reading events log", &self.path, e))?;
        self.offset += read as u64;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        self.partial = bytes.split_off(complete);
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<Event>(line) {
                Ok(event) if self.wanted(&event) => self.ready.push_back(event),
                Ok(_) => {}
                Err(e) => tracing::debug!("skipping an event line of {}: {e}", self.path.display()),
            }
        }
        Ok(())
    }

    fn wanted(&self, event: &Event) -> bool {
        self.since.is_none_or(|since| event.time > since)
            && self.until.is_none_or(|until| event.time < until)
            && self.filter.matches(event)
    }
}

impl Iterator for EventReader {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            // Past `until` nothing new can match: one last read, then the end.
            let last_look = !self.stream || self.until.is_some_and(|until| Utc::now() >= until);
            if let Err(e) = self.read_new_lines() {
                self.finished = true;
                return Some(Err(e));
            }
            if last_look {
                self.finished = true;
            } else if self.ready.is_empty() {
                std::thread::sleep(FOLLOW_POLL);
            }
        }
    }
}

/// Appends `event` as one line, in one write so concurrent writers do not mix lines.
fn append_event(path: &Path, event: &Event) -> Result<()> {
    let mut line = serde_json::to_vec(event).map_err(|source| CoreError::Json {
        what: "encoding an event for",
        path: path.to_path_buf(),
        source,
    })?;
    line.push(b'\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CoreError::io("creating directory", dir, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| CoreError::io("opening events log", path, e))?;
    file.write_all(&line)
        .map_err(|e| CoreError::io("writing events log", path, e))
}

impl Runtime {
    /// The recorded events `options` ask for: an iterator that follows the log when
    /// streaming. Fails on a bad filter or time, and with the `none` backend.
    pub fn read_events(&self, options: &ReadOptions) -> Result<EventReader> {
        if self.inner.options.events_logger == EventsLogger::None {
            return Err(CoreError::Rejected(
                "cannot read events with the \"none\" backend".into(),
            ));
        }
        EventReader::open(self.events_log_path(), options)
    }

    /// Recorded events between `since` and `until` (inclusive) that match every
    /// `key=value` filter (see [`EventFilter`]), oldest first.
    pub fn events(
        &self,
        filters: &[String],
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Event>> {
        let options = ReadOptions {
            filters: filters.to_vec(),
            stream: false,
            ..ReadOptions::default()
        };
        let mut events = Vec::new();
        for event in EventReader::open(self.events_log_path(), &options)? {
            let event = event?;
            if since.is_none_or(|s| event.time >= s) && until.is_none_or(|u| event.time <= u) {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Records `event` with the configured backend; a failure is logged, never fails
    /// the operation (as podman).
    pub fn record_event(&self, event: &Event) {
        if self.inner.options.events_logger == EventsLogger::None {
            return;
        }
        if let Err(e) = append_event(&self.events_log_path(), event) {
            tracing::warn!(
                "recording {} event of {} {}: {e}",
                event.status,
                event.event_type,
                event.id
            );
        }
    }

    /// Records that `status` happened to the container (its name, image, pod and
    /// labels); `exit_code` for `died` and `exec_died`.
    pub(crate) fn container_event(&self, config: &ContainerConfig, status: &str, exit_code: Option<i32>) {
        let mut event = Event::new("container", status);
        event.container_exit_code = exit_code.unwrap_or(0);
        event.id = config.id.to_string();
        event.name = config.name.to_string();
        event.image = config.root_fs.rootfs_image_name.to_string();
        event.pod_id = config.pod.as_deref().unwrap_or_default().to_string();
        event.attributes = Some(
            config
                .misc
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self.record_event(&event);
    }

    /// Records that `status` (`tag`, `untag`, `remove`, `save`, `loadfromarchive`,
    /// `import`) happened to an image: its ID and the name or path it was used by.
    pub fn image_event(&self, status: &str, id: &str, name: &str) {
        let mut event = Event::new("image", status);
        event.id = id.to_owned();
        event.name = name.to_owned();
        self.record_event(&event);
    }

    /// Records that `status` (`create`, `remove`, `prune`) happened to a volume.
    pub(crate) fn volume_event(&self, status: &str, name: &str) {
        let mut event = Event::new("volume", status);
        event.name = name.to_owned();
        self.record_event(&event);
    }

    /// Records that `status` (`refresh`) happened to the engine as a whole.
    pub(crate) fn system_event(&self, status: &str) {
        self.record_event(&Event::new("system", status));
    }
}

#[cfg(test)]
mod tests {
    use chrono::Local;

    use super::*;
    use proptest::prelude::*;

    fn event(status: &str, name: &str) -> Event {
        let mut e = Event::new("container", status);
        e.id = "abcdef0123456789".into();
        e.image = "localhost/busybox:latest".into();
        e.name = name.into();
        e.attributes = Some(BTreeMap::from([("app".into(), "web".into())]));
        e
    }

    fn filter(filters: &[&str]) -> EventFilter {
        EventFilter::parse(&filters.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn podman_json_layout() {
        let mut e = event("died", "web");
        e.time = DateTime::parse_from_rfc3339("2026-11-28T13:08:14.7587Z")
            .unwrap()
            .with_timezone(&Utc);
        e.container_exit_code = 3;
        let json = serde_json::to_string(&e).unwrap();
        if Local.offset_from_utc_datetime(&e.time.naive_utc()).local_minus_utc() == 0 {
            assert_eq!(
                json,
                r#"{"ContainerExitCode":3,"ID":"abcdef0123456789","Image":"localhost/busybox:latest","Name":"web","Status":"died","Time":"2026-11-28T13:08:14.7587Z","Type":"container","Attributes":{"app":"web"}}"#
            );
        }
        e.container_exit_code = 0;
        let mut image = Event::new("image", "tag");
        image.name = "localhost/x:1".into();
        let json = serde_json::to_value(&image).unwrap();
        assert_eq!(json["Attributes"], serde_json::Value::Null);
        assert!(json.get("ContainerExitCode").is_none() && json.get("ID").is_none());
        assert!(!serde_json::to_string(&e).unwrap().contains("ContainerExitCode"));
    }

    #[test]
    fn human_readable_lines() {
        let mut e = event("start", "web");
        e.time = Utc.with_ymd_and_hms(2026, 11, 28, 13, 5, 1).unwrap() + chrono::Duration::nanoseconds(123_450_000);
        let time = go_time_string(e.time);
        assert_eq!(
            e.human_readable(false),
            format!("{time} container start abcdef0123456789 (image=localhost/busybox:latest, name=web, app=web)")
        );
        assert!(e.human_readable(true).contains(" abcdef012345 (image="));
        e.pod_id = "p1".into();
        assert!(e.human_readable(false).contains("name=web, pod_id=p1, app=web)"));
        let mut load = Event::new("image", "loadfromarchive");
        load.name = "/tmp/a.tar".into();
        assert!(load.human_readable(true).ends_with("image loadfromarchive  /tmp/a.tar"));
        let mut volume = Event::new("volume", "create");
        volume.name = "v1".into();
        assert!(volume.human_readable(true).ends_with(" volume create v1"));
        assert!(
            Event::new("system", "refresh")
                .human_readable(true)
                .ends_with(" system refresh")
        );
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }

    #[test]
    fn go_time_strings() {
        let t = Utc.with_ymd_and_hms(2026, 11, 28, 13, 5, 1).unwrap();
        if Local.offset_from_utc_datetime(&t.naive_utc()).local_minus_utc() == 0 {
            assert_eq!(go_time_string(t), "2026-11-28 13:05:01 +0000 UTC");
            assert_eq!(
                go_time_string(t + chrono::Duration::nanoseconds(400_920_590)),
                "2026-11-28 13:05:01.40092059 +0000 UTC"
            );
        }
    }

    #[test]
    fn filters_as_podman() {
        let mut e = event("died", "web");
        assert!(filter(&[]).matches(&e));
        assert!(filter(&["container=web", "event=died"]).matches(&e));
        assert!(filter(&["container=abc", "event=start", "event=died"]).matches(&e));
        assert!(filter(&["event=die"]).matches(&e));
        assert!(filter(&["STATUS=died"]).matches(&e));
        assert!(!filter(&["container=web", "event=start"]).matches(&e));
        assert!(!filter(&["container=eb"]).matches(&e));
        assert!(filter(&["type=container", "label=app=web"]).matches(&e));
        assert!(filter(&["label=app", "label=none"]).matches(&e));
        assert!(!filter(&["label=app=db"]).matches(&e));
        // `image` and `volume` name images and volumes, not a container's image.
        assert!(!filter(&["image=localhost/busybox:latest"]).matches(&e));
        e.event_type = "image".into();
        e.name = "localhost/busybox:latest".into();
        assert!(filter(&["image=localhost/busybox:latest"]).matches(&e));
        assert!(filter(&["image=abcdef"]).matches(&e));
        e.event_type = "volume".into();
        e.name = "data1".into();
        assert!(filter(&["volume=data"]).matches(&e));
        assert!(!filter(&["volume=x", "type=volume"]).matches(&e));
        for (bad, message) in [
            (
                "nonsense",
                "failed to parse event filters: nonsense is an invalid filter",
            ),
            ("color=red", "failed to parse event filters: color is an invalid filter"),
        ] {
            let err = EventFilter::parse(&[bad.to_string()]).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn input_times_as_podman() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let at = |s: &str, since: bool| parse_input_time_at(s, since, now).unwrap();
        assert_eq!(
            at("2026-11-28T10:00:00Z", true),
            Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()
        );
        assert_eq!(
            at("2026-11-28T10:00:00.5+01:00", true),
            Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap() + chrono::Duration::milliseconds(500)
        );
        assert_eq!(
            at("2026-11-28T10:00:00", true),
            Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()
        );
        assert_eq!(
            at("2026-11-28", true),
            Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
        );
        assert_eq!(
            at("2026-11-28+02:00", true),
            Utc.with_ymd_and_hms(2026, 11, 27, 22, 0, 0).unwrap()
        );
        assert_eq!(at("1700000000", true), Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        assert_eq!(
            at("1700000000.25", true),
            Utc.timestamp_opt(1_700_000_000, 250_000_000).unwrap()
        );
        assert_eq!(at("10m", true), now - chrono::Duration::minutes(10));
        assert_eq!(at("10m", false), now + chrono::Duration::minutes(10));
        assert_eq!(at("1h30s", true), now - chrono::Duration::seconds(3630));
        assert_eq!(at("1.5h", true), now - chrono::Duration::minutes(90));
        assert_eq!(at("-5s", true), now + chrono::Duration::seconds(5));
        assert_eq!(at("0s", true), now);
        // A number is a Unix time before it is a duration, as podman parses it.
        assert_eq!(at("0", true), DateTime::UNIX_EPOCH);
        for bad in ["", "garbage", "5 m", "1x", "h", "2026-13-01", "NaN"] {
            assert_eq!(
                parse_input_time_at(bad, true, now),
                Err("unable to interpret time value".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn backends() {
        assert_eq!("file".parse::<EventsLogger>().unwrap(), EventsLogger::File);
        assert_eq!("none".parse::<EventsLogger>().unwrap(), EventsLogger::None);
        assert!(
            "journald"
                .parse::<EventsLogger>()
                .unwrap_err()
                .to_string()
                .contains("cannot read the journal")
        );
        assert_eq!(
            "bogus".parse::<EventsLogger>().unwrap_err().to_string(),
            "configuring runtime: \"bogus\" is not a valid events backend: invalid argument"
        );
    }

    fn read_all(path: &Path, options: ReadOptions) -> Vec<Event> {
        EventReader::open(path.to_path_buf(), &options)
            .unwrap()
            .collect::<Result<Vec<_>>>()
            .unwrap()
    }

    fn once() -> ReadOptions {
        ReadOptions {
            stream: false,
            ..ReadOptions::default()
        }
    }

    #[test]
    fn appends_and_reads_back_in_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events/events.log");
        assert!(read_all(&path, once()).is_empty());
        let first = event("create", "a");
        append_event(&path, &first).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        let mut second = event("start", "a");
        second.time = first.time + chrono::Duration::seconds(5);
        append_event(&path, &second).unwrap();
        assert_eq!(read_all(&path, once()), [first.clone(), second.clone()]);
        let later = go_rfc3339(first.time + chrono::Duration::seconds(1));
        let window = |since: Option<String>, until: Option<String>| ReadOptions { since, until, ..once() };
        assert_eq!(read_all(&path, window(Some(later.clone()), None)), [second.clone()]);
        assert_eq!(read_all(&path, window(None, Some(later))), std::slice::from_ref(&first));
        // Both ends are exclusive, as podman's After and Before.
        assert!(read_all(&path, window(Some(go_rfc3339(second.time)), None)).is_empty());
        assert!(read_all(&path, window(None, Some(go_rfc3339(first.time)))).is_empty());
        let only_start = ReadOptions {
            filters: vec!["event=start".into()],
            ..once()
        };
        assert_eq!(read_all(&path, only_start), [second]);
        let bad_since = ReadOptions {
            since: Some("yesterday".into()),
            ..once()
        };
        assert_eq!(
            EventReader::open(path.clone(), &bad_since).unwrap_err().to_string(),
            "failed to parse event filters: unable to convert since time of yesterday: unable to interpret time value"
        );
    }

    fn go_rfc3339(t: DateTime<Utc>) -> String {
        crate::gotime::go_rfc3339_nano(t)
    }

    #[test]
    fn a_stream_sees_only_new_events_and_ends_at_until() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.log");
        append_event(&path, &event("create", "old")).unwrap();
        let mut reader = EventReader::open(path.clone(), &ReadOptions::default()).unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                // A line written in two pieces is read once it is whole.
                let line = serde_json::to_string(&event("start", "new")).unwrap();
                let (head, tail) = line.split_at(10);
                let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
                file.write_all(head.as_bytes()).unwrap();
                file.flush().unwrap();
                std::thread::sleep(Duration::from_millis(250));
                file.write_all(format!("{tail}\n").as_bytes()).unwrap();
            })
        };
        let seen = reader.next().unwrap().unwrap();
        assert_eq!((seen.status.as_str(), seen.name.as_str()), ("start", "new"));
        writer.join().unwrap();
        drop(reader);

        let until = ReadOptions {
            since: Some("1h".into()),
            until: Some("300ms".into()),
            ..ReadOptions::default()
        };
        let started = std::time::Instant::now();
        let all: Vec<Event> = EventReader::open(path, &until).unwrap().collect::<Result<_>>().unwrap();
        assert_eq!(all.len(), 2);
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "{:?}",
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    proptest! {
        /// Whatever the strings, an event reads back as written.
        #[test]
        fn round_trips(status in "[a-z]{1,8}", name in "\\PC{0,20}", code in -1i32..256, nanos in 0i64..1_000_000_000) {
            let mut e = event(&status, &name);
            e.container_exit_code = code;
            e.time = Utc.timestamp_opt(1_700_000_000, 0).unwrap() + chrono::Duration::nanoseconds(nanos);
            let line = serde_json::to_string(&e).unwrap();
            prop_assert!(!line.contains('\n'));
            prop_assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), e);
        }

        /// A duration written as Go writes it parses back to itself.
        #[test]
        fn durations_parse(h in 0i64..100, m in 0i64..60, s in 0i64..60) {
            let text = format!("{h}h{m}m{s}s");
            prop_assert_eq!(parse_go_duration(&text), Some(((h * 60 + m) * 60 + s) * 1_000_000_000));
        }
    }
}
