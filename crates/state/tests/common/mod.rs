//! Helpers shared by the integration tests: fixtures for every backend and record builders.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use corral_define::{
    ContainerConfig, DbConfig, ErrorKind, ExecSession, HasKind, NamedVolumeMount, PodConfig, VolumeConfig, new_id,
};
use corral_state::{ContainerRecord, InMemoryState, PodRecord, SledState, SqliteState, State, VolumeRecord};
use tempfile::TempDir;

/// Which backend a fixture runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Sled,
    Memory,
}

impl Kind {
    pub fn parse(s: &str) -> Kind {
        match s {
            "sqlite" => Kind::Sqlite,
            "sled" => Kind::Sled,
            _ => Kind::Memory,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Sled => "sled",
            Kind::Memory => "memory",
        }
    }

    /// Where this backend's database lives inside `dir`.
    pub fn db_path(self, dir: &Path) -> PathBuf {
        match self {
            Kind::Sqlite => dir.join("state.db"),
            _ => dir.join("state.sled"),
        }
    }

    /// Opens a persistent store of this kind at `path`.
    pub fn open(self, path: &Path, db: &DbConfig) -> corral_state::Result<Box<dyn State>> {
        Ok(match self {
            Kind::Sqlite => Box::new(SqliteState::open(path, db)?),
            Kind::Sled => Box::new(SledState::open(path, db)?),
            Kind::Memory => Box::new(InMemoryState::new()),
        })
    }
}

pub fn db_config() -> DbConfig {
    DbConfig {
        static_dir: "/var/lib/corral".into(),
        tmp_dir: "/run/corral".into(),
        graph_root: "/var/lib/corral/storage".into(),
        run_root: "/run/corral/storage".into(),
        graph_driver: "overlay".into(),
        volume_path: "/var/lib/corral/volumes".into(),
    }
}

/// A store in a temporary directory, removed on drop.
pub struct Fixture {
    pub kind: Kind,
    pub state: Box<dyn State>,
    pub dir: TempDir,
}

impl Fixture {
    pub fn new(kind: Kind) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let state = kind.open(&kind.db_path(dir.path()), &db_config()).unwrap();
        Fixture { kind, state, dir }
    }

    pub fn path(&self) -> PathBuf {
        self.kind.db_path(self.dir.path())
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh full ID starting with `prefix`.
pub fn id_with_prefix(prefix: &str) -> String {
    let random = new_id().unwrap();
    format!("{prefix}{}", &random[prefix.len()..])
}

pub fn unique_name(base: &str) -> String {
    format!("{base}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub fn ctr(name: &str) -> ContainerRecord {
    ctr_with_id(&new_id().unwrap(), name)
}

pub fn ctr_with_id(id: &str, name: &str) -> ContainerRecord {
    let mut config = ContainerConfig {
        id: id.into(),
        name: name.into(),
        ..Default::default()
    };
    config.misc.labels.insert("test".into(), name.into());
    ContainerRecord {
        config,
        state: Default::default(),
    }
}

pub fn ctr_depending_on(name: &str, deps: &[&str]) -> ContainerRecord {
    let mut c = ctr(name);
    c.config.misc.dependencies = deps.iter().map(|d| (*d).into()).collect();
    c
}

pub fn ctr_in_pod(name: &str, pod: &str) -> ContainerRecord {
    let mut c = ctr(name);
    c.config.pod = Some(pod.into());
    c
}

pub fn ctr_with_volume(name: &str, volume: &str) -> ContainerRecord {
    let mut c = ctr(name);
    c.config.root_fs.named_volumes.push(NamedVolumeMount {
        name: volume.into(),
        dest: "/data".into(),
        ..Default::default()
    });
    c
}

pub fn pod(name: &str) -> PodRecord {
    pod_with_id(&new_id().unwrap(), name)
}

pub fn pod_with_id(id: &str, name: &str) -> PodRecord {
    PodRecord {
        config: PodConfig {
            id: id.to_owned(),
            name: name.to_owned(),
            ..Default::default()
        },
        state: Default::default(),
    }
}

pub fn volume(name: &str) -> VolumeRecord {
    VolumeRecord {
        config: VolumeConfig {
            name: name.to_owned(),
            driver: "local".into(),
            ..Default::default()
        },
        state: Default::default(),
    }
}

pub fn exec_session(ctr_id: &str) -> ExecSession {
    ExecSession {
        id: new_id().unwrap(),
        container_id: ctr_id.to_owned(),
        ..Default::default()
    }
}

/// The kind of the error in `result`, panicking on success.
pub fn kind_of<T: std::fmt::Debug>(result: corral_state::Result<T>) -> ErrorKind {
    result.unwrap_err().kind()
}

pub fn assert_consistent(state: &dyn State) {
    let problems = state.check_consistency().unwrap();
    assert!(problems.is_empty(), "inconsistent store: {problems:#?}");
}
