//! The State logic, written once over [`crate::kv`] and shared by every backend.

mod containers;
mod control;
mod exec;
mod listing;
mod pods;
mod volumes;

use std::path::Path;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use corral_define::{DbConfig, is_id_prefix, validate_name};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ObjectKind, Result, StateError};
use crate::kv::{Backend, KvRead, KvWrite, MemoryKv, SledHold, SledKv, SqliteKv, Table};

/// How long a process waits for another one holding the store before it
/// gives up with `Timeout`: podman's SQLite busy timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(100);

/// Settings for opening a persistent store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Longest wait for other processes before an operation fails with `Timeout`.
    pub timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A state store over one backend. Use it as [`SqliteState`], [`SledState`]
/// or [`InMemoryState`]; all three implement [`crate::State`] identically.
#[derive(Debug)]
pub struct Store<B> {
    kv: B,
    namespace: RwLock<String>,
    closed: AtomicBool,
}

/// The default store: a SQLite database shared safely by many processes.
pub type SqliteState = Store<SqliteKv>;
/// A sled database, one process at a time behind a global file lock.
pub type SledState = Store<SledKv>;
/// A store that lives and dies with the process, for tests and embedding.
pub type InMemoryState = Store<MemoryKv>;

impl Store<SqliteKv> {
    /// Opens (creating if needed) the SQLite database at `path` and records
    /// or checks `db_config` (see [`crate::StateControl::validate_db_config`]).
    pub fn open(path: impl AsRef<Path>, db_config: &DbConfig) -> Result<Self> {
        Self::open_with(path, db_config, &StoreOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, db_config: &DbConfig, options: &StoreOptions) -> Result<Self> {
        let store = Store::over(SqliteKv::open(path.as_ref(), options.timeout)?);
        store.record_or_check_db_config(db_config)?;
        Ok(store)
    }
}

impl Store<SledKv> {
    /// Opens (creating if needed) the sled database directory `path`; the
    /// global lock file is `path` + `.lock`.
    pub fn open(path: impl AsRef<Path>, db_config: &DbConfig) -> Result<Self> {
        Self::open_with(path, db_config, &StoreOptions::default())
    }

    pub fn open_with(path: impl AsRef<Path>, db_config: &DbConfig, options: &StoreOptions) -> Result<Self> {
        let store = Store::over(SledKv::open(path.as_ref(), options.timeout)?);
        store.record_or_check_db_config(db_config)?;
        Ok(store)
    }

    /// Keeps the database open and locked until the guard drops, so that a
    /// batch of operations pays for one open; other processes wait meanwhile.
    pub fn hold(&self) -> Result<SledHold<'_>> {
        self.check_open()?;
        self.kv.hold()
    }
}

impl Store<MemoryKv> {
    /// An empty store with no recorded DbConfig.
    pub fn new() -> Self {
        Store::over(MemoryKv::default())
    }
}

impl Default for Store<MemoryKv> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Store<B> {
    fn over(kv: B) -> Self {
        Self {
            kv,
            namespace: RwLock::new(String::new()),
            closed: AtomicBool::new(false),
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StateError::Closed);
        }
        Ok(())
    }

    fn current_namespace(&self) -> String {
        match self.namespace.read() {
            Ok(ns) => ns.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Runs `f` in one read transaction, with the namespace set.
    fn read<R>(&self, mut f: impl FnMut(&dyn KvRead, &str) -> Result<R>) -> Result<R> {
        self.check_open()?;
        let ns = self.current_namespace();
        self.kv.read_txn(&mut |r| f(r, &ns))
    }

    /// Runs `f` in one write transaction, with the namespace set; nothing is
    /// written unless `f` succeeds.
    fn write<R>(&self, mut f: impl FnMut(&mut dyn KvWrite, &str) -> Result<R>) -> Result<R> {
        self.check_open()?;
        let ns = self.current_namespace();
        self.kv.write_txn(&mut |w| f(w, &ns))
    }
}

/// What the `Ids` table records about a container or pod ID: enough to
/// resolve names and prefixes and to apply namespaces without reading configs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct IdEntry {
    kind: ObjectKind,
    name: String,
    namespace: String,
}

fn table_name(table: Table) -> &'static str {
    match table {
        Table::Meta => "metadata",
        Table::Ids => "ID index",
        Table::Names => "name index",
        Table::CtrConfig => "container config",
        Table::CtrState => "container state",
        Table::PodConfig => "pod config",
        Table::PodState => "pod state",
        Table::VolConfig => "volume config",
        Table::VolState => "volume state",
        Table::CtrDeps => "dependency",
        Table::VolUsers => "volume user",
        Table::PodMembers => "pod member",
        Table::Exec => "exec session",
        Table::CtrExec => "container exec session",
        Table::Networks => "network attachment",
    }
}

fn decode<T: DeserializeOwned>(table: Table, key: &str, bytes: &[u8]) -> Result<T> {
    // Checking UTF-8 once for the whole value is cheaper than serde_json's
    // check of every string; invalid bytes get serde_json's own error.
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
    .map_err(|source| StateError::Corrupt {
        what: table_name(table),
        key: key.to_owned(),
        source,
    })
}

/// [`decode`] into an existing value, field by field, instead of building
/// a new one and moving it there.
fn decode_into<T: DeserializeOwned>(table: Table, key: &str, bytes: &[u8], place: &mut T) -> Result<()> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        // Invalid bytes: `decode` words the error.
        *place = decode(table, key, bytes)?;
        return Ok(());
    };
    let mut de = serde_json::Deserializer::from_str(text);
    T::deserialize_in_place(&mut de, place)
        .and_then(|()| de.end())
        .map_err(|source| StateError::Corrupt {
            what: table_name(table),
            key: key.to_owned(),
            source,
        })
}

fn get<T: DeserializeOwned>(r: &dyn KvRead, table: Table, key: &str) -> Result<Option<T>> {
    r.get(table, key)?.map(|bytes| decode(table, key, &bytes)).transpose()
}

/// Like [`get`] for a row an invariant says exists.
fn get_required<T: DeserializeOwned>(r: &dyn KvRead, table: Table, key: &str) -> Result<T> {
    get(r, table, key)?.ok_or_else(|| {
        StateError::Internal(format!(
            "inconsistent database: {} record {key:?} is missing",
            table_name(table)
        ))
    })
}

fn put<T: Serialize>(w: &mut dyn KvWrite, table: Table, key: &str, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|source| StateError::Encode {
        what: table_name(table),
        source,
    })?;
    w.put(table, key, bytes)
}

/// Key of a link row (`owner/member`) of the index tables.
fn link(owner: &str, member: &str) -> String {
    format!("{owner}/{member}")
}

/// The members linked to `owner` in an index table, ordered.
fn linked(r: &dyn KvRead, table: Table, owner: &str) -> Result<Vec<String>> {
    let prefix = link(owner, "");
    Ok(r.scan(table, &prefix)?
        .into_iter()
        .map(|(key, _)| key[prefix.len()..].to_owned())
        .collect())
}

fn visible(ns: &str, object_ns: &str) -> bool {
    ns.is_empty() || ns == object_ns
}

fn non_empty(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(StateError::InvalidArg(format!("{what} cannot be empty")));
    }
    Ok(())
}

/// IDs become parts of index keys, so they must be non-empty and slash-free.
fn check_id(what: &str, id: &str) -> Result<()> {
    non_empty(what, id)?;
    if id.contains('/') {
        return Err(StateError::InvalidArg(format!("{what} {id:?} contains a slash")));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    validate_name(name).map_err(|e| {
        let message = e.to_string();
        StateError::InvalidArg(message.trim_end_matches(": invalid argument").to_owned())
    })
}

/// The entry of a container or pod with full ID `id` that must be in the namespace set.
fn entry_of(r: &dyn KvRead, ns: &str, id: &str, kind: ObjectKind) -> Result<IdEntry> {
    let missing = || match kind {
        ObjectKind::Pod => StateError::NoSuchPod(id.to_owned()),
        _ => StateError::NoSuchContainer(id.to_owned()),
    };
    if id.is_empty() {
        return Err(StateError::InvalidArg("ID cannot be empty".into()));
    }
    let entry: IdEntry = get(r, Table::Ids, id)?.ok_or_else(missing)?;
    if entry.kind != kind {
        return Err(missing());
    }
    if !visible(ns, &entry.namespace) {
        return Err(StateError::NamespaceMismatch {
            id: id.to_owned(),
            namespace: entry.namespace,
            current: ns.to_owned(),
        });
    }
    Ok(entry)
}

/// Resolves a full ID, an exact name, then a unique ID prefix among the
/// objects of `kind` in the namespace set.
fn lookup_id(r: &dyn KvRead, ns: &str, given: &str, kind: ObjectKind) -> Result<String> {
    if given.is_empty() {
        return Err(StateError::InvalidArg("name or ID cannot be empty".into()));
    }
    let mut other_kind = false;
    let mut candidates = vec![given.to_owned()];
    if let Some(id) = get::<String>(r, Table::Names, given)? {
        candidates.push(id);
    }
    for id in candidates {
        if let Some(entry) = get::<IdEntry>(r, Table::Ids, &id)?
            && visible(ns, &entry.namespace)
        {
            if entry.kind == kind {
                return Ok(id);
            }
            other_kind = true;
        }
    }
    if is_id_prefix(given) {
        let mut found = Vec::new();
        for (id, bytes) in r.scan(Table::Ids, given)? {
            let entry: IdEntry = decode(Table::Ids, &id, &bytes)?;
            if entry.kind == kind && visible(ns, &entry.namespace) {
                found.push(id);
            }
        }
        match found.len() {
            0 => {}
            1 => return Ok(found.swap_remove(0)),
            _ => {
                return Err(StateError::Ambiguous {
                    object: kind,
                    given: given.to_owned(),
                });
            }
        }
    }
    Err(match (kind, other_kind) {
        (ObjectKind::Pod, true) => StateError::NotAPod(given.to_owned()),
        (ObjectKind::Pod, false) => StateError::NoSuchPod(given.to_owned()),
        (_, true) => StateError::NotAContainer(given.to_owned()),
        (_, false) => StateError::NoSuchContainer(given.to_owned()),
    })
}

/// Refuses a name or ID already taken by a container or pod.
fn check_free(r: &dyn KvRead, id: &str, name: &str) -> Result<()> {
    if let Some(entry) = get::<IdEntry>(r, Table::Ids, id)? {
        return Err(StateError::IdInUse {
            id: id.to_owned(),
            object: entry.kind,
        });
    }
    check_name_free(r, name)
}

fn check_name_free(r: &dyn KvRead, name: &str) -> Result<()> {
    if let Some(holder) = get::<String>(r, Table::Names, name)? {
        let object = get::<IdEntry>(r, Table::Ids, &holder)?.map_or(ObjectKind::Container, |e| e.kind);
        return Err(StateError::NameInUse {
            name: name.to_owned(),
            object,
        });
    }
    Ok(())
}

const DB_CONFIG_KEY: &str = "db_config";

/// The first field where `given` differs from `stored`; fields empty on
/// either side are not compared.
fn db_config_difference(stored: &DbConfig, given: &DbConfig) -> Option<StateError> {
    let fields: [(&'static str, &String, &String); 6] = [
        ("static dir", &stored.static_dir, &given.static_dir),
        ("tmp dir", &stored.tmp_dir, &given.tmp_dir),
        ("graph root", &stored.graph_root, &given.graph_root),
        ("run root", &stored.run_root, &given.run_root),
        ("graph driver", &stored.graph_driver, &given.graph_driver),
        ("volume path", &stored.volume_path, &given.volume_path),
    ];
    fields
        .into_iter()
        .find(|(_, s, g)| !s.is_empty() && !g.is_empty() && s != g)
        .map(|(field, s, g)| StateError::DbConfigMismatch {
            field,
            stored: s.clone(),
            given: g.clone(),
        })
}

impl<B: Backend> Store<B> {
    fn record_or_check_db_config(&self, given: &DbConfig) -> Result<()> {
        // Read first: the common case (already recorded, equal) needs no write lock.
        if let Some(stored) = self.read(|r, _| get::<DbConfig>(r, Table::Meta, DB_CONFIG_KEY))? {
            return db_config_difference(&stored, given).map_or(Ok(()), Err);
        }
        self.write(|w, _| match get::<DbConfig>(w, Table::Meta, DB_CONFIG_KEY)? {
            Some(stored) => db_config_difference(&stored, given).map_or(Ok(()), Err),
            None => put(w, Table::Meta, DB_CONFIG_KEY, given),
        })
    }
}

#[cfg(test)]
mod tests {
    use corral_define::{ContainerConfig, ContainerState, ContainerStatus};

    use super::*;
    use crate::kv::MemoryKv;

    #[test]
    fn records_are_stored_without_default_fields_and_read_back_equal() {
        let mut config = ContainerConfig {
            id: "abc".into(),
            name: "web".into(),
            ..Default::default()
        };
        config.misc.labels.insert("app".into(), "x".into());
        config.spec = Some(
            corral_define::RawJson::from_value(&serde_json::json!({"process": {"terminal": false, "args": []}}))
                .unwrap(),
        );
        let kv = MemoryKv::default();
        let stored = kv
            .write_txn(&mut |w| {
                put(w, Table::CtrConfig, "abc", &config)?;
                w.get(Table::CtrConfig, "abc")
            })
            .unwrap()
            .unwrap();
        let text = String::from_utf8(stored).unwrap();
        assert!(!text.contains("\"pod\"") && !text.contains("\"namespace\""), "{text}");
        // Inside free-form JSON nothing is left out.
        assert!(
            text.contains(r#""terminal":false"#) && text.contains(r#""args":[]"#),
            "{text}"
        );
        let back: ContainerConfig = kv.read_txn(&mut |r| get_required(r, Table::CtrConfig, "abc")).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn records_written_with_every_field_still_read() {
        let full = r#"{"state":"running","config_path":"","run_dir":"/run/x","mounted":false,
            "mountpoint":"","started_time":null,"finished_time":null,"exit_code":0,"exited":false,
            "oom_killed":false,"error":"","pid":42,"conmon_pid":0,"exec_sessions":{},"net_ns":null,
            "network_status":{},"bind_mounts":{},"stopped_by_user":false,"restart_policy_match":false,
            "restart_count":0,"cgroup_path":"","checkpointed":false,"checkpointed_time":null,"restored_time":null}"#;
        let state: ContainerState = decode(Table::CtrState, "abc", full.as_bytes()).unwrap();
        let expected = ContainerState {
            state: ContainerStatus::Running,
            run_dir: "/run/x".into(),
            pid: 42,
            ..Default::default()
        };
        assert_eq!(state, expected);
    }

    #[test]
    fn values_that_are_not_utf8_are_corrupt() {
        let err = decode::<ContainerState>(Table::CtrState, "abc", b"{\"error\":\"\xff\"}").unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn decoding_in_place_reads_what_decoding_does() {
        let text = r#"{"state":"running","run_dir":"/run/x","pid":42,"bind_mounts":{"/etc/hosts":"/h"}}"#;
        let fresh: ContainerState = decode(Table::CtrState, "abc", text.as_bytes()).unwrap();
        let mut place = ContainerState::default();
        decode_into(Table::CtrState, "abc", text.as_bytes(), &mut place).unwrap();
        assert_eq!(place, fresh);
        assert_eq!(place.bind_mounts.len(), 1);
        for bad in [&b"{\"pid\":1} trailing"[..], b"{\"error\":\"\xff\"}", b"{\"pid\":"] {
            let err = decode_into(Table::CtrState, "abc", bad, &mut ContainerState::default()).unwrap_err();
            assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        }
    }
}
