//! `corral create`, `start` and `rm -f` killed with SIGKILL at moments spread
//! over their run: afterwards the store still lists, the container (if it is
//! there) still starts, stops and is removed, its name can be used again, and
//! no conmon, mount or bundle of it is left behind.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Env, TestImage};
use corral_test_support::{conmons_serving, mounts_below};

/// Kills per command, spread evenly over `0..span`.
const KILLS: u32 = 10;

/// Runs `corral args` and SIGKILLs it after `delay` (if it is still running).
fn kill_after(env: &Env, args: &[&str], delay: Duration) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("corral"))
        .arg("--root")
        .arg(&env.root)
        .arg("--runroot")
        .arg(&env.runroot)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
}

/// Whatever a kill left, the store must recover: `ps -a` works; a container
/// called `name` (if there is one) starts, runs a command, stops and is
/// removed (one left half removed is removed); then nothing of it is left and
/// the name can be used again.
fn recovers(env: &Env, name: &str, what: &str) {
    let listed = env.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    let state = listed
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map(str::to_owned);
    if let Some(state) = &state
        && state != "removing"
    {
        let (code, _, err) = env.run(&["start", name]);
        assert_eq!(code, 0, "{what}: start after the kill ({state}) failed: {err}");
        assert_eq!(env.ok(&["exec", name, "echo", "up"]), "up\n", "{what}");
        env.ok(&["stop", "-t", "0", name]);
    }
    let (code, out, err) = env.run(&["rm", "-f", "-t", "0", name]);
    assert_eq!(code, 0, "{what}: rm -f after the kill failed: {err}");
    if state.is_some() {
        assert_eq!(out, format!("{name}\n"), "{what}");
    }
    assert_eq!(env.ok(&["ps", "-a", "-q"]), "", "{what}");
    let dir = env.dir.path();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !conmons_serving(dir).is_empty() {
        assert!(Instant::now() < deadline, "{what}: a conmon was left running");
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(mounts_below(dir), Vec::<PathBuf>::new(), "{what}: mounts left");
    let bundles = std::fs::read_dir(env.runroot.join("containers")).map_or(0, |d| d.count());
    assert_eq!(bundles, 0, "{what}: bundle directories left");
    let statics = std::fs::read_dir(env.root.join("libpod/containers")).map_or(0, |d| d.count());
    assert_eq!(statics, 0, "{what}: container directories left");
    env.ok(&["create", "--name", name, "busybox", "true"]);
    assert_eq!(env.ok(&["rm", name]), format!("{name}\n"), "{what}");
}

/// How long `corral args` takes here, to spread the kills over it.
fn duration_of(env: &Env, args: &[&str]) -> Duration {
    let started = Instant::now();
    env.ok(args);
    started.elapsed()
}

#[test]
fn killed_commands_leave_a_store_that_recovers() {
    let env = Env::new(TestImage::Plain);
    let create = ["create", "--name", "victim", "busybox", "sleep", "1000"];
    let create_span = duration_of(&env, &create);
    let start_span = duration_of(&env, &["start", "victim"]);
    let rm_span = duration_of(&env, &["rm", "-f", "-t", "0", "victim"]);

    for kill in 0..KILLS {
        let delay = create_span * kill / KILLS;
        kill_after(&env, &create, delay);
        recovers(&env, "victim", &format!("create killed after {delay:?}"));
    }
    for kill in 0..KILLS {
        env.ok(&create);
        let delay = start_span * kill / KILLS;
        kill_after(&env, &["start", "victim"], delay);
        recovers(&env, "victim", &format!("start killed after {delay:?}"));
    }
    for kill in 0..KILLS {
        env.ok(&create);
        env.ok(&["start", "victim"]);
        let delay = rm_span * kill / KILLS;
        kill_after(&env, &["rm", "-f", "-t", "0", "victim"], delay);
        recovers(&env, "victim", &format!("rm -f killed after {delay:?}"));
    }
}
