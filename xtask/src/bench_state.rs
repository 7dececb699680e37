//! `cargo xtask bench state`: the state store's costs with 10,000 containers,
//! for each persistent backend.
//!
//! The 20-process figure re-runs this executable as
//! `<exe> __bench-state-child <sqlite|sled> <db path> <index> <count>`, which
//! must be routed to [`child_main`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use corral_state::corral_define::{
    ContainerConfig, ContainerState, ContainerStatus, DbConfig, PerNetworkOptions, PortMapping, new_id,
};
use corral_state::{ContainerRecord, SledState, SqliteState, State};

use crate::stats::median;

/// The hidden first argument that makes this executable a bench child.
pub const CHILD_ARG: &str = "__bench-state-child";

const CONTAINERS: usize = 10_000;
const RUNS: usize = 7;
const LOOKUPS: usize = 50;
const PROCESSES: usize = 20;
const ADDS_PER_PROCESS: usize = 10;

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Sled,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Sled => "sled",
        }
    }

    fn parse(s: &str) -> Result<Backend> {
        match s {
            "sqlite" => Ok(Backend::Sqlite),
            "sled" => Ok(Backend::Sled),
            other => bail!("unknown state backend {other:?}"),
        }
    }

    fn open(self, path: &Path) -> Result<Box<dyn State>> {
        Ok(match self {
            Backend::Sqlite => Box::new(SqliteState::open(path, &db_config())?),
            Backend::Sled => Box::new(SledState::open(path, &db_config())?),
        })
    }
}

fn db_config() -> DbConfig {
    DbConfig {
        static_dir: "/var/lib/corral".into(),
        tmp_dir: "/run/corral".into(),
        graph_root: "/var/lib/corral/storage".into(),
        run_root: "/run/corral/storage".into(),
        graph_driver: "overlay".into(),
        volume_path: "/var/lib/corral/volumes".into(),
    }
}

/// A container record about as full as the ones podman keeps (without the
/// OCI spec, which lives in the bundle's config.json).
fn container(name: &str) -> Result<ContainerRecord> {
    let id = new_id()?;
    let mut config = ContainerConfig {
        id: id.clone(),
        name: name.to_owned(),
        oci_runtime: "crun".into(),
        ..Default::default()
    };
    config.root_fs.rootfs_image_id = new_id()?;
    config.root_fs.rootfs_image_name = "localhost/busybox:latest".into();
    config.root_fs.static_dir = format!("/var/lib/corral/containers/{id}/userdata");
    config.root_fs.mounts = vec!["/data".into(), "/etc/app".into()];
    config.root_fs.shm_dir = format!("/var/lib/corral/containers/{id}/userdata/shm");
    config.root_fs.shm_size = 65_536_000;
    config.root_fs.storage_driver = "overlay".into();
    config.network.create_net_ns = true;
    config.network.network_mode = "bridge".into();
    config.network.port_mappings = vec![PortMapping {
        host_port: 8080,
        container_port: 80,
        protocol: "tcp".into(),
        ..Default::default()
    }];
    config.network.networks.insert(
        "podman".into(),
        PerNetworkOptions {
            aliases: vec![name.to_owned()],
            interface_name: "eth0".into(),
            ..Default::default()
        },
    );
    config.image.command = vec!["/bin/sh".into(), "-c".into(), "sleep infinity".into()];
    config.misc.labels.insert("app".into(), "bench".into());
    config.misc.labels.insert("tier".into(), "backend".into());
    config.misc.stop_signal = 15;
    config.misc.stop_timeout = 10;
    config.misc.log_path = format!("/var/lib/corral/containers/{id}/userdata/ctr.log");
    config.misc.log_driver = "k8s-file".into();
    config.misc.conmon_pid_file = format!("/run/corral/containers/{id}/userdata/conmon.pid");
    config.misc.exit_command = [
        "/usr/bin/corral",
        "--root",
        "/var/lib/corral",
        "--runroot",
        "/run/corral",
        "--log-level",
        "warning",
        "container",
        "cleanup",
        &id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    config.misc.create_command = ["corral", "run", "-d", "--name", name, "busybox", "sleep", "infinity"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let state = ContainerState {
        state: ContainerStatus::Configured,
        config_path: format!("/var/lib/corral/containers/{id}/userdata/config.json"),
        run_dir: format!("/run/corral/containers/{id}/userdata"),
        ..Default::default()
    };
    Ok(ContainerRecord { config, state })
}

/// Runs the benchmark for every persistent backend and prints medians.
pub fn run() -> Result<()> {
    println!("state store with {CONTAINERS} containers (medians; {RUNS} runs unless noted)");
    for backend in [Backend::Sqlite, Backend::Sled] {
        bench_backend(backend)?;
    }
    Ok(())
}

fn bench_backend(backend: Backend) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(match backend {
        Backend::Sqlite => "state.db",
        Backend::Sled => "state.sled",
    });
    let (names, ids) = populate(backend, &path)?;

    let mut open = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let state = backend.open(&path)?;
        open.push(start.elapsed());
        drop(state);
    }
    let state = backend.open(&path)?;

    let mut all = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let found = state.all_containers(true)?.len();
        all.push(start.elapsed());
        if found != CONTAINERS {
            bail!(
                "{}: AllContainers found {found} containers, not {CONTAINERS}",
                backend.name()
            );
        }
    }

    let step = CONTAINERS / LOOKUPS;
    let mut by_name = Vec::new();
    let mut by_prefix = Vec::new();
    for i in (0..CONTAINERS).step_by(step) {
        let start = Instant::now();
        let found = state.lookup_container_id(&names[i])?;
        by_name.push(start.elapsed());
        let start = Instant::now();
        let by_id = state.lookup_container_id(&ids[i][..12])?;
        by_prefix.push(start.elapsed());
        if found != ids[i] || by_id != ids[i] {
            bail!("{}: lookup of {} found the wrong container", backend.name(), names[i]);
        }
    }

    let mut add_remove = Vec::new();
    for run in 0..RUNS {
        let ctr = container(&format!("extra-{run}"))?;
        let start = Instant::now();
        state.add_container(&ctr)?;
        state.remove_container(ctr.id())?;
        add_remove.push(start.elapsed());
    }
    drop(state);

    let mut parallel = Vec::new();
    for run in 0..3 {
        parallel.push(parallel_adds(backend, &path, run)?);
    }

    println!("{}:", backend.name());
    println!(
        "  open                    {:>10.2?}",
        median(&mut open).unwrap_or_default()
    );
    println!(
        "  AllContainers           {:>10.2?}",
        median(&mut all).unwrap_or_default()
    );
    println!(
        "  lookup by name          {:>10.2?}",
        median(&mut by_name).unwrap_or_default()
    );
    println!(
        "  lookup by ID prefix     {:>10.2?}",
        median(&mut by_prefix).unwrap_or_default()
    );
    println!(
        "  add + remove            {:>10.2?}",
        median(&mut add_remove).unwrap_or_default()
    );
    println!(
        "  {PROCESSES} processes x {ADDS_PER_PROCESS} adds  {:>10.2?} wall (median of 3)",
        median(&mut parallel).unwrap_or_default()
    );
    println!(
        "  size on disk            {:>10.1} MiB",
        disk_usage(dir.path())? as f64 / 1048576.0
    );
    Ok(())
}

/// Fills a new store with [`CONTAINERS`] containers; returns their names and IDs.
fn populate(backend: Backend, path: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let start = Instant::now();
    let mut names = Vec::with_capacity(CONTAINERS);
    let mut ids = Vec::with_capacity(CONTAINERS);
    let mut add_all = |state: &dyn State| -> Result<()> {
        for i in 0..CONTAINERS {
            let ctr = container(&format!("ctr-{i}"))?;
            state.add_container(&ctr)?;
            names.push(ctr.config.name);
            ids.push(ctr.config.id);
        }
        Ok(())
    };
    match backend {
        Backend::Sqlite => add_all(&SqliteState::open(path, &db_config())?)?,
        Backend::Sled => {
            // One open for the whole fill: sled pays an open per operation otherwise.
            let state = SledState::open(path, &db_config())?;
            let _held = state.hold()?;
            add_all(&state)?;
        }
    }
    eprintln!(
        "{}: filled with {CONTAINERS} containers in {:.1?}",
        backend.name(),
        start.elapsed()
    );
    Ok((names, ids))
}

/// Wall time of [`PROCESSES`] processes each adding [`ADDS_PER_PROCESS`] containers at once.
fn parallel_adds(backend: Backend, path: &Path, run: usize) -> Result<Duration> {
    let exe = std::env::current_exe().context("finding this executable to re-run it")?;
    let start = Instant::now();
    let children = (0..PROCESSES)
        .map(|i| {
            Command::new(&exe)
                .arg(CHILD_ARG)
                .arg(backend.name())
                .arg(path)
                .arg(format!("{run}-{i}"))
                .arg(ADDS_PER_PROCESS.to_string())
                .spawn()
                .with_context(|| format!("starting bench child {i}"))
        })
        .collect::<Result<Vec<_>>>()?;
    for mut child in children {
        let status = child.wait()?;
        if !status.success() {
            bail!("a {} bench child failed: {status}", backend.name());
        }
    }
    Ok(start.elapsed())
}

/// A bench child: `<backend> <db path> <tag> <count>`; opens the store and
/// adds `count` containers named after `tag`.
pub fn child_main(args: &[String]) -> Result<()> {
    let [backend, path, tag, count] = args else {
        bail!("usage: {CHILD_ARG} <sqlite|sled> <db path> <tag> <count>");
    };
    let backend = Backend::parse(backend)?;
    let count: usize = count.parse().with_context(|| format!("count {count:?}"))?;
    let state = backend.open(&PathBuf::from(path))?;
    for i in 0..count {
        state.add_container(&container(&format!("child-{tag}-{i}"))?)?;
    }
    Ok(())
}

fn disk_usage(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            disk_usage(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
