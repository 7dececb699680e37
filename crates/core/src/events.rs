//! Events, podman's `file` events backend: one JSON object a line in
//! `<runroot>/events/events.log`, appended by every process that acts on a container.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// One event, with podman's JSON field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The exit code, on `died` events.
    #[serde(rename = "ContainerExitCode", default, skip_serializing_if = "Option::is_none")]
    pub container_exit_code: Option<i32>,
    #[serde(rename = "ID", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(rename = "Image", default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    #[serde(rename = "Name", default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// What happened: `create`, `init`, `start`, `died`, `stop`, ...
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "Time")]
    pub time: DateTime<Utc>,
    /// What it happened to: `container`, `pod`, `volume`, `image`, ...
    #[serde(rename = "Type")]
    pub event_type: String,
    /// The container's name, image and labels.
    #[serde(rename = "Attributes", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    /// `key=value` filters as `podman events --filter` takes them: `container`
    /// (ID, ID prefix or name), `event`/`status`, `type`, `image`, `label`
    /// (`key` or `key=value`). Values of one key are alternatives; keys must all match.
    pub fn matches(&self, filters: &[String]) -> Result<bool> {
        let mut by_key: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for f in filters {
            let (key, value) = f
                .split_once('=')
                .ok_or_else(|| CoreError::InvalidArg(format!("invalid filter {f:?}: expected key=value")))?;
            by_key.entry(key).or_default().push(value);
        }
        for (key, values) in by_key {
            let any = |test: &dyn Fn(&str) -> bool| values.iter().any(|v| test(v));
            let ok = match key {
                "container" => {
                    self.event_type == "container"
                        && any(&|v| self.name == v || (!v.is_empty() && self.id.starts_with(v)))
                }
                "event" | "status" => any(&|v| self.status == v),
                "type" => any(&|v| self.event_type == v),
                "image" => any(&|v| self.image == v || self.image.starts_with(&format!("{v}:"))),
                "label" => any(&|v| match v.split_once('=') {
                    Some((k, val)) => self.attributes.get(k).is_some_and(|a| a == val),
                    None => self.attributes.contains_key(v),
                }),
                other => return Err(CoreError::InvalidArg(format!("{other:?} is an invalid filter"))),
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Appends `event` as one line, in one write so concurrent writers do not mix lines.
pub(crate) fn append_event(path: &Path, event: &Event) -> Result<()> {
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

/// The events of the log at `path` between `since` and `until` that match `filters`,
/// oldest first; a missing log has none, and lines that do not parse are skipped.
pub(crate) fn read_events(
    path: &Path,
    filters: &[String],
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<Event>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CoreError::io("reading events log", path, e)),
    };
    let mut events = Vec::new();
    for line in text.lines() {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            continue;
        };
        if since.is_some_and(|s| event.time < s) || until.is_some_and(|u| event.time > u) {
            continue;
        }
        if event.matches(filters)? {
            events.push(event);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(status: &str, name: &str) -> Event {
        Event {
            container_exit_code: None,
            id: "abcdef0123".into(),
            image: "localhost/busybox:latest".into(),
            name: name.into(),
            status: status.into(),
            time: Utc::now(),
            event_type: "container".into(),
            attributes: BTreeMap::from([("app".into(), "web".into())]),
        }
    }

    #[test]
    fn podman_field_names_and_filters() {
        let mut e = event("died", "web");
        e.container_exit_code = Some(3);
        let json = serde_json::to_value(&e).unwrap();
        for key in [
            "ContainerExitCode",
            "ID",
            "Image",
            "Name",
            "Status",
            "Time",
            "Type",
            "Attributes",
        ] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
        let f = |v: &[&str]| e.matches(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        assert!(f(&[]));
        assert!(f(&["container=web", "event=died"]));
        assert!(f(&["container=abc", "event=start", "event=died"]));
        assert!(!f(&["container=web", "event=start"]));
        assert!(f(&[
            "image=localhost/busybox",
            "type=container",
            "label=app=web",
            "label=app"
        ]));
        assert!(!f(&["label=app=db"]));
        assert!(e.matches(&["nonsense".into()]).is_err());
        assert!(e.matches(&["color=red".into()]).is_err());
    }

    #[test]
    fn appends_and_reads_back_in_a_window() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events/events.log");
        assert!(read_events(&path, &[], None, None).unwrap().is_empty());
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
        assert_eq!(
            read_events(&path, &[], None, None).unwrap(),
            [first.clone(), second.clone()]
        );
        let later = first.time + chrono::Duration::seconds(1);
        assert_eq!(read_events(&path, &[], Some(later), None).unwrap(), [second.clone()]);
        assert_eq!(read_events(&path, &[], None, Some(later)).unwrap(), [first]);
        assert_eq!(
            read_events(&path, &["event=start".into()], None, None).unwrap(),
            [second]
        );
    }

    proptest! {
        /// Whatever the strings, an event reads back as written.
        #[test]
        fn round_trips(status in "[a-z]{1,8}", name in "\\PC{0,20}", code in proptest::option::of(-1i32..256)) {
            let mut e = event(&status, &name);
            e.container_exit_code = code;
            let line = serde_json::to_string(&e).unwrap();
            prop_assert!(!line.contains('\n'));
            prop_assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), e);
        }
    }
}
