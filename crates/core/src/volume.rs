//! Named volumes of a [`Runtime`], as libpod keeps them: a record in the state store
//! (config and state), a lock of their own, and their data made by a volume driver
//! (podman's `local` driver from [`corral_storage::volume`], under the volume path).
//!
//! Creating checks the name and that no volume has it, makes the data directory,
//! allocates the lock and adds the record; whatever was made is undone when a later
//! step fails. Removing refuses a volume that containers use unless forced, in which
//! case those containers are removed first (`podman volume rm -f`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use corral_define::{LOCAL_DRIVER, NAME_PATTERN, VolumeConfig, VolumeState, new_id};
use corral_lock::Locker;
use corral_state::{StateError, VolumeRecord};
use corral_storage::{LocalVolumeDriver, VolumeDriver};
use serde::Serialize;

use crate::container::RemoveOptions;
use crate::error::{CoreError, Result};
use crate::filters::{label_matches, pattern_matches};
use crate::gotime::go_rfc3339_nano;
use crate::runtime::Runtime;

/// What a new volume should be (`podman volume create`'s flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeSpec {
    /// None: a random 64-hex name, as podman names anonymous volumes.
    pub name: Option<String>,
    /// None or `local`: the only driver corral has.
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The driver's options (`type`, `device`, `o`, `uid`, `gid`, `size`, `nocopy`...).
    pub options: BTreeMap<String, String>,
    /// Owner of the volume's data directory, when not given by the options.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Made for one container (an image's VOLUME or `-v /path`).
    pub anonymous: bool,
}

/// One volume: its record as read from the store.
#[derive(Debug, Clone)]
pub struct Volume {
    rt: Runtime,
    record: VolumeRecord,
}

/// podman's `volume inspect` object (and `volume ls --format json` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeInspect {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    /// Go's RFC 3339 with nanoseconds, local time.
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    pub scope: String,
    pub options: BTreeMap<String, String>,
    #[serde(rename = "UID", skip_serializing_if = "is_zero")]
    pub uid: u32,
    #[serde(rename = "GID", skip_serializing_if = "is_zero")]
    pub gid: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub anonymous: bool,
    pub mount_count: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_copy_up: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_chown: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Volume {
    pub fn name(&self) -> &str {
        self.record.name()
    }

    pub fn config(&self) -> &VolumeConfig {
        &self.record.config
    }

    pub fn state(&self) -> &VolumeState {
        &self.record.state
    }

    /// Where the data is (`<volume path>/<name>/_data`).
    pub fn mount_point(&self) -> &str {
        &self.record.config.mount_point
    }

    /// IDs of the containers that use the volume.
    pub fn users(&self) -> Result<Vec<String>> {
        Ok(self.rt.inner.state.volume_in_use(self.name())?)
    }

    /// podman's inspect document.
    pub fn inspect(&self) -> VolumeInspect {
        let c = &self.record.config;
        let s = &self.record.state;
        VolumeInspect {
            name: c.name.clone(),
            driver: c.driver.clone(),
            mountpoint: c.mount_point.clone(),
            created_at: go_rfc3339_nano(c.created_time),
            labels: c.labels.clone(),
            scope: "local".into(),
            options: c.options.clone(),
            uid: c.uid.unwrap_or(0),
            gid: c.gid.unwrap_or(0),
            anonymous: c.is_anon,
            mount_count: s.mount_count,
            needs_copy_up: s.needs_copy_up,
            needs_chown: s.needs_chown,
        }
    }
}

/// `--filter key=value` for volumes: values of one key are alternatives, keys must all
/// match. Keys: `name`, `label`, `label!`, `driver`, `scope`, `opt`, `dangling`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeFilters {
    by_key: BTreeMap<String, Vec<String>>,
}

const VOLUME_FILTER_KEYS: [&str; 7] = ["name", "label", "label!", "driver", "scope", "opt", "dangling"];

fn parse_bool_filter(value: &str) -> Result<bool> {
    match value.to_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(CoreError::InvalidArg(format!(
            "{value:?} is not a valid value for the \"dangling\" filter - must be true or false"
        ))),
    }
}

impl VolumeFilters {
    /// Parses `key=value` strings, refusing unknown keys as podman does.
    pub fn parse(filters: &[String]) -> Result<Self> {
        let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for filter in filters {
            let Some((key, value)) = filter.split_once('=') else {
                return Err(CoreError::InvalidArg(format!(
                    "filter input must be in the form of filter=value: {filter} is invalid"
                )));
            };
            if !VOLUME_FILTER_KEYS.contains(&key) {
                return Err(CoreError::InvalidArg(format!("{key:?} is an invalid volume filter")));
            }
            if key == "dangling" {
                parse_bool_filter(value)?;
            }
            by_key.entry(key.to_owned()).or_default().push(value.to_owned());
        }
        Ok(VolumeFilters { by_key })
    }

    /// Whether `volume` passes.
    pub fn matches(&self, volume: &Volume) -> Result<bool> {
        let c = volume.config();
        for (key, values) in &self.by_key {
            let pass = match key.as_str() {
                "name" => values.iter().any(|v| pattern_matches(v, &c.name)),
                "label" => values.iter().any(|v| label_matches(&c.labels, v)),
                "label!" => values.iter().all(|v| !label_matches(&c.labels, v)),
                "driver" => values.contains(&c.driver),
                "scope" => values.iter().any(|v| v == "local"),
                "opt" => values.iter().any(|v| match v.split_once('=') {
                    Some((k, val)) => c.options.get(k).is_some_and(|o| o == val),
                    None => c.options.contains_key(v.as_str()),
                }),
                "dangling" => {
                    let dangling = volume.users()?.is_empty();
                    let mut any = false;
                    for v in values {
                        any |= parse_bool_filter(v)? == dangling;
                    }
                    any
                }
                _ => false,
            };
            if !pass {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// What pruning did to one volume.
#[derive(Debug)]
pub struct VolumePruneReport {
    pub name: String,
    /// Why it could not be removed, if it could not.
    pub error: Option<CoreError>,
}

impl Runtime {
    pub(crate) fn volume_driver(&self, name: &str) -> Result<LocalVolumeDriver> {
        if name != LOCAL_DRIVER {
            return Err(CoreError::InvalidArg(format!(
                "volume driver {name:?} is not available (only {LOCAL_DRIVER:?} is)"
            )));
        }
        Ok(LocalVolumeDriver::new(&self.inner.options.volume_path())?)
    }

    fn volume_of(&self, record: VolumeRecord) -> Volume {
        Volume {
            rt: self.clone(),
            record,
        }
    }

    /// Creates a volume (libpod's `NewVolume`).
    pub fn new_volume(&self, spec: VolumeSpec) -> Result<Volume> {
        let name = match spec.name {
            Some(name) => {
                if corral_define::validate_name(&name).is_err() {
                    return Err(CoreError::InvalidArg(format!(
                        "running volume create option: names must match {NAME_PATTERN}"
                    )));
                }
                name
            }
            None => new_id()?,
        };
        let state = &self.inner.state;
        if state.has_volume(&name)? {
            return Err(StateError::VolumeExists(name).into());
        }
        let driver_name = spec.driver.unwrap_or_else(|| LOCAL_DRIVER.to_owned());
        let driver = self.volume_driver(&driver_name)?;
        let copy = !spec.options.contains_key("nocopy") && spec.options.get("copy").is_none_or(|v| v != "false");
        let mut config = VolumeConfig {
            name: name.clone(),
            driver: driver_name,
            labels: spec.labels,
            options: spec.options,
            created_time: Utc::now(),
            is_anon: spec.anonymous,
            ..VolumeConfig::default()
        };
        driver.create(&mut config)?;
        let made = (|| -> Result<Volume> {
            if config.uid.is_none() && config.gid.is_none() && (spec.uid.is_some() || spec.gid.is_some()) {
                let data = std::path::Path::new(&config.mount_point);
                rustix::fs::chown(
                    data,
                    spec.uid.map(rustix::fs::Uid::from_raw),
                    spec.gid.map(rustix::fs::Gid::from_raw),
                )
                .map_err(|e| CoreError::io("setting the owner of", data, e.into()))?;
                config.uid = spec.uid;
                config.gid = spec.gid;
            }
            let lock: Arc<dyn Locker> = Arc::from(self.inner.locks.allocate_lock()?);
            config.lock_id = lock.id();
            let record = VolumeRecord {
                config: config.clone(),
                state: VolumeState {
                    needs_copy_up: copy,
                    needs_chown: config.uid.is_none() && config.gid.is_none(),
                    ..VolumeState::default()
                },
            };
            if let Err(e) = state.add_volume(&record) {
                let _ = lock.free();
                return Err(e.into());
            }
            Ok(self.volume_of(record))
        })();
        match &made {
            Ok(volume) => self.volume_event("create", volume.name()),
            // Nothing refers to the directory yet: take it away again.
            Err(_) => {
                let _ = driver.remove(&config, 0, true);
            }
        }
        made
    }

    /// The volume named `name`, or the only one whose name starts with it.
    pub fn lookup_volume(&self, name: &str) -> Result<Volume> {
        Ok(self.volume_of(self.inner.state.lookup_volume(name)?))
    }

    /// Whether a volume is named exactly `name`.
    pub fn has_volume(&self, name: &str) -> Result<bool> {
        Ok(self.inner.state.has_volume(name)?)
    }

    /// Every volume passing `filters`, ordered by name.
    pub fn volumes(&self, filters: &VolumeFilters) -> Result<Vec<Volume>> {
        let mut out = Vec::new();
        for record in self.inner.state.all_volumes()? {
            let volume = self.volume_of(record);
            if filters.matches(&volume)? {
                out.push(volume);
            }
        }
        Ok(out)
    }

    /// Removes `volume`. Containers using it make this fail with podman's "volume is
    /// being used" error unless `force`, which removes those containers first.
    pub async fn remove_volume(&self, volume: &Volume, force: bool) -> Result<()> {
        let name = volume.name().to_owned();
        let users = self.inner.state.volume_in_use(&name)?;
        if !users.is_empty() {
            if !force {
                return Err(StateError::VolumeInUse { name, users }.into());
            }
            for id in users {
                match self.lookup_container(&id) {
                    Ok(ctr) => {
                        ctr.remove(RemoveOptions {
                            force: true,
                            timeout: None,
                        })
                        .await?
                    }
                    Err(e) if corral_define::HasKind::kind(&e) == corral_define::ErrorKind::NoSuchContainer => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let lock = self.inner.locks.retrieve_lock(volume.config().lock_id)?;
        let guard = lock.lock()?;
        let mut record = self.inner.state.volume(&name)?;
        self.inner.state.update_volume(&mut record)?;
        let driver = self.volume_driver(&record.config.driver)?;
        // The record goes first (as in libpod): a failure after it leaves only files.
        self.inner.state.remove_volume(&name)?;
        let removed = driver.remove(&record.config, record.state.mount_count, force);
        drop(guard);
        lock.free()?;
        removed?;
        self.volume_event("remove", &name);
        Ok(())
    }

    /// Removes every volume no container uses that passes `filters` (`volume prune`).
    pub async fn prune_volumes(&self, filters: &VolumeFilters) -> Result<Vec<VolumePruneReport>> {
        let mut reports = Vec::new();
        for volume in self.volumes(filters)? {
            if !volume.users()?.is_empty() {
                continue;
            }
            let error = self.remove_volume(&volume, false).await.err();
            if error.is_none() {
                self.volume_event("prune", volume.name());
            }
            reports.push(VolumePruneReport {
                name: volume.name().to_owned(),
                error,
            });
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{RuntimeOptions, StateBackend};
    use corral_define::{ErrorKind, HasKind};

    fn runtime(dir: &std::path::Path) -> Runtime {
        let mut options = RuntimeOptions::with_roots(dir.join("root"), dir.join("run"));
        options.state_backend = StateBackend::InMemory;
        options.storage_driver = Some(corral_storage::Driver::Vfs);
        Runtime::new(options).unwrap()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn create_lookup_inspect_remove() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path());
        let spec = VolumeSpec {
            name: Some("v1".into()),
            labels: [("a".to_string(), "b".to_string())].into(),
            ..VolumeSpec::default()
        };
        let v = rt.new_volume(spec.clone()).unwrap();
        let data = dir.path().join("root/volumes/v1/_data");
        assert!(data.is_dir());
        assert_eq!(v.mount_point(), std::fs::canonicalize(&data).unwrap().to_str().unwrap());
        let err = rt.new_volume(spec).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::VolumeExists);
        assert_eq!(
            err.to_string(),
            "volume with name v1 already exists: volume already exists"
        );

        let found = rt.lookup_volume("v").unwrap();
        let inspect = found.inspect();
        assert_eq!(inspect.name, "v1");
        assert_eq!(inspect.driver, "local");
        assert_eq!(inspect.scope, "local");
        assert!(inspect.needs_copy_up);
        let json = serde_json::to_value(&inspect).unwrap();
        assert_eq!(json["Labels"]["a"], "b");
        assert!(json.get("UID").is_none());

        let anon = rt.new_volume(VolumeSpec::default()).unwrap();
        assert_eq!(anon.name().len(), 64);
        let only_v1 = VolumeFilters::parse(&["label=a=b".into()]).unwrap();
        let names: Vec<String> = rt
            .volumes(&only_v1)
            .unwrap()
            .iter()
            .map(|v| v.name().to_owned())
            .collect();
        assert_eq!(names, ["v1"]);
        assert_eq!(rt.volumes(&VolumeFilters::default()).unwrap().len(), 2);

        block_on(rt.remove_volume(&found, false)).unwrap();
        assert!(!data.exists());
        assert_eq!(rt.lookup_volume("v1").unwrap_err().kind(), ErrorKind::NoSuchVolume);
        let pruned = block_on(rt.prune_volumes(&VolumeFilters::default())).unwrap();
        assert_eq!(pruned.len(), 1);
        assert!(pruned[0].error.is_none());
        assert!(rt.volumes(&VolumeFilters::default()).unwrap().is_empty());
    }

    #[test]
    fn bad_names_drivers_and_filters_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path());
        let bad = VolumeSpec {
            name: Some("bad name".into()),
            ..VolumeSpec::default()
        };
        let err = rt.new_volume(bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument"
        );
        let plugin = VolumeSpec {
            name: Some("p".into()),
            driver: Some("nfs-plugin".into()),
            ..VolumeSpec::default()
        };
        assert_eq!(rt.new_volume(plugin).unwrap_err().kind(), ErrorKind::InvalidArg);
        assert!(!dir.path().join("root/volumes/p").exists());
        assert!(VolumeFilters::parse(&["bogus=1".into()]).is_err());
        assert!(VolumeFilters::parse(&["dangling=maybe".into()]).is_err());
        assert!(VolumeFilters::parse(&["name".into()]).is_err());
    }

    #[test]
    fn name_patterns() {
        assert!(pattern_matches("v", "myvol"));
        assert!(pattern_matches("^my", "myvol"));
        assert!(!pattern_matches("^vol", "myvol"));
        assert!(pattern_matches("vol$", "myvol"));
        assert!(pattern_matches("^myvol$", "myvol"));
        assert!(!pattern_matches("^my$", "myvol"));
    }
}
