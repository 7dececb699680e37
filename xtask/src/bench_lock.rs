//! `cargo xtask bench lock`: uncontended lock+unlock cost of each lock backend.

use anyhow::Result;
use std::path::Path;
use std::time::{Duration, Instant};

use corral_lock::{FileLockManager, InProcessLockManager, LockManager};

use crate::stats::median;

const ROUNDS: u32 = 20_000;
const RUNS: usize = 5;

pub fn run() -> Result<()> {
    let on_disk = tempfile::tempdir()?;
    report("file locks on disk", &FileLockManager::for_runroot(on_disk.path())?)?;
    // The runroot is a tmpfs (/run) on most hosts, like /dev/shm.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let in_memory_fs = tempfile::tempdir_in(shm)?;
        report(
            "file locks on tmpfs",
            &FileLockManager::for_runroot(in_memory_fs.path())?,
        )?;
    }
    report("in-process locks", &InProcessLockManager::new())
}

fn report(label: &str, manager: &dyn LockManager) -> Result<()> {
    let lock = manager.allocate_lock()?;
    let mut lock_unlock = Vec::with_capacity(RUNS);
    let mut try_unlock = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            drop(lock.lock()?);
        }
        lock_unlock.push(start.elapsed() / ROUNDS);
        let start = Instant::now();
        for _ in 0..ROUNDS {
            drop(lock.try_lock()?);
        }
        try_unlock.push(start.elapsed() / ROUNDS);
    }
    println!(
        "{label:<22} lock+unlock {:>10.2?}   try_lock+unlock {:>10.2?}   (median of {RUNS} runs of {ROUNDS})",
        median(&mut lock_unlock).unwrap_or(Duration::ZERO),
        median(&mut try_unlock).unwrap_or(Duration::ZERO),
    );
    lock.free()?;
    Ok(())
}
