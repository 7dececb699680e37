//! `cargo xtask bench state`: the state store's costs with 10,000 containers,
//! for each persistent backend.
//!
//! AllContainers is timed in processes of their own that open the store, as
//! every `corral` command does: the median of the first call in each (which
//! also maps the database and the process's first memory), then the median
//! of the calls after it. Timed in the process that has just filled the
//! store, the figures also measured that fill's scattered heap; timed in one
//! process only, the first call swung by half from run to run.
//!
//! Both children re-run this executable as `<exe> __bench-state-child
//! <sqlite|sled> <db path> add <tag> <count>` or `... list <count>`, which
//! must be routed to [`child_main`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use corral_state::corral_define::{
    ContainerConfig, ContainerState, ContainerStatus, DbConfig, PerNetworkOptions, PortMapping, RawJson, new_id,
};
use corral_state::{ContainerRecord, SledState, SqliteState, State};

use crate::stats::median;

/// The hidden first argument that makes this executable a bench child.
pub const CHILD_ARG: &str = "__bench-state-child";

const CONTAINERS: usize = 10_000;
const RUNS: usize = 7;
/// New processes that list, each timing its first call and [`RUNS`] more.
const LISTING_PROCESSES: usize = 5;
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

/// An OCI runtime spec like the config.json podman hands crun (seccomp
/// left out): about 3.3 KB of JSON, the `spec` a real container record carries.
fn typical_spec(id: &str) -> serde_json::Value {
    let caps = corral_state::corral_define::DEFAULT_CAPABILITIES;
    let userdata = format!("/run/corral/containers/{id}/userdata");
    serde_json::json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0, "umask": 18, "additionalGids": [0, 1, 2, 3, 4, 6, 10, 11, 20, 26, 27] },
            "args": ["/bin/sh", "-c", "sleep infinity"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
                "container=podman",
                "HOME=/root",
                "HOSTNAME=web",
                "LANG=C.UTF-8",
                "APP_ENV=production",
                "APP_PORT=8080"
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "permitted": caps
            },
            "rlimits": [
                { "type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576 },
                { "type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304 }
            ],
            "oomScoreAdj": 0
        },
        "root": { "path": format!("/var/lib/corral/storage/overlay/{id}/merged") },
        "hostname": "web",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/etc/hosts", "type": "bind", "source": format!("{userdata}/hosts"), "options": ["bind", "rprivate"] },
            { "destination": "/etc/resolv.conf", "type": "bind", "source": format!("{userdata}/resolv.conf"), "options": ["bind", "rprivate"] },
            { "destination": "/dev/shm", "type": "bind", "source": format!("{userdata}/shm"), "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"] }
        ],
        "annotations": {
            "io.container.manager": "libpod",
            "io.podman.annotations.autoremove": "FALSE",
            "io.podman.annotations.init": "FALSE",
            "io.podman.annotations.privileged": "FALSE",
            "io.podman.annotations.publish-all": "FALSE",
            "org.opencontainers.image.stopSignal": "15"
        },
        "linux": {
            "sysctl": { "net.ipv4.ping_group_range": "0 0" },
            "resources": {
                "devices": [{ "allow": false, "access": "rwm" }],
                "pids": { "limit": 2048 }
            },
            "cgroupsPath": format!("machine.slice:libpod:{id}"),
            "namespaces": [
                { "type": "pid" },
                { "type": "network", "path": format!("/run/netns/corral-{}", &id[..12]) },
                { "type": "ipc" },
                { "type": "uts" },
                { "type": "mount" },
                { "type": "cgroup" }
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
                "/sys/dev/block", "/sys/devices/virtual/powercap"
            ],
            "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// Whether bench containers carry an OCI spec in their config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    Without,
    With,
}

/// A container record about as full as the ones podman keeps, with or
/// without the generated OCI spec.
fn container(name: &str, spec: Spec) -> Result<ContainerRecord> {
    let id = new_id()?;
    let mut config = ContainerConfig {
        id: id.as_str().into(),
        name: name.into(),
        oci_runtime: "crun".into(),
        ..Default::default()
    };
    config.root_fs.rootfs_image_id = new_id()?.into();
    config.root_fs.rootfs_image_name = "localhost/busybox:latest".into();
    config.root_fs.static_dir = format!("/var/lib/corral/containers/{id}/userdata").into();
    config.root_fs.mounts = vec!["/data".into(), "/etc/app".into()];
    config.root_fs.shm_dir = format!("/var/lib/corral/containers/{id}/userdata/shm").into();
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
            aliases: vec![name.into()],
            interface_name: "eth0".into(),
            ..Default::default()
        },
    );
    config.image.command = vec!["/bin/sh".into(), "-c".into(), "sleep infinity".into()];
    config.misc.labels.insert("app".into(), "bench".into());
    config.misc.labels.insert("tier".into(), "backend".into());
    config.misc.stop_signal = 15;
    config.misc.stop_timeout = 10;
    config.misc.log_path = format!("/var/lib/corral/containers/{id}/userdata/ctr.log").into();
    config.misc.log_driver = "k8s-file".into();
    config.misc.conmon_pid_file = format!("/run/corral/containers/{id}/userdata/conmon.pid").into();
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
    .map(|&arg| arg.into())
    .collect();
    config.misc.create_command = ["corral", "run", "-d", "--name", name, "busybox", "sleep", "infinity"]
        .iter()
        .map(|&arg| arg.into())
        .collect();
    if spec == Spec::With {
        config.spec = Some(RawJson::from_value(&typical_spec(&id))?);
    }
    let state = ContainerState {
        state: ContainerStatus::Configured,
        config_path: format!("/var/lib/corral/containers/{id}/userdata/config.json").into(),
        run_dir: format!("/run/corral/containers/{id}/userdata").into(),
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
    let (names, ids) = populate(backend, &path, Spec::Without)?;

    let mut open = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let state = backend.open(&path)?;
        open.push(start.elapsed());
        drop(state);
    }
    let mut all = all_containers(backend, &path)?;
    let state = backend.open(&path)?;

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
        let ctr = container(&format!("extra-{run}"), Spec::Without)?;
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
    let size = disk_usage(dir.path())?;
    drop(dir);

    let spec_dir = tempfile::tempdir()?;
    let spec_path = spec_dir.path().join(path.file_name().unwrap_or_default());
    populate(backend, &spec_path, Spec::With)?;
    let mut all_with_spec = all_containers(backend, &spec_path)?;
    let spec_size = disk_usage(spec_dir.path())?;

    println!("{}:", backend.name());
    println!(
        "  open                    {:>10.2?}",
        median(&mut open).unwrap_or_default()
    );
    for (what, listing) in [("", &mut all), (", OCI spec", &mut all_with_spec)] {
        println!(
            "  AllContainers{what:<10} {:>10.2?} first call in a new process, then {:.2?} (medians, {LISTING_PROCESSES} processes)",
            median(&mut listing.first).unwrap_or_default(),
            median(&mut listing.then).unwrap_or_default()
        );
    }
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
    println!("  size on disk            {:>10.1} MiB", size as f64 / 1048576.0);
    println!("  size on disk, OCI spec  {:>10.1} MiB", spec_size as f64 / 1048576.0);
    Ok(())
}

/// AllContainers (with states) in [`LISTING_PROCESSES`] new processes: the
/// first call in each, then [`RUNS`] more in each.
struct Listing {
    first: Vec<Duration>,
    then: Vec<Duration>,
}

/// Times AllContainers in child processes (see [`list_in_child`]).
fn all_containers(backend: Backend, path: &Path) -> Result<Listing> {
    let mut listing = Listing {
        first: Vec::new(),
        then: Vec::new(),
    };
    for _ in 0..LISTING_PROCESSES {
        let mut times = list_in_a_child(backend, path)?;
        listing.first.push(times.remove(0));
        listing.then.extend(times);
    }
    Ok(listing)
}

/// The times of [`RUNS`] + 1 calls in one child process.
fn list_in_a_child(backend: Backend, path: &Path) -> Result<Vec<Duration>> {
    let exe = std::env::current_exe().context("finding this executable to re-run it")?;
    let out = Command::new(&exe)
        .arg(CHILD_ARG)
        .arg(backend.name())
        .arg(path)
        .args(["list", &CONTAINERS.to_string()])
        .output()
        .context("starting the listing child")?;
    if !out.status.success() {
        bail!(
            "the {} listing child failed: {}",
            backend.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let times = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|nanos| nanos.parse().map(Duration::from_nanos))
        .collect::<Result<Vec<_>, _>>()
        .context("reading the listing child's times")?;
    if times.len() != RUNS + 1 {
        bail!("the listing child printed {} times, not {}", times.len(), RUNS + 1);
    }
    Ok(times)
}

/// Opens the store, calls AllContainers [`RUNS`] + 1 times, checks that each
/// call found `count` containers and prints each call's time in nanoseconds,
/// the dropping of the list included.
fn list_in_child(state: &dyn State, count: usize) -> Result<()> {
    for _ in 0..=RUNS {
        let start = Instant::now();
        let found = state.all_containers(true)?.len();
        let took = start.elapsed();
        if found != count {
            bail!("AllContainers found {found} containers, not {count}");
        }
        println!("{}", took.as_nanos());
    }
    Ok(())
}

/// Fills a new store with [`CONTAINERS`] containers; returns their names and IDs.
fn populate(backend: Backend, path: &Path, spec: Spec) -> Result<(Vec<String>, Vec<String>)> {
    let start = Instant::now();
    let mut names = Vec::with_capacity(CONTAINERS);
    let mut ids = Vec::with_capacity(CONTAINERS);
    let mut add_all = |state: &dyn State| -> Result<()> {
        for i in 0..CONTAINERS {
            let ctr = container(&format!("ctr-{i}"), spec)?;
            state.add_container(&ctr)?;
            names.push(ctr.config.name.into());
            ids.push(ctr.config.id.into());
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
        "{}: filled with {CONTAINERS} containers ({spec:?} OCI spec) in {:.1?}",
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
                .arg("add")
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

/// A bench child: `<backend> <db path> add <tag> <count>` opens the store and
/// adds `count` containers named after `tag`; `<backend> <db path> list
/// <count>` times AllContainers ([`list_in_child`]).
pub fn child_main(args: &[String]) -> Result<()> {
    let usage = || format!("usage: {CHILD_ARG} <sqlite|sled> <db path> (add <tag> <count> | list <count>)");
    let (backend, path, task) = match args {
        [backend, path, task @ ..] => (Backend::parse(backend)?, PathBuf::from(path), task),
        _ => bail!(usage()),
    };
    let count = |count: &str| count.parse::<usize>().with_context(|| format!("count {count:?}"));
    let state = backend.open(&path)?;
    match task {
        [add, tag, n] if add == "add" => {
            for i in 0..count(n)? {
                state.add_container(&container(&format!("child-{tag}-{i}"), Spec::Without)?)?;
            }
            Ok(())
        }
        [list, n] if list == "list" => list_in_child(&*state, count(n)?),
        _ => bail!(usage()),
    }
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
