//! File locks shared by separate processes. The test binary runs itself
//! again as a child (`child_process_entry`, chosen by an environment
//! variable) so that the children are real processes with their own
//! descriptors, as two corral commands would be.

// Helpers outside #[test] fns are test code too: a failed step should panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::env;
use std::fs::{self, File};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use corral_define::{ErrorKind, HasKind};
use corral_lock::{FileLockManager, LockManager};

/// SIGKILL's number, the same on every Linux architecture.
const SIGKILL: i32 = 9;
const ROLE_VAR: &str = "CORRAL_LOCK_TEST_CHILD";
const RUNROOT_VAR: &str = "CORRAL_LOCK_TEST_RUNROOT";
const LOCK_VAR: &str = "CORRAL_LOCK_TEST_LOCK";
const ROUNDS_VAR: &str = "CORRAL_LOCK_TEST_ROUNDS";

/// What a child does, by the role in `ROLE_VAR`; without it this test does
/// nothing, so it passes in an ordinary run.
#[test]
fn child_process_entry() {
    let Ok(role) = env::var(ROLE_VAR) else { return };
    let runroot = PathBuf::from(env::var(RUNROOT_VAR).unwrap());
    let rounds: u64 = env::var(ROUNDS_VAR).unwrap().parse().unwrap();
    let manager = FileLockManager::for_runroot(&runroot).unwrap();
    match role.as_str() {
        "count" => {
            let lock = manager
                .retrieve_lock(env::var(LOCK_VAR).unwrap().parse().unwrap())
                .unwrap();
            let counter = runroot.join("counter");
            let inside = runroot.join("inside");
            for _ in 0..rounds {
                let _guard = lock.lock().unwrap();
                // create_new fails if another process is inside too.
                File::create_new(&inside).expect("two processes hold the lock at once");
                let seen: u64 = fs::read_to_string(&counter).unwrap().parse().unwrap();
                thread::yield_now();
                fs::write(&counter, (seen + 1).to_string()).unwrap();
                fs::remove_file(&inside).unwrap();
            }
        }
        "hold" => {
            let lock = manager
                .retrieve_lock(env::var(LOCK_VAR).unwrap().parse().unwrap())
                .unwrap();
            let _guard = lock.lock().unwrap();
            fs::write(runroot.join("holding"), std::process::id().to_string()).unwrap();
            thread::sleep(Duration::from_secs(120));
        }
        "allocate" => {
            let ids: Vec<String> = (0..rounds)
                .map(|_| manager.allocate_lock().unwrap().id().to_string())
                .collect();
            fs::write(
                runroot.join(format!("allocated-{}", std::process::id())),
                ids.join("\n"),
            )
            .unwrap();
        }
        other => panic!("unknown child role {other}"),
    }
}

/// A child process, killed and reaped if the test ends before it does.
struct ChildProcess(Option<Child>);

impl ChildProcess {
    fn spawn(role: &str, runroot: &Path, lock: Option<u32>, rounds: u64) -> Self {
        let mut command = Command::new(env::current_exe().unwrap());
        command
            .args(["child_process_entry", "--exact", "--nocapture", "--test-threads", "1"])
            .env(ROLE_VAR, role)
            .env(RUNROOT_VAR, runroot)
            .env(ROUNDS_VAR, rounds.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(lock) = lock {
            command.env(LOCK_VAR, lock.to_string());
        }
        Self(Some(command.spawn().unwrap()))
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    /// Waits for the child and asserts it ran the entry test and passed.
    fn finish(mut self) -> Output {
        let output = self.0.take().unwrap().wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "child failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for_file(path: &Path, within: Duration) {
    let deadline = Instant::now() + within;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {within:?}",
            path.display()
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn processes_counting_under_one_lock_lose_no_update() {
    const PROCESSES: u64 = 3;
    const ROUNDS: u64 = 200;
    let runroot = tempfile::tempdir().unwrap();
    let manager = FileLockManager::for_runroot(runroot.path()).unwrap();
    let lock = manager.allocate_lock().unwrap();
    fs::write(runroot.path().join("counter"), "0").unwrap();

    let children: Vec<_> = (0..PROCESSES)
        .map(|_| ChildProcess::spawn("count", runroot.path(), Some(lock.id()), ROUNDS))
        .collect();
    for child in children {
        child.finish();
    }
    let count = fs::read_to_string(runroot.path().join("counter")).unwrap();
    assert_eq!(count, (PROCESSES * ROUNDS).to_string());
    assert!(manager.locks_held().unwrap().is_empty());
}

#[test]
fn processes_allocating_at_once_never_share_a_number() {
    const PROCESSES: u64 = 3;
    const ROUNDS: u64 = 300;
    let runroot = tempfile::tempdir().unwrap();
    let manager = FileLockManager::for_runroot(runroot.path()).unwrap();

    let children: Vec<_> = (0..PROCESSES)
        .map(|_| ChildProcess::spawn("allocate", runroot.path(), None, ROUNDS))
        .collect();
    for child in children {
        child.finish();
    }
    let mut all = BTreeSet::new();
    for entry in fs::read_dir(runroot.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_str().unwrap().starts_with("allocated-") {
            for id in fs::read_to_string(&path).unwrap().lines() {
                assert!(all.insert(id.parse::<u32>().unwrap()), "lock {id} handed out twice");
            }
        }
    }
    assert_eq!(all.len() as u64, PROCESSES * ROUNDS);
    assert_eq!(manager.allocated_locks().unwrap(), all.into_iter().collect::<Vec<_>>());
}

#[test]
fn a_lock_held_by_a_killed_process_is_released() {
    let runroot = tempfile::tempdir().unwrap();
    let manager = FileLockManager::for_runroot(runroot.path()).unwrap();
    let lock = manager.allocate_lock().unwrap();

    let mut holder = ChildProcess::spawn("hold", runroot.path(), Some(lock.id()), 0);
    wait_for_file(&runroot.path().join("holding"), Duration::from_secs(30));
    assert!(lock.try_lock().unwrap().is_none(), "the child holds it");
    assert_eq!(manager.locks_held().unwrap(), vec![lock.id()]);
    let err = lock.lock_timeout(Duration::from_millis(50)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);

    let (acquired, acquired_at) = mpsc::channel();
    let waiter = {
        let lock = manager.retrieve_lock(lock.id()).unwrap();
        thread::spawn(move || {
            let guard = lock.lock().unwrap();
            acquired.send(Instant::now()).unwrap();
            drop(guard);
        })
    };
    assert!(
        acquired_at.recv_timeout(Duration::from_millis(100)).is_err(),
        "the waiter got a lock the child still holds"
    );

    let killed_at = Instant::now();
    holder.child().kill().unwrap();
    let acquired_at = acquired_at
        .recv_timeout(Duration::from_secs(5))
        .expect("lock not released within 5s of SIGKILL");
    let release = acquired_at.saturating_duration_since(killed_at);
    waiter.join().unwrap();
    let status = holder.child().wait().unwrap();
    assert_eq!(ExitStatusExt::signal(&status), Some(SIGKILL));
    println!("blocked waiter acquired the lock {release:?} after SIGKILL was sent to its holder");
    assert!(manager.locks_held().unwrap().is_empty());
}
