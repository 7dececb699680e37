//! One suite run against every `LockManager` backend (podman's
//! `runForAllStates` habit), plus a property test against a model set.

// Helpers outside #[test] fns are test code too: a failed step should panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use corral_define::{ErrorKind, HasKind};
use corral_lock::{FileLockManager, InProcessLockManager, LockError, LockManager, Locker};
use proptest::prelude::*;
use tempfile::TempDir;

/// A manager and whatever must live as long as it (the file backend's
/// directory, removed when this is dropped).
struct Backend {
    manager: Box<dyn LockManager>,
    _dir: Option<TempDir>,
}

fn file_backend() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let manager = FileLockManager::for_runroot(dir.path()).unwrap();
    Backend {
        manager: Box::new(manager),
        _dir: Some(dir),
    }
}

fn in_process_backend() -> Backend {
    Backend {
        manager: Box::new(InProcessLockManager::new()),
        _dir: None,
    }
}

macro_rules! for_all_backends {
    ($($case:ident),* $(,)?) => {
        mod file {
            $(#[test] fn $case() { super::$case(&*super::file_backend().manager) })*
        }
        mod in_process {
            $(#[test] fn $case() { super::$case(&*super::in_process_backend().manager) })*
        }
    };
}

for_all_backends!(
    allocated_locks_are_distinct_and_retrievable,
    an_unallocated_number_is_no_such_lock,
    a_given_number_is_allocated_once,
    a_freed_lock_is_gone,
    free_all_frees_everything,
    a_held_lock_excludes_other_handles,
    lock_timeout_gives_up_with_timeout,
    lock_timeout_gets_a_lock_released_during_the_wait,
    threads_with_their_own_handles_exclude_each_other,
    threads_sharing_one_handle_exclude_each_other,
    a_guard_can_be_released_on_another_thread,
    locks_held_lists_the_held_ones,
    ten_thousand_locks,
);

fn allocated_locks_are_distinct_and_retrievable(manager: &dyn LockManager) {
    assert_eq!(manager.available_locks().unwrap(), None);
    let ids: Vec<u32> = (0..20).map(|_| manager.allocate_lock().unwrap().id()).collect();
    assert_eq!(ids, (0..20).collect::<Vec<_>>(), "lowest free numbers first");
    for &id in &ids {
        assert_eq!(manager.retrieve_lock(id).unwrap().id(), id);
    }
    assert_eq!(manager.allocated_locks().unwrap(), ids);
}

fn an_unallocated_number_is_no_such_lock(manager: &dyn LockManager) {
    let err = manager.retrieve_lock(42).unwrap_err();
    assert!(matches!(err, LockError::NoSuchLock { id: 42 }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::NoSuchObject);
}

fn a_given_number_is_allocated_once(manager: &dyn LockManager) {
    assert_eq!(manager.allocate_given_lock(1).unwrap().id(), 1);
    let err = manager.allocate_given_lock(1).unwrap_err();
    assert!(matches!(err, LockError::AlreadyAllocated { id: 1 }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidArg);
    assert_eq!(manager.allocate_lock().unwrap().id(), 0);
    assert_eq!(
        manager.allocate_lock().unwrap().id(),
        2,
        "allocation skips the given number"
    );
    assert_eq!(manager.allocate_given_lock(4_000_000_000).unwrap().id(), 4_000_000_000);
    assert_eq!(manager.allocated_locks().unwrap(), vec![0, 1, 2, 4_000_000_000]);
}

fn a_freed_lock_is_gone(manager: &dyn LockManager) {
    let lock = manager.allocate_lock().unwrap();
    let other = manager.allocate_lock().unwrap();
    let id = lock.id();
    lock.free().unwrap();
    assert!(matches!(
        manager.retrieve_lock(id).unwrap_err(),
        LockError::NoSuchLock { .. }
    ));
    assert!(matches!(lock.free().unwrap_err(), LockError::NoSuchLock { .. }));
    assert!(matches!(lock.lock().unwrap_err(), LockError::NoSuchLock { .. }));
    assert!(matches!(lock.try_lock().unwrap_err(), LockError::NoSuchLock { .. }));
    assert_eq!(manager.allocated_locks().unwrap(), vec![other.id()]);
    // The number is reused, and the new lock works.
    let again = manager.allocate_lock().unwrap();
    assert_eq!(again.id(), id);
    assert!(again.try_lock().unwrap().is_some());
}

fn free_all_frees_everything(manager: &dyn LockManager) {
    let locks: Vec<_> = (0..5).map(|_| manager.allocate_lock().unwrap()).collect();
    let _held = locks[2].lock().unwrap();
    manager.free_all_locks().unwrap();
    assert_eq!(manager.allocated_locks().unwrap(), Vec::<u32>::new());
    assert!(manager.locks_held().unwrap().is_empty());
    for lock in &locks {
        assert!(matches!(
            manager.retrieve_lock(lock.id()).unwrap_err(),
            LockError::NoSuchLock { .. }
        ));
    }
    // Refresh re-creates the numbers the store remembers.
    assert_eq!(manager.allocate_given_lock(3).unwrap().id(), 3);
    assert_eq!(manager.allocate_lock().unwrap().id(), 0);
}

fn a_held_lock_excludes_other_handles(manager: &dyn LockManager) {
    let lock = manager.allocate_lock().unwrap();
    let same = manager.retrieve_lock(lock.id()).unwrap();
    let guard = lock.lock().unwrap();
    assert_eq!(guard.id(), lock.id());
    assert!(same.try_lock().unwrap().is_none());
    assert!(lock.try_lock().unwrap().is_none(), "not reentrant");
    guard.unlock();
    let guard = same.try_lock().unwrap().expect("free after unlock");
    assert!(lock.try_lock().unwrap().is_none());
    drop(guard);
    assert!(lock.try_lock().unwrap().is_some());
}

fn lock_timeout_gives_up_with_timeout(manager: &dyn LockManager) {
    let lock = manager.allocate_lock().unwrap();
    let same = manager.retrieve_lock(lock.id()).unwrap();
    let _guard = lock.lock().unwrap();
    let start = Instant::now();
    let err = same.lock_timeout(Duration::from_millis(100)).unwrap_err();
    let waited = start.elapsed();
    assert!(
        matches!(err, LockError::Timeout { id, .. } if id == lock.id()),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(waited >= Duration::from_millis(100), "gave up early: {waited:?}");
    assert!(waited < Duration::from_secs(2), "gave up late: {waited:?}");
}

fn lock_timeout_gets_a_lock_released_during_the_wait(manager: &dyn LockManager) {
    let lock = manager.allocate_lock().unwrap();
    let same = manager.retrieve_lock(lock.id()).unwrap();
    assert!(same.lock_timeout(Duration::ZERO).is_ok(), "a free lock needs no wait");
    let guard = lock.lock().unwrap();
    thread::scope(|s| {
        let waiter = s.spawn(|| same.lock_timeout(Duration::from_secs(10)).map(|g| g.id()));
        thread::sleep(Duration::from_millis(50));
        drop(guard);
        assert_eq!(waiter.join().unwrap().unwrap(), lock.id());
    });
}

/// Runs `threads` workers that each take the lock `rounds` times through
/// `handle_for(worker)` and check nobody else is inside meanwhile. The
/// counter is bumped with a separate load and store so that overlapping
/// sections lose updates.
fn exclusion_run(threads: usize, rounds: u64, handle_for: impl Fn(usize) -> Arc<dyn Locker>) {
    let inside = AtomicBool::new(false);
    let counter = AtomicU64::new(0);
    thread::scope(|s| {
        for worker in 0..threads {
            let handle = handle_for(worker);
            let (inside, counter) = (&inside, &counter);
            s.spawn(move || {
                for _ in 0..rounds {
                    let _guard = handle.lock().unwrap();
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    let seen = counter.load(Ordering::SeqCst);
                    thread::yield_now();
                    counter.store(seen + 1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(counter.load(Ordering::SeqCst), threads as u64 * rounds);
}

fn threads_with_their_own_handles_exclude_each_other(manager: &dyn LockManager) {
    let id = manager.allocate_lock().unwrap().id();
    exclusion_run(4, 300, |_| Arc::from(manager.retrieve_lock(id).unwrap()));
}

fn threads_sharing_one_handle_exclude_each_other(manager: &dyn LockManager) {
    let shared: Arc<dyn Locker> = Arc::from(manager.allocate_lock().unwrap());
    exclusion_run(4, 300, |_| Arc::clone(&shared));
}

fn a_guard_can_be_released_on_another_thread(manager: &dyn LockManager) {
    let lock = manager.allocate_lock().unwrap();
    let guard = lock.lock().unwrap();
    let (sender, receiver) = mpsc::channel();
    sender.send(guard).unwrap();
    thread::spawn(move || drop(receiver.recv().unwrap())).join().unwrap();
    assert!(lock.try_lock().unwrap().is_some());
}

fn locks_held_lists_the_held_ones(manager: &dyn LockManager) {
    let locks: Vec<_> = (0..4).map(|_| manager.allocate_lock().unwrap()).collect();
    assert!(manager.locks_held().unwrap().is_empty());
    let first = locks[1].lock().unwrap();
    let second = locks[3].lock().unwrap();
    assert_eq!(manager.locks_held().unwrap(), vec![1, 3]);
    drop(first);
    assert_eq!(manager.locks_held().unwrap(), vec![3]);
    drop(second);
    assert!(manager.locks_held().unwrap().is_empty());
}

fn ten_thousand_locks(manager: &dyn LockManager) {
    const COUNT: u32 = 10_000;
    let start = Instant::now();
    let ids: BTreeSet<u32> = (0..COUNT).map(|_| manager.allocate_lock().unwrap().id()).collect();
    let allocating = start.elapsed();
    assert_eq!(ids.len(), COUNT as usize);
    assert_eq!(manager.allocated_locks().unwrap().len(), COUNT as usize);
    assert_eq!(manager.available_locks().unwrap(), None, "no pool to run out of");
    let last = manager.retrieve_lock(COUNT - 1).unwrap();
    assert!(last.try_lock().unwrap().is_some());
    let start = Instant::now();
    manager.free_all_locks().unwrap();
    let freeing = start.elapsed();
    assert!(manager.allocated_locks().unwrap().is_empty());
    let backend = format!("{manager:?}");
    let backend = backend.split_whitespace().next().unwrap_or_default();
    println!("{backend}: allocated {COUNT} locks in {allocating:?}, freed them all in {freeing:?}");
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Op {
    Allocate,
    AllocateGiven(u32),
    Retrieve(u32),
    Free(u32),
    LockAndRelease(u32),
    FreeAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Allocate),
        2 => (0u32..24).prop_map(Op::AllocateGiven),
        2 => (0u32..24).prop_map(Op::Retrieve),
        3 => (0u32..24).prop_map(Op::Free),
        2 => (0u32..24).prop_map(Op::LockAndRelease),
        1 => Just(Op::FreeAll),
    ]
}

/// Applies `ops` to `manager` and to a model set of allocated numbers, and
/// checks after each step that they agree.
fn check_against_model(manager: &dyn LockManager, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model = BTreeSet::new();
    for op in ops {
        match *op {
            Op::Allocate => {
                let lowest_free = (0..).find(|n| !model.contains(n)).unwrap();
                let id = manager.allocate_lock().unwrap().id();
                prop_assert_eq!(id, lowest_free);
                model.insert(id);
            }
            Op::AllocateGiven(id) => {
                let result = manager.allocate_given_lock(id);
                if model.insert(id) {
                    prop_assert_eq!(result.unwrap().id(), id);
                } else {
                    let refused = matches!(result, Err(LockError::AlreadyAllocated { .. }));
                    prop_assert!(refused, "{:?}", result);
                }
            }
            Op::Retrieve(id) => match manager.retrieve_lock(id) {
                Ok(lock) => prop_assert!(model.contains(&id) && lock.id() == id),
                Err(LockError::NoSuchLock { .. }) => prop_assert!(!model.contains(&id)),
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            },
            Op::Free(id) => {
                let result = manager.retrieve_lock(id).and_then(|lock| lock.free());
                prop_assert_eq!(result.is_ok(), model.remove(&id));
            }
            Op::LockAndRelease(id) => {
                let result = manager.retrieve_lock(id).and_then(|lock| lock.try_lock());
                match result {
                    Ok(guard) => prop_assert!(model.contains(&id) && guard.is_some()),
                    Err(e) => prop_assert!(!model.contains(&id), "{e}"),
                }
            }
            Op::FreeAll => {
                manager.free_all_locks().unwrap();
                model.clear();
            }
        }
        prop_assert_eq!(
            manager.allocated_locks().unwrap(),
            model.iter().copied().collect::<Vec<_>>()
        );
        prop_assert!(manager.locks_held().unwrap().is_empty());
    }
    Ok(())
}

proptest! {
    // Integration tests have no lib.rs for proptest to store regressions beside.
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn file_backend_matches_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        check_against_model(&*file_backend().manager, &ops)?;
    }

    #[test]
    fn in_process_backend_matches_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        check_against_model(&*in_process_backend().manager, &ops)?;
    }
}
