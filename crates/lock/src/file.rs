//! Locks as files under one directory, held with `flock(LOCK_EX)`.
//!
//! Every `lock()` opens its own descriptor: flock excludes open file
//! descriptions, so two handles in one process exclude each other just as two
//! processes do, and closing the descriptor (or dying) releases the lock.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{LockError, LockGuard, LockManager, LockResult, Locker};

/// The directory under the runroot that holds the lock files.
pub const LOCKS_DIR_NAME: &str = "locks";

/// After this many numbers in a row turned out taken, the allocator reads the
/// directory to jump to the next gap instead of probing one by one.
const RESCAN_AFTER_MISSES: u32 = 64;

/// Numbers a file lock can have: every `u32`.
const FILE_LOCK_NUMBERS: u64 = 1 << 32;

/// A [`LockManager`] keeping lock `n` as the file `<dir>/n`. Allocating
/// creates the file exclusively (`O_CREAT|O_EXCL`), so processes sharing the
/// directory never hand out one number twice; freeing removes it.
#[derive(Debug, Clone)]
pub struct FileLockManager {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    /// Where the next allocation starts probing; `None` until the directory
    /// has been read once. Other processes may allocate or free at any time,
    /// so this is only a hint: creating the file is what claims a number.
    next_candidate: Mutex<Option<u32>>,
}

impl FileLockManager {
    /// A manager for the lock files in `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> LockResult<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| LockError::io("create lock directory", &dir, e))?;
        Ok(Self {
            shared: Arc::new(Shared {
                dir,
                next_candidate: Mutex::new(None),
            }),
        })
    }

    /// A manager for `<runroot>/locks`, corral's place for them.
    pub fn for_runroot(runroot: impl AsRef<Path>) -> LockResult<Self> {
        Self::new(runroot.as_ref().join(LOCKS_DIR_NAME))
    }

    /// The directory holding the lock files.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    fn locker(&self, id: u32) -> Box<dyn Locker> {
        Box::new(FileLocker {
            shared: Arc::clone(&self.shared),
            id,
            path: self.shared.path(id),
        })
    }
}

impl Shared {
    fn path(&self, id: u32) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// The allocated numbers: entries named by a number written the way
    /// `to_string` writes it. Anything else in the directory is ignored.
    fn scan(&self) -> LockResult<BTreeSet<u32>> {
        let entries = fs::read_dir(&self.dir).map_err(|e| LockError::io("read lock directory", &self.dir, e))?;
        let mut ids = BTreeSet::new();
        for entry in entries {
            let entry = entry.map_err(|e| LockError::io("read lock directory", &self.dir, e))?;
            let name = entry.file_name();
            if let Some(id) = name
                .to_str()
                .and_then(|name| name.parse::<u32>().ok().filter(|id| id.to_string() == name))
            {
                ids.insert(id);
            }
        }
        Ok(ids)
    }

    /// The lowest unallocated number at or above `start`.
    fn first_gap(&self, start: u32) -> LockResult<Option<u32>> {
        let mut candidate = start;
        for &id in self.scan()?.range(start..) {
            if id != candidate {
                break;
            }
            match candidate.checked_add(1) {
                Some(next) => candidate = next,
                None => return Ok(None),
            }
        }
        Ok(Some(candidate))
    }

    fn create(&self, id: u32) -> io::Result<()> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path(id))
            .map(drop)
    }

    fn allocate(&self) -> LockResult<u32> {
        let mut next_candidate = self.next_candidate.lock().unwrap_or_else(PoisonError::into_inner);
        let exhausted = || LockError::Exhausted {
            capacity: FILE_LOCK_NUMBERS,
        };
        let mut candidate = match *next_candidate {
            Some(candidate) => candidate,
            None => self.first_gap(0)?.ok_or_else(exhausted)?,
        };
        let mut misses = 0u32;
        loop {
            match self.create(candidate) {
                Ok(()) => {
                    *next_candidate = candidate.checked_add(1);
                    return Ok(candidate);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    misses += 1;
                    let following = if misses.is_multiple_of(RESCAN_AFTER_MISSES) {
                        self.first_gap(candidate)?
                    } else {
                        candidate.checked_add(1)
                    };
                    candidate = match following {
                        Some(next) => next,
                        None => self.first_gap(0)?.ok_or_else(exhausted)?,
                    };
                }
                Err(e) => return Err(LockError::io("create lock file", self.path(candidate), e)),
            }
        }
    }

    /// Lets the next allocation reuse `id` if it is lower than where it
    /// would start.
    fn number_freed(&self, id: u32) {
        let mut next_candidate = self.next_candidate.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(next) = *next_candidate
            && id < next
        {
            *next_candidate = Some(id);
        }
    }

    fn remove(&self, id: u32) -> LockResult<()> {
        let path = self.path(id);
        match fs::remove_file(&path) {
            Ok(()) => {
                self.number_freed(id);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(LockError::NoSuchLock { id }),
            Err(e) => Err(LockError::io("remove lock file", path, e)),
        }
    }
}

impl LockManager for FileLockManager {
    fn allocate_lock(&self) -> LockResult<Box<dyn Locker>> {
        let id = self.shared.allocate()?;
        Ok(self.locker(id))
    }

    fn retrieve_lock(&self, id: u32) -> LockResult<Box<dyn Locker>> {
        let path = self.shared.path(id);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(self.locker(id)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(LockError::NoSuchLock { id }),
            Err(e) => Err(LockError::io("inspect lock file", path, e)),
        }
    }

    fn allocate_given_lock(&self, id: u32) -> LockResult<Box<dyn Locker>> {
        match self.shared.create(id) {
            Ok(()) => Ok(self.locker(id)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(LockError::AlreadyAllocated { id }),
            Err(e) => Err(LockError::io("create lock file", self.shared.path(id), e)),
        }
    }

    fn free_all_locks(&self) -> LockResult<()> {
        for id in self.shared.scan()? {
            match self.shared.remove(id) {
                Ok(()) | Err(LockError::NoSuchLock { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn available_locks(&self) -> LockResult<Option<u64>> {
        Ok(None)
    }

    fn allocated_locks(&self) -> LockResult<Vec<u32>> {
        Ok(self.shared.scan()?.into_iter().collect())
    }

    fn locks_held(&self) -> LockResult<Vec<u32>> {
        let mut held = Vec::new();
        for id in self.shared.scan()? {
            let path = self.shared.path(id);
            let file = match File::open(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(LockError::io("open lock file", path, e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => held.push(id),
                Err(TryLockError::Error(e)) => return Err(LockError::io("try to lock lock file", path, e)),
            }
        }
        Ok(held)
    }
}

/// One file lock. Each `lock()` opens the file anew; the guard owns the
/// descriptor, and closing it releases the lock.
#[derive(Debug)]
struct FileLocker {
    shared: Arc<Shared>,
    id: u32,
    path: PathBuf,
}

impl FileLocker {
    fn open(&self) -> LockResult<File> {
        File::open(&self.path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => LockError::NoSuchLock { id: self.id },
            _ => LockError::io("open lock file", &self.path, e),
        })
    }

    /// Turns a locked descriptor into a guard, unless the lock was freed
    /// while we opened or waited: then the file we hold is no longer the one
    /// at the path (gone, or a new allocation of the same number).
    fn guard(&self, file: File) -> LockResult<LockGuard> {
        let held = file
            .metadata()
            .map_err(|e| LockError::io("inspect locked file", &self.path, e))?;
        match fs::symlink_metadata(&self.path) {
            Ok(current) if current.dev() == held.dev() && current.ino() == held.ino() => {
                Ok(LockGuard::new(self.id, file))
            }
            Ok(_) => Err(LockError::NoSuchLock { id: self.id }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(LockError::NoSuchLock { id: self.id }),
            Err(e) => Err(LockError::io("inspect lock file", &self.path, e)),
        }
    }
}

impl Locker for FileLocker {
    fn id(&self) -> u32 {
        self.id
    }

    fn lock(&self) -> LockResult<LockGuard> {
        let file = self.open()?;
        loop {
            match file.lock() {
                Ok(()) => return self.guard(file),
                // A signal handler without SA_RESTART interrupted the wait.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LockError::io("lock lock file", &self.path, e)),
            }
        }
    }

    fn try_lock(&self) -> LockResult<Option<LockGuard>> {
        let file = self.open()?;
        match file.try_lock() {
            Ok(()) => self.guard(file).map(Some),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(LockError::io("try to lock lock file", &self.path, e)),
        }
    }

    fn free(&self) -> LockResult<()> {
        self.shared.remove(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_starts_at_the_lowest_gap_left_by_others() {
        let dir = tempfile::tempdir().unwrap();
        for id in [0u32, 1, 3] {
            File::create(dir.path().join(id.to_string())).unwrap();
        }
        // Not lock files: must be neither counted nor block a number.
        File::create(dir.path().join("02")).unwrap();
        File::create(dir.path().join("tmp.lock")).unwrap();

        let manager = FileLockManager::new(dir.path()).unwrap();
        assert_eq!(manager.allocated_locks().unwrap(), vec![0, 1, 3]);
        assert_eq!(manager.allocate_lock().unwrap().id(), 2);
        assert_eq!(manager.allocate_lock().unwrap().id(), 4);
    }

    #[test]
    fn a_long_run_of_taken_numbers_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let manager = FileLockManager::new(dir.path()).unwrap();
        assert_eq!(manager.allocate_lock().unwrap().id(), 0);
        // Another process takes the next 500 numbers behind this one's back.
        for id in 1..=500u32 {
            File::create(dir.path().join(id.to_string())).unwrap();
        }
        assert_eq!(manager.allocate_lock().unwrap().id(), 501);
    }

    #[test]
    fn freeing_lets_the_number_be_reused() {
        let dir = tempfile::tempdir().unwrap();
        let manager = FileLockManager::new(dir.path()).unwrap();
        let locks: Vec<_> = (0..5).map(|_| manager.allocate_lock().unwrap()).collect();
        locks[1].free().unwrap();
        assert_eq!(manager.allocate_lock().unwrap().id(), 1);
        assert_eq!(manager.allocate_lock().unwrap().id(), 5);
    }

    #[test]
    fn the_top_number_wraps_to_the_lowest_gap() {
        let dir = tempfile::tempdir().unwrap();
        let manager = FileLockManager::new(dir.path()).unwrap();
        manager.allocate_given_lock(u32::MAX).unwrap();
        *manager.shared.next_candidate.lock().unwrap() = Some(u32::MAX);
        assert_eq!(manager.allocate_lock().unwrap().id(), 0);
    }

    #[test]
    fn a_waiter_does_not_get_a_lock_freed_while_it_waited() {
        let dir = tempfile::tempdir().unwrap();
        let manager = FileLockManager::new(dir.path()).unwrap();
        let lock = manager.allocate_lock().unwrap();
        let waiter = manager.retrieve_lock(lock.id()).unwrap();
        let guard = lock.lock().unwrap();
        std::thread::scope(|s| {
            let waiting = s.spawn(|| waiter.lock());
            std::thread::sleep(std::time::Duration::from_millis(200));
            lock.free().unwrap();
            // Same number again, a new file: the waiter's object is gone.
            manager.allocate_given_lock(lock.id()).unwrap();
            drop(guard);
            let err = waiting.join().unwrap().unwrap_err();
            assert!(
                matches!(err, LockError::NoSuchLock { id } if id == lock.id()),
                "{err:?}"
            );
        });
    }

    #[test]
    fn io_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("file");
        File::create(&not_a_dir).unwrap();
        let err = FileLockManager::new(not_a_dir.join("locks")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("create lock directory "), "{text}");
        assert!(text.contains(&not_a_dir.display().to_string()), "{text}");
    }
}
