//! [`ContainerFilters`]: podman's container filters (`ps --filter`, `container
//! prune --filter`), parsed and matched in one place for every caller.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use corral_define::{ContainerConfig, ContainerState, ContainerStatus, ErrorKind, HasKind};

use crate::container::Container;
use crate::error::{CoreError, Result};
use crate::events::parse_input_time;
use crate::runtime::Runtime;

/// The keys `ps --filter` takes (podman's `GenerateContainerFilterFuncs`).
const LIST_KEYS: [&str; 13] = [
    "id",
    "name",
    "label",
    "exited",
    "status",
    "ancestor",
    "before",
    "since",
    "volume",
    "health",
    "until",
    "pod",
    "restart-policy",
];

/// The keys `container prune --filter` takes.
const PRUNE_KEYS: [&str; 3] = ["label", "label!", "until"];

/// The status names a `status=` filter (and `wait --condition`) takes: podman's
/// `StringToContainerStatus`, where `created` is a container not yet created in
/// the runtime (configured) as `ps` shows it.
pub fn parse_status_name(name: &str) -> Result<ContainerStatus> {
    Ok(match name {
        "unknown" => ContainerStatus::Unknown,
        "created" => ContainerStatus::Configured,
        "running" => ContainerStatus::Running,
        "stopped" => ContainerStatus::Stopped,
        "paused" => ContainerStatus::Paused,
        "exited" => ContainerStatus::Exited,
        "removing" => ContainerStatus::Removing,
        _ => return Err(CoreError::InvalidArg(format!("unknown container state: {name}"))),
    })
}

/// The restart policies a `restart-policy=` filter takes (`none` is the empty one).
const RESTART_POLICIES: [&str; 5] = ["none", "no", "on-failure", "always", "unless-stopped"];

/// A `name=`/`id=` pattern (containers, volumes) as podman's regular expressions are mostly used: `^`
/// and `$` anchor it, otherwise any part matches.
pub(crate) fn pattern_matches(pattern: &str, text: &str) -> bool {
    let start = pattern.starts_with('^');
    let core = pattern.strip_prefix('^').unwrap_or(pattern);
    let (end, core) = match core.strip_suffix('$') {
        Some(rest) => (true, rest),
        None => (false, core),
    };
    match (start, end) {
        (true, true) => text == core,
        (true, false) => text.starts_with(core),
        (false, true) => text.ends_with(core),
        (false, false) => text.contains(core),
    }
}

pub(crate) fn label_matches<K, V>(labels: &BTreeMap<K, V>, filter: &str) -> bool
where
    K: Borrow<str> + Ord,
    V: AsRef<str>,
{
    match filter.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|v| v.as_ref() == value),
        None => labels.contains_key(filter),
    }
}

/// `ps`'s state name: configured shows as created, stopped as exited.
fn listed_state(status: ContainerStatus) -> &'static str {
    match status {
        ContainerStatus::Configured => "created",
        ContainerStatus::Stopped => "exited",
        other => other.as_str(),
    }
}

/// `--filter key=value`s: values of one key are alternatives (but every `label`
/// must match, and no `label!`), every key must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFilters {
    by_key: BTreeMap<String, Vec<String>>,
    /// `before=`/`since=`: the earliest creation time of the containers named.
    before: Option<DateTime<Utc>>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    /// `pod=`: IDs of the pods named that exist.
    pods: Vec<String>,
}

impl ContainerFilters {
    /// Parses `ps`'s filters, refusing unknown keys and bad values as podman does.
    pub fn parse(filters: &[String]) -> Result<Self> {
        Self::parse_keys(filters, &LIST_KEYS)
    }

    /// Parses `container prune`'s filters (`label`, `label!`, `until`).
    pub fn parse_prune(filters: &[String]) -> Result<Self> {
        Self::parse_keys(filters, &PRUNE_KEYS)
    }

    fn parse_keys(filters: &[String], keys: &[&str]) -> Result<Self> {
        let mut parsed = ContainerFilters::default();
        for filter in filters {
            let Some((key, value)) = filter.split_once('=') else {
                return Err(CoreError::Rejected(format!("invalid filter {filter:?}")));
            };
            if !keys.contains(&key) {
                return Err(CoreError::Rejected(format!("{key} is an invalid filter")));
            }
            match key {
                "status" => {
                    parse_status_name(value)?;
                }
                "exited" => {
                    value
                        .parse::<i32>()
                        .map_err(|e| CoreError::Rejected(format!("exited code out of range {value:?}: {e}")))?;
                }
                "restart-policy" if !RESTART_POLICIES.contains(&value) => {
                    return Err(CoreError::Rejected(format!("{value} invalid restart policy")));
                }
                "until" => {
                    let time = parse_input_time(value, true)
                        .map_err(|e| CoreError::InvalidArg(format!("parsing until filter {value:?}: {e}")))?;
                    parsed.until = Some(parsed.until.map_or(time, |t| t.max(time)));
                }
                _ => {}
            }
            parsed.by_key.entry(key.to_owned()).or_default().push(value.to_owned());
        }
        Ok(parsed)
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Whether a filter with this key was given.
    pub fn has(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Looks up what the filters name: the containers of `before=`/`since=` (each
    /// must exist, as podman requires) and the pods of `pod=` (missing ones are
    /// skipped).
    pub fn resolve(&mut self, runtime: &Runtime) -> Result<()> {
        let created = |refs: Option<&Vec<String>>| -> Result<Option<DateTime<Utc>>> {
            let mut earliest: Option<DateTime<Utc>> = None;
            for r in refs.into_iter().flatten() {
                let time = runtime.inner.state.lookup_container(r)?.config.created_time;
                earliest = Some(earliest.map_or(time, |t| t.min(time)));
            }
            Ok(earliest)
        };
        self.before = created(self.by_key.get("before"))?;
        self.since = created(self.by_key.get("since"))?;
        self.pods.clear();
        for pod in self.by_key.get("pod").into_iter().flatten() {
            match runtime.inner.state.lookup_pod(pod) {
                Ok(rec) => self.pods.push(rec.config.id.clone()),
                Err(e) if e.kind() == ErrorKind::NoSuchPod => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Whether a container with this config and state passes. `before=`,
    /// `since=` and `pod=` match only once [`resolved`](Self::resolve).
    pub fn matches(&self, config: &ContainerConfig, state: &ContainerState) -> bool {
        self.by_key.iter().all(|(key, values)| match key.as_str() {
            "label" => values.iter().all(|v| label_matches(&config.misc.labels, v)),
            "label!" => !values.iter().all(|v| label_matches(&config.misc.labels, v)),
            "before" => self.before.is_some_and(|t| config.created_time < t),
            "since" => self.since.is_some_and(|t| config.created_time > t),
            "until" => self.until.is_some_and(|t| config.created_time < t),
            "pod" => config.pod.as_ref().is_some_and(|p| self.pods.contains(&p.to_string())),
            // No health checks yet: no container has a health status.
            "health" => false,
            _ => values.iter().any(|v| matches_one(key, v, config, state)),
        })
    }
}

fn matches_one(key: &str, value: &str, c: &ContainerConfig, s: &ContainerState) -> bool {
    match key {
        "id" => pattern_matches(value, &c.id),
        "name" => pattern_matches(value, &c.name),
        "status" => {
            let wanted = if value == "stopped" { "exited" } else { value };
            listed_state(s.state) == wanted
        }
        "exited" => {
            matches!(s.state, ContainerStatus::Exited | ContainerStatus::Stopped)
                && value.parse::<i32>().is_ok_and(|code| code == s.exit_code)
        }
        "ancestor" => {
            let name = &c.root_fs.rootfs_image_name;
            name == value
                || name.trim_start_matches("localhost/").trim_end_matches(":latest") == value
                || name
                    .rsplit_once(':')
                    .is_some_and(|(repo, _)| repo == value || repo.trim_start_matches("localhost/") == value)
                || (!value.is_empty() && c.root_fs.rootfs_image_id.starts_with(value))
        }
        "volume" => {
            let (source, dest) = match value.split_once(':') {
                Some((s, d)) => (s, Some(d)),
                None => (value, None),
            };
            let dest_ok = |d: &str| dest.is_none_or(|want| want == d);
            let named = c
                .root_fs
                .named_volumes
                .iter()
                .any(|v| v.name == source && dest_ok(&v.dest));
            // Parsed only here: listings without a volume filter never need the spec.
            let spec = c.spec.as_ref().and_then(|raw| raw.to_value().ok());
            let bound = spec
                .as_ref()
                .and_then(|spec| spec["mounts"].as_array())
                .into_iter()
                .flatten()
                .any(|m| m["source"].as_str() == Some(source) && dest_ok(m["destination"].as_str().unwrap_or("")));
            named || bound
        }
        "restart-policy" => {
            let policy = c.misc.restart_policy.as_str();
            policy == value || (value == "none" && policy.is_empty())
        }
        _ => false,
    }
}

impl Runtime {
    /// Every container that passes `filters`, with its state brought up to date
    /// (as [`Runtime::get_containers_with_state`]), newest first.
    pub async fn get_containers_filtered(
        &self,
        filters: &ContainerFilters,
    ) -> Result<Vec<(Container, ContainerState)>> {
        let mut filters = filters.clone();
        filters.resolve(self)?;
        let mut listed: Vec<(Container, ContainerState)> = self
            .get_containers_with_state()
            .await?
            .into_iter()
            .filter(|(c, s)| filters.matches(c.config(), s))
            .collect();
        listed.sort_by_key(|(c, _)| std::cmp::Reverse(c.config().created_time));
        Ok(listed)
    }
}

#[cfg(test)]
mod tests {
    use corral_define::{NamedVolumeMount, RawJson};

    use super::*;

    fn listed(name: &str, status: ContainerStatus, code: i32, created: i64) -> (ContainerConfig, ContainerState) {
        let mut config = ContainerConfig {
            id: format!("{name}0123456789abcdef0123456789abcdef0123456789abcdef0123456789").into(),
            name: name.into(),
            created_time: DateTime::from_timestamp(created, 0).unwrap(),
            ..Default::default()
        };
        config.root_fs.rootfs_image_name = "localhost/busybox:latest".into();
        config.root_fs.rootfs_image_id = "c6615c75c1488c927f364ab8d05b102cdd26088f713d464998304b4af6e3cf0c".into();
        config.misc.labels.insert("l".into(), "x".into());
        config.misc.labels.insert("tier".into(), "web".into());
        config.root_fs.named_volumes.push(NamedVolumeMount {
            name: "data".into(),
            dest: "/data".into(),
            ..Default::default()
        });
        config.spec = Some(
            RawJson::from_value(&serde_json::json!({"mounts": [{"source": "/srv", "destination": "/www"}]})).unwrap(),
        );
        let state = ContainerState {
            state: status,
            exit_code: code,
            ..Default::default()
        };
        (config, state)
    }

    fn pass(filters: &[&str], (c, s): &(ContainerConfig, ContainerState)) -> bool {
        let f: Vec<String> = filters.iter().map(|s| s.to_string()).collect();
        ContainerFilters::parse(&f).unwrap().matches(c, s)
    }

    #[test]
    fn filters_as_podmans() {
        let web = listed("web", ContainerStatus::Running, 0, 1_700_000_000);
        let job = listed("job", ContainerStatus::Exited, 3, 1_700_000_000);
        let new = listed("new", ContainerStatus::Configured, 0, 1_700_000_000);
        assert!(pass(&["name=we"], &web));
        assert!(!pass(&["name=^eb"], &web));
        assert!(pass(&["name=^web$"], &web));
        assert!(pass(&["id=^job0123"], &job));
        assert!(pass(&["status=running"], &web));
        assert!(pass(&["status=exited", "status=running"], &job));
        assert!(pass(&["status=stopped"], &job));
        assert!(pass(&["status=created"], &new));
        assert!(pass(&["exited=3"], &job));
        assert!(!pass(&["exited=0"], &web));
        assert!(pass(&["label=l=x", "id=job"], &job));
        assert!(!pass(&["label=l=y"], &job));
        assert!(pass(&["label=l"], &job));
        // Every label must match.
        assert!(pass(&["label=l", "label=tier=web"], &job));
        assert!(!pass(&["label=l", "label=tier=db"], &job));
        assert!(pass(&["ancestor=busybox"], &job));
        assert!(pass(&["ancestor=localhost/busybox:latest"], &job));
        assert!(pass(&["ancestor=c6615c75"], &job));
        assert!(!pass(&["ancestor=alpine"], &job));
        assert!(pass(&["volume=data"], &web));
        assert!(pass(&["volume=data:/data"], &web));
        assert!(!pass(&["volume=data:/other"], &web));
        assert!(pass(&["volume=/srv:/www"], &web));
        assert!(!pass(&["volume=nope"], &web));
        assert!(pass(&["restart-policy=none"], &web));
        assert!(!pass(&["restart-policy=always"], &web));
        assert!(!pass(&["health=healthy"], &web));
        assert!(pass(&["until=2100-01-01"], &web));
        assert!(!pass(&["until=2000-01-01"], &web));
    }

    #[test]
    fn bad_filters_are_refused_with_podmans_words() {
        let err = |f: &str| ContainerFilters::parse(&[f.to_string()]).unwrap_err().to_string();
        assert_eq!(err("bogus=1"), "bogus is an invalid filter");
        assert_eq!(err("name"), "invalid filter \"name\"");
        assert_eq!(err("status=bogus"), "unknown container state: bogus: invalid argument");
        assert!(err("exited=abc").starts_with("exited code out of range"));
        assert_eq!(err("restart-policy=sometimes"), "sometimes invalid restart policy");
        assert_eq!(err("label!=a"), "label! is an invalid filter");
        assert!(ContainerFilters::parse_prune(&["label!=a".into(), "until=10m".into()]).is_ok());
        let prune_err = ContainerFilters::parse_prune(&["name=a".into()]).unwrap_err();
        assert_eq!(prune_err.to_string(), "name is an invalid filter");
    }

    #[test]
    fn prune_label_negation() {
        let (c, s) = listed("job", ContainerStatus::Exited, 0, 1_700_000_000);
        let f = ContainerFilters::parse_prune(&["label!=l=x".into()]).unwrap();
        assert!(!f.matches(&c, &s));
        let f = ContainerFilters::parse_prune(&["label!=l=y".into()]).unwrap();
        assert!(f.matches(&c, &s));
    }

    #[test]
    fn before_and_since_need_resolving() {
        let (c, s) = listed("job", ContainerStatus::Exited, 0, 1_700_000_000);
        let mut f = ContainerFilters::parse(&["before=other".into()]).unwrap();
        assert!(!f.matches(&c, &s));
        f.before = DateTime::from_timestamp(1_700_000_001, 0);
        assert!(f.matches(&c, &s));
        let mut f = ContainerFilters::parse(&["since=other".into()]).unwrap();
        f.since = DateTime::from_timestamp(1_699_999_999, 0);
        assert!(f.matches(&c, &s));
    }
}
