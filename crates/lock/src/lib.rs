//! corral's per-object locks, after podman's `libpod/lock`: every container,
//! pod and volume owns one numbered lock, taken around each operation so that
//! concurrent corral processes see each other's changes whole.
//!
//! - [`LockManager`] allocates, retrieves and frees numbered locks.
//! - [`Locker`] is one lock: [`Locker::lock`] blocks and returns a
//!   [`LockGuard`] that releases the lock when dropped; [`Locker::try_lock`]
//!   and [`Locker::lock_timeout`] do not wait forever.
//! - [`FileLockManager`] keeps one file per lock (`<runroot>/locks/<n>`) and
//!   locks it with `flock`, so a lock dies with the process that held it and
//!   there is no fixed pool to exhaust.
//! - [`InProcessLockManager`] keeps locks in memory, for tests and embedding.
//!
//! ```
//! use std::time::Duration;
//! use corral_define::{ErrorKind, HasKind};
//! use corral_lock::{FileLockManager, LockManager};
//!
//! let runroot = tempfile::tempdir().unwrap();
//! let manager = FileLockManager::for_runroot(runroot.path()).unwrap();
//!
//! let lock = manager.allocate_lock().unwrap();
//! assert!(runroot.path().join("locks").join(lock.id().to_string()).exists());
//!
//! // Another handle to the same lock, as a second process would get it.
//! let same = manager.retrieve_lock(lock.id()).unwrap();
//! let guard = lock.lock().unwrap();
//! assert!(same.try_lock().unwrap().is_none());
//! let err = same.lock_timeout(Duration::from_millis(20)).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Timeout);
//! drop(guard);
//! assert!(same.try_lock().unwrap().is_some());
//!
//! lock.free().unwrap();
//! assert_eq!(manager.retrieve_lock(lock.id()).unwrap_err().kind(), ErrorKind::NoSuchObject);
//! ```

mod error;
mod file;
mod in_process;

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

pub use error::LockError;
pub use file::{FileLockManager, LOCKS_DIR_NAME};
pub use in_process::InProcessLockManager;

/// The result of every lock operation.
pub type LockResult<T> = Result<T, LockError>;

/// Hands out numbered locks. The number is what an object's record stores
/// (`lock_id`), so any process can find the same lock again.
pub trait LockManager: Send + Sync + fmt::Debug {
    /// Allocates a lock that no one else holds a number for.
    fn allocate_lock(&self) -> LockResult<Box<dyn Locker>>;

    /// A handle to an allocated lock. Fails with [`LockError::NoSuchLock`]
    /// when the number is not allocated.
    fn retrieve_lock(&self, id: u32) -> LockResult<Box<dyn Locker>>;

    /// Allocates exactly this number and returns its handle, for refresh
    /// and renumber that restore numbers kept in the store. Fails with
    /// [`LockError::AlreadyAllocated`] when the number is taken.
    #[doc(alias = "AllocateAndRetrieveLock")]
    fn allocate_given_lock(&self, id: u32) -> LockResult<Box<dyn Locker>>;

    /// Frees every lock, held or not. Only for refresh and renumber, when
    /// the caller knows no other process is using the locks.
    fn free_all_locks(&self) -> LockResult<()>;

    /// How many more locks can be allocated; `None` when there is no limit.
    fn available_locks(&self) -> LockResult<Option<u64>>;

    /// The allocated lock numbers, ascending.
    fn allocated_locks(&self) -> LockResult<Vec<u32>>;

    /// The allocated locks that someone (this process included) holds right
    /// now, ascending; a snapshot for debugging, like `podman system locks`.
    fn locks_held(&self) -> LockResult<Vec<u32>>;
}

/// One numbered lock. Locks are not reentrant: locking twice from one
/// thread without dropping the first guard waits forever.
pub trait Locker: Send + Sync + fmt::Debug {
    /// The lock's number.
    fn id(&self) -> u32;

    /// Waits until the lock is free and takes it.
    fn lock(&self) -> LockResult<LockGuard>;

    /// Takes the lock if it is free now; `Ok(None)` when someone holds it.
    fn try_lock(&self) -> LockResult<Option<LockGuard>>;

    /// Like [`Locker::lock`], but gives up with [`LockError::Timeout`] once
    /// `timeout` has passed.
    fn lock_timeout(&self, timeout: Duration) -> LockResult<LockGuard> {
        poll_lock(self, timeout)
    }

    /// Frees the lock's number so it can be allocated again. A guard that is
    /// still alive keeps excluding only handles opened before the free.
    fn free(&self) -> LockResult<()>;
}

/// Proof that a lock is held; dropping it releases the lock. It may be sent
/// to and dropped on another thread.
pub struct LockGuard {
    id: u32,
    _held: Box<dyn Send>,
}

impl LockGuard {
    /// A guard for lock `id` whose `held` value releases the lock when it is
    /// dropped; for backends outside this crate.
    pub fn new(id: u32, held: impl Send + 'static) -> Self {
        Self {
            id,
            _held: Box::new(held),
        }
    }

    /// The number of the lock this guard holds.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Releases the lock now; the same as dropping the guard.
    pub fn unlock(self) {}
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// First and longest pause between two attempts of [`poll_lock`]: short
/// enough that a released lock is seen quickly, long enough not to spin.
const POLL_FIRST_PAUSE: Duration = Duration::from_micros(50);
const POLL_LONGEST_PAUSE: Duration = Duration::from_millis(5);

/// Retries `try_lock` with growing pauses until `timeout` has passed.
pub(crate) fn poll_lock<L: Locker + ?Sized>(locker: &L, timeout: Duration) -> LockResult<LockGuard> {
    let deadline = Instant::now() + timeout;
    let mut pause = POLL_FIRST_PAUSE;
    loop {
        if let Some(guard) = locker.try_lock()? {
            return Ok(guard);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(LockError::Timeout {
                id: locker.id(),
                timeout,
            });
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(POLL_LONGEST_PAUSE);
    }
}
