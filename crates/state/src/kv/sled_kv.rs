//! The sled backend. sled admits one process at a time (its own lock makes
//! a second `open` fail), so every operation takes a global flock on a file
//! next to the database, opens sled, runs, flushes, closes sled and releases
//! the lock. [`SledHold`] keeps the database open across many operations.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::thread;
use std::time::{Duration, Instant};

use super::{Backend, KvRead, KvWrite, Overlay, Table, Visitor, flat_key, key_str};
use crate::error::{Result, StateError};

/// Backend of [`crate::SledState`].
#[derive(Debug)]
pub struct SledKv {
    path: PathBuf,
    lock_path: PathBuf,
    timeout: Duration,
    /// The database while a [`SledHold`] keeps it open. The mutex also
    /// serialises this process's threads before they reach the file lock.
    slot: Mutex<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    held: Option<OpenDb>,
    closed: bool,
}

/// An open database and the global lock that allows it. Fields drop in
/// order: sled closes before the lock is released.
#[derive(Debug)]
struct OpenDb {
    db: sled::Db,
    _lock: File,
}

/// Keeps a [`crate::SledState`] open (and every other process out) until dropped,
/// so that a batch of operations pays for one open instead of one each.
#[derive(Debug)]
pub struct SledHold<'a> {
    kv: &'a SledKv,
}

impl Drop for SledHold<'_> {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.kv.slot.lock() {
            slot.held = None;
        }
    }
}

impl SledKv {
    pub(crate) fn open(path: &Path, timeout: Duration) -> Result<Self> {
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let kv = Self {
            path: path.to_owned(),
            lock_path: PathBuf::from(lock_name),
            timeout,
            slot: Mutex::new(Slot::default()),
        };
        // Opening once creates the database and proves it readable.
        drop(kv.open_db(Instant::now())?);
        Ok(kv)
    }

    pub(crate) fn hold(&self) -> Result<SledHold<'_>> {
        let mut slot = self.lock_slot(Instant::now())?;
        if slot.closed {
            return Err(StateError::Closed);
        }
        if slot.held.is_none() {
            slot.held = Some(self.open_db(Instant::now())?);
        }
        Ok(SledHold { kv: self })
    }

    /// The in-process gate, waited for no longer than the timeout (a
    /// [`SledHold`] in another thread may keep it).
    fn lock_slot(&self, start: Instant) -> Result<MutexGuard<'_, Slot>> {
        let mut pause = Duration::from_micros(100);
        loop {
            match self.slot.try_lock() {
                Ok(slot) => return Ok(slot),
                Err(TryLockError::WouldBlock) => self.wait(start, &mut pause)?,
                Err(TryLockError::Poisoned(_)) => {
                    return Err(StateError::Internal("the sled store's lock is poisoned".into()));
                }
            }
        }
    }

    fn sled_error(&self, action: &'static str) -> impl Fn(sled::Error) -> StateError + '_ {
        move |source| StateError::Sled {
            action,
            path: self.path.clone(),
            source,
        }
    }

    /// Takes the global lock, then opens sled, both within the timeout.
    fn open_db(&self, start: Instant) -> Result<OpenDb> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|source| StateError::Io {
                action: "opening the lock file",
                path: self.lock_path.clone(),
                source,
            })?;
        let mut pause = Duration::from_micros(200);
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => self.wait(start, &mut pause)?,
                Err(fs::TryLockError::Error(source)) => {
                    return Err(StateError::Io {
                        action: "locking",
                        path: self.lock_path.clone(),
                        source,
                    });
                }
            }
        }
        loop {
            // No periodic flusher thread: every write flushes itself, and a
            // thread outliving the handle would keep sled's own lock busy.
            let opened = sled::Config::new().path(&self.path).flush_every_ms(None).open();
            match opened {
                Ok(db) => return Ok(OpenDb { db, _lock: lock }),
                // Only this process holds the global lock, so a busy sled
                // lock is a handle of ours still closing: wait for it.
                Err(sled::Error::Io(e)) if is_sled_lock_busy(&e) => self.wait(start, &mut pause)?,
                Err(source) => return Err(self.sled_error("opening")(source)),
            }
        }
    }

    fn wait(&self, start: Instant, pause: &mut Duration) -> Result<()> {
        if start.elapsed() >= self.timeout {
            return Err(StateError::Timeout {
                path: self.path.clone(),
                waited: start.elapsed(),
            });
        }
        thread::sleep(*pause);
        *pause = (*pause * 2).min(Duration::from_millis(5));
        Ok(())
    }

    fn with_db<R>(&self, f: impl FnOnce(&sled::Db) -> Result<R>) -> Result<R> {
        let start = Instant::now();
        let slot = self.lock_slot(start)?;
        if slot.closed {
            return Err(StateError::Closed);
        }
        match &slot.held {
            Some(open) => f(&open.db),
            None => {
                let open = self.open_db(start)?;
                f(&open.db)
            }
        }
    }
}

/// sled reports its busy file lock as an `Other` error wrapping `WouldBlock`.
fn is_sled_lock_busy(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

struct SledReader<'a> {
    kv: &'a SledKv,
    db: &'a sled::Db,
}

impl KvRead for SledReader<'_> {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>> {
        let value = self
            .db
            .get(flat_key(table, key))
            .map_err(self.kv.sled_error("reading a record"))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn visit(&self, table: Table, prefix: &str, visit: &mut Visitor<'_>) -> Result<()> {
        for entry in self.db.scan_prefix(flat_key(table, prefix)) {
            let (key, value) = entry.map_err(self.kv.sled_error("scanning records"))?;
            visit(key_str(&key[1..], table)?, &value)?;
        }
        Ok(())
    }
}

impl Backend for SledKv {
    fn read_txn<R>(&self, f: &mut dyn FnMut(&dyn KvRead) -> Result<R>) -> Result<R> {
        self.with_db(|db| f(&SledReader { kv: self, db }))
    }

    fn write_txn<R>(&self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<R>) -> Result<R> {
        self.with_db(|db| {
            // The global lock keeps every other writer out, so reading the
            // tree directly while collecting writes is isolated; the batch
            // then lands atomically.
            let reader = SledReader { kv: self, db };
            let mut overlay = Overlay::new(&reader);
            let out = f(&mut overlay)?;
            let mut batch = sled::Batch::default();
            for ((table, key), change) in overlay.into_changes() {
                match change {
                    Some(value) => batch.insert(flat_key(table, &key), value),
                    None => batch.remove(flat_key(table, &key)),
                }
            }
            db.apply_batch(batch).map_err(self.sled_error("writing a batch"))?;
            db.flush().map_err(self.sled_error("flushing"))?;
            Ok(out)
        })
    }

    fn close(&self) -> Result<()> {
        let mut slot = self.lock_slot(Instant::now())?;
        slot.held = None;
        slot.closed = true;
        Ok(())
    }
}
