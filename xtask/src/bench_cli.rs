//! `cargo xtask bench cli`: the `corral` command against `podman` (when
//! installed) on the same image in one run: create, start, run --rm, run -d
//! and stop, exec, inspect, ps -a with 0, 100 and 1,000 containers, rm -f,
//! and the peak RSS of `ps -a`. Prints medians and the ratio corral/podman.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::stats::median;
use crate::test_image;

const RUNS: usize = 7;
const IMAGE: &str = "localhost/busybox:latest";
/// GNU time, from the Debian package `time`.
const GNU_TIME: &str = "/usr/bin/time";

/// One engine under test: a binary with its own temporary root and runroot.
struct Engine {
    name: &'static str,
    binary: PathBuf,
    root: PathBuf,
    runroot: PathBuf,
    /// A containers.conf for podman (`CONTAINERS_CONF`).
    containers_conf: Option<PathBuf>,
}

/// What one engine measured: a label and a median per row.
type Figures = Vec<(String, Option<f64>)>;

pub fn run() -> Result<()> {
    let workspace = crate::demo::workspace_root();
    let target = crate::demo::target_dir(&workspace);
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "corral-cli",
            "--bin",
            "corral",
        ])
        .current_dir(&workspace)
        .status()
        .context("running cargo build for corral")?;
    if !status.success() {
        bail!("building corral failed with {status}");
    }
    let image = test_image::build(&target.join("test-image"))?;
    let scratch = tempfile::Builder::new().prefix("corral-bench-").tempdir()?;
    let mut engines = vec![Engine::new(
        "corral",
        target.join("release").join("corral"),
        scratch.path(),
    )];
    if let Some(podman) = find_podman() {
        let mut engine = Engine::new("podman", podman, scratch.path());
        engine.containers_conf = Some(podman_containers_conf(scratch.path())?);
        engines.push(engine);
    } else {
        println!("podman is not installed: measuring corral alone");
    }
    let counts: Vec<usize> = std::env::var("BENCH_PS_COUNTS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0, 100, 1000]);

    let mut results = Vec::new();
    for engine in &engines {
        engine.run_ok(&["load", "-i", &image.docker_archive.display().to_string()])?;
        let figures = engine.measure(&counts);
        engine.clean();
        results.push((engine.name, figures?));
    }
    print_table(&results);
    Ok(())
}

/// The machine's own containers.conf, which `CONTAINERS_CONF` would
/// otherwise replace, leaving podman on its built-in defaults.
const SYSTEM_CONTAINERS_CONF: &str = "/usr/share/containers/containers.conf";

/// podman's default rlimits (nofile and nproc at 1048576 and more) exceed
/// the hard limits on machines where they cannot be raised, and then every
/// podman container fails to start; give it limits this machine allows.
///
/// `CONTAINERS_CONF` replaces the system's containers.conf rather than adding
/// to it, so the file written here is the system's with `default_ulimits` put
/// in its `[containers]` table. Without the system's settings podman 4.3
/// falls back on its built-in capability set, which holds CAP_AUDIT_WRITE, and
/// with it the default seccomp profile drops its `socket` argument filters:
/// crun then compiles the profile about 10 ms faster than for the set this
/// machine configures, and corral uses.
fn podman_containers_conf(scratch: &Path) -> Result<PathBuf> {
    let mut nofile = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the rlimit we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut nofile) } != 0 {
        bail!("getrlimit: {}", std::io::Error::last_os_error());
    }
    let ulimits = format!(
        "default_ulimits = [\"nofile={}:{}\", \"nproc=4096:4096\"]",
        nofile.rlim_cur, nofile.rlim_max
    );
    let system = match std::fs::read_to_string(SYSTEM_CONTAINERS_CONF) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {SYSTEM_CONTAINERS_CONF}")),
    };
    let text = with_in_table(&system, "[containers]", &ulimits);
    let path = scratch.join("podman-containers.conf");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// `toml` with `line` as the first line of its table `header` (appended with
/// the header when the table is missing). A key already set in that table
/// is not looked for: the system file only has `default_ulimits` commented out.
fn with_in_table(toml: &str, header: &str, line: &str) -> String {
    let mut out = String::with_capacity(toml.len() + line.len() + header.len() + 2);
    let mut placed = false;
    for text in toml.lines() {
        out.push_str(text);
        out.push('\n');
        if !placed && text.trim() == header {
            out.push_str(line);
            out.push('\n');
            placed = true;
        }
    }
    if !placed {
        out.push_str(&format!("{header}\n{line}\n"));
    }
    out
}

fn find_podman() -> Option<PathBuf> {
    let out = Command::new("sh").args(["-c", "command -v podman"]).output().ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

impl Engine {
    fn new(name: &'static str, binary: PathBuf, scratch: &Path) -> Engine {
        Engine {
            name,
            binary,
            root: scratch.join(name).join("root"),
            runroot: scratch.join(name).join("run"),
            containers_conf: None,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--root").arg(&self.root).arg("--runroot").arg(&self.runroot);
        if self.name == "podman" {
            // Same conditions for both: no CNI network, cgroupfs, file events.
            cmd.args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
        }
        if let Some(conf) = &self.containers_conf {
            cmd.env("CONTAINERS_CONF", conf);
        }
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    /// Runs a command that must succeed; returns its stdout.
    fn run_ok(&self, args: &[&str]) -> Result<String> {
        let out = self
            .command(args)
            .output()
            .with_context(|| format!("running {}", self.name))?;
        if !out.status.success() {
            bail!(
                "{} {} failed ({}): {}",
                self.name,
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Wall time of one successful command.
    fn time(&self, args: &[&str]) -> Result<Duration> {
        let start = Instant::now();
        self.run_ok(args)?;
        Ok(start.elapsed())
    }

    fn clean(&self) {
        let _ = self.command(&["rm", "--all", "--force", "--time", "0"]).output();
    }

    fn measure(&self, ps_counts: &[usize]) -> Result<Figures> {
        let run_args = ["--network", "none"];
        let mut figures = Figures::new();

        self.record(
            &mut figures,
            "create",
            self.repeat(|i| {
                self.time(&[&["create", "--name", &format!("c{i}")][..], &run_args, &[IMAGE, "true"]].concat())
            }),
        );
        self.record(
            &mut figures,
            "start",
            self.repeat(|i| self.time(&["start", &format!("c{i}")])),
        );
        self.clean();
        self.record(
            &mut figures,
            "run --rm IMAGE true",
            self.repeat(|_| self.time(&[&["run", "--rm"][..], &run_args, &[IMAGE, "true"]].concat())),
        );
        self.record(
            &mut figures,
            "run -d + stop -t 0",
            self.repeat(|i| {
                let name = format!("d{i}");
                let start = Instant::now();
                self.run_ok(&[&["run", "-d", "--name", &name][..], &run_args, &[IMAGE, "sleep", "300"]].concat())?;
                self.run_ok(&["stop", "-t", "0", &name])?;
                Ok(start.elapsed())
            }),
        );
        self.clean();
        self.run_ok(
            &[
                &["run", "-d", "--name", "target"][..],
                &run_args,
                &[IMAGE, "sleep", "300"],
            ]
            .concat(),
        )?;
        self.record(
            &mut figures,
            "exec CTR true",
            self.repeat(|_| self.time(&["exec", "target", "true"])),
        );
        self.record(
            &mut figures,
            "inspect",
            self.repeat(|_| self.time(&["inspect", "target"])),
        );
        self.record(
            &mut figures,
            "rm -f (running)",
            self.repeat(|i| {
                let name = format!("r{i}");
                self.run_ok(&[&["run", "-d", "--name", &name][..], &run_args, &[IMAGE, "sleep", "300"]].concat())?;
                self.time(&["rm", "-f", "-t", "0", &name])
            }),
        );
        self.clean();
        let mut existing = 0;
        for &count in ps_counts {
            while existing < count {
                self.run_ok(&[&["create"][..], &run_args, &[IMAGE, "true"]].concat())?;
                existing += 1;
            }
            self.record(
                &mut figures,
                &format!("ps -a ({count} containers)"),
                self.repeat(|_| self.time(&["ps", "-a"])),
            );
            let rss = self.peak_rss_kib(&["ps", "-a"]);
            figures.push((
                format!("peak RSS of ps -a ({count}), MiB"),
                rss.ok().map(|k| k as f64 / 1024.0),
            ));
        }
        Ok(figures)
    }

    /// Adds the median of `samples` as a row; a failed measurement is reported and left empty.
    fn record(&self, figures: &mut Figures, label: &str, samples: Result<Vec<Duration>>) {
        let value = match samples {
            Ok(mut s) => median(&mut s).map(|d| d.as_secs_f64() * 1000.0),
            Err(err) => {
                eprintln!("{}: {label}: {err:#}", self.name);
                None
            }
        };
        figures.push((label.to_string(), value));
    }

    fn repeat(&self, mut f: impl FnMut(usize) -> Result<Duration>) -> Result<Vec<Duration>> {
        (0..RUNS).map(&mut f).collect()
    }

    /// Peak RSS of one run, as GNU time reports it. Not wait4's own figure: the
    /// kernel folds the spawning process's peak into its child's (it keeps the
    /// larger of the two across fork and exec), so measured from this process it
    /// never reads below this process's own size; time is small enough not to mask.
    fn peak_rss_kib(&self, args: &[&str]) -> Result<i64> {
        let mut cmd = Command::new(GNU_TIME);
        cmd.args(["--format", "%M", "--"]).arg(&self.binary);
        let own = self.command(args);
        cmd.args(own.get_args());
        for (key, value) in own.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        let out = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .with_context(|| format!("running {GNU_TIME} (cargo xtask setup installs it)"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default().trim();
        if !out.status.success() {
            bail!("{} {args:?} failed: {stderr}", self.name);
        }
        last.parse()
            .with_context(|| format!("reading the peak RSS from {GNU_TIME}'s {last:?}"))
    }
}

fn print_table(results: &[(&str, Figures)]) {
    let Some((_, first)) = results.first() else { return };
    let podman = results.iter().find(|(name, _)| *name == "podman").map(|(_, f)| f);
    print!("{:<34}{:>14}", "median (ms, RSS in MiB)", "corral");
    if podman.is_some() {
        print!("{:>14}{:>10}", "podman", "ratio");
    }
    println!();
    for (i, (label, value)) in first.iter().enumerate() {
        let show = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "failed".into());
        print!("{label:<34}{:>14}", show(*value));
        if let Some(p) = podman {
            let other = p.get(i).and_then(|(_, v)| *v);
            let ratio = match (value, other) {
                (Some(c), Some(p)) if p > 0.0 => format!("{:.2}", c / p),
                _ => "-".into(),
            };
            print!("{:>14}{ratio:>10}", show(other));
        }
        println!();
    }
}

#[cfg(test)]
mod tests {
    use super::with_in_table;

    #[test]
    fn a_line_goes_first_into_its_table_or_into_a_new_one() {
        let conf = "[containers]\n# default_ulimits = []\nx = 1\n[engine]\ny = 2\n";
        assert_eq!(
            with_in_table(conf, "[containers]", "default_ulimits = [\"a\"]"),
            "[containers]\ndefault_ulimits = [\"a\"]\n# default_ulimits = []\nx = 1\n[engine]\ny = 2\n"
        );
        assert_eq!(
            with_in_table("[engine]\n", "[containers]", "k = 1"),
            "[engine]\n[containers]\nk = 1\n"
        );
    }
}
