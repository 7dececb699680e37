//! Locks kept in this process's memory: nothing on disk, nothing shared with
//! other processes. For tests and for embedding corral in one program.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::{LockError, LockGuard, LockManager, LockResult, Locker};

/// An in-memory [`LockManager`], unlimited by default or with a fixed pool of
/// numbers `0..capacity` like podman's SHM locks. Clones share the locks.
#[derive(Debug, Clone, Default)]
pub struct InProcessLockManager {
    registry: Arc<Mutex<Registry>>,
    capacity: Option<u32>,
}

#[derive(Debug, Default)]
struct Registry {
    slots: BTreeMap<u32, Arc<Slot>>,
    /// Lowest number that may be free: every number below it is allocated.
    next_candidate: u32,
}

#[derive(Debug, Default)]
struct Slot {
    held: Mutex<bool>,
    released: Condvar,
}

/// Our critical sections only flip a flag or edit a map, so a panic while
/// holding one leaves consistent data: ignore poisoning.
fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InProcessLockManager {
    /// A manager with no limit on the number of locks.
    pub fn new() -> Self {
        Self::default()
    }

    /// A manager handing out at most `capacity` locks, numbered
    /// `0..capacity`.
    pub fn with_capacity(capacity: u32) -> Self {
        Self {
            registry: Arc::default(),
            capacity: Some(capacity),
        }
    }

    fn locker(&self, id: u32, slot: Arc<Slot>) -> Box<dyn Locker> {
        Box::new(InProcessLocker {
            registry: Arc::clone(&self.registry),
            id,
            slot,
        })
    }

    fn in_range(&self, id: u32) -> bool {
        self.capacity.is_none_or(|capacity| id < capacity)
    }
}

impl LockManager for InProcessLockManager {
    fn allocate_lock(&self) -> LockResult<Box<dyn Locker>> {
        let mut registry = lock_ignoring_poison(&self.registry);
        let exhausted = || LockError::Exhausted {
            capacity: self.capacity.map_or(1 << 32, u64::from),
        };
        let mut candidate = registry.next_candidate;
        while registry.slots.contains_key(&candidate) {
            candidate = candidate.checked_add(1).ok_or_else(exhausted)?;
        }
        if !self.in_range(candidate) {
            return Err(exhausted());
        }
        let slot = Arc::new(Slot::default());
        registry.slots.insert(candidate, Arc::clone(&slot));
        registry.next_candidate = candidate.saturating_add(1);
        Ok(self.locker(candidate, slot))
    }

    fn retrieve_lock(&self, id: u32) -> LockResult<Box<dyn Locker>> {
        let registry = lock_ignoring_poison(&self.registry);
        let slot = registry.slots.get(&id).ok_or(LockError::NoSuchLock { id })?;
        Ok(self.locker(id, Arc::clone(slot)))
    }

    fn allocate_given_lock(&self, id: u32) -> LockResult<Box<dyn Locker>> {
        if let Some(capacity) = self.capacity
            && id >= capacity
        {
            return Err(LockError::OutOfRange { id, capacity });
        }
        let mut registry = lock_ignoring_poison(&self.registry);
        if registry.slots.contains_key(&id) {
            return Err(LockError::AlreadyAllocated { id });
        }
        let slot = Arc::new(Slot::default());
        registry.slots.insert(id, Arc::clone(&slot));
        Ok(self.locker(id, slot))
    }

    fn free_all_locks(&self) -> LockResult<()> {
        let mut registry = lock_ignoring_poison(&self.registry);
        registry.slots.clear();
        registry.next_candidate = 0;
        Ok(())
    }

    fn available_locks(&self) -> LockResult<Option<u64>> {
        let allocated = lock_ignoring_poison(&self.registry).slots.len() as u64;
        Ok(self
            .capacity
            .map(|capacity| u64::from(capacity).saturating_sub(allocated)))
    }

    fn allocated_locks(&self) -> LockResult<Vec<u32>> {
        Ok(lock_ignoring_poison(&self.registry).slots.keys().copied().collect())
    }

    fn locks_held(&self) -> LockResult<Vec<u32>> {
        let registry = lock_ignoring_poison(&self.registry);
        Ok(registry
            .slots
            .iter()
            .filter(|(_, slot)| *lock_ignoring_poison(&slot.held))
            .map(|(&id, _)| id)
            .collect())
    }
}

#[derive(Debug)]
struct InProcessLocker {
    registry: Arc<Mutex<Registry>>,
    id: u32,
    slot: Arc<Slot>,
}

/// Releases a slot when a guard is dropped.
struct SlotRelease(Arc<Slot>);

impl Drop for SlotRelease {
    fn drop(&mut self) {
        *lock_ignoring_poison(&self.0.held) = false;
        self.0.released.notify_one();
    }
}

impl InProcessLocker {
    /// Turns a taken slot into a guard, unless the lock was freed meanwhile
    /// (the registry no longer has this slot under our number).
    fn guard(&self) -> LockResult<LockGuard> {
        let release = SlotRelease(Arc::clone(&self.slot));
        let registry = lock_ignoring_poison(&self.registry);
        match registry.slots.get(&self.id) {
            Some(current) if Arc::ptr_eq(current, &self.slot) => Ok(LockGuard::new(self.id, release)),
            _ => Err(LockError::NoSuchLock { id: self.id }),
        }
    }

    /// Waits for the slot to be free until `deadline` (forever when `None`)
    /// and takes it; false when the deadline passed first.
    fn take(&self, deadline: Option<Instant>) -> bool {
        let mut held = lock_ignoring_poison(&self.slot.held);
        while *held {
            held = match deadline {
                None => self.slot.released.wait(held).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.slot
                        .released
                        .wait_timeout(held, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        *held = true;
        true
    }
}

impl Locker for InProcessLocker {
    fn id(&self) -> u32 {
        self.id
    }

    fn lock(&self) -> LockResult<LockGuard> {
        self.take(None);
        self.guard()
    }

    fn try_lock(&self) -> LockResult<Option<LockGuard>> {
        {
            let mut held = lock_ignoring_poison(&self.slot.held);
            if *held {
                return Ok(None);
            }
            *held = true;
        }
        self.guard().map(Some)
    }

    fn lock_timeout(&self, timeout: Duration) -> LockResult<LockGuard> {
        if self.take(Some(Instant::now() + timeout)) {
            self.guard()
        } else {
            Err(LockError::Timeout { id: self.id, timeout })
        }
    }

    fn free(&self) -> LockResult<()> {
        let mut registry = lock_ignoring_poison(&self.registry);
        match registry.slots.get(&self.id) {
            Some(current) if Arc::ptr_eq(current, &self.slot) => {
                registry.slots.remove(&self.id);
                registry.next_candidate = registry.next_candidate.min(self.id);
                Ok(())
            }
            _ => Err(LockError::NoSuchLock { id: self.id }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_pool_runs_out_and_refills() {
        let manager = InProcessLockManager::with_capacity(2);
        assert_eq!(manager.available_locks().unwrap(), Some(2));
        let first = manager.allocate_lock().unwrap();
        let _second = manager.allocate_lock().unwrap();
        assert_eq!(manager.available_locks().unwrap(), Some(0));
        let err = manager.allocate_lock().unwrap_err();
        assert!(matches!(err, LockError::Exhausted { capacity: 2 }), "{err:?}");
        first.free().unwrap();
        assert_eq!(manager.allocate_lock().unwrap().id(), first.id());
    }

    #[test]
    fn a_given_number_beyond_the_pool_is_refused() {
        let manager = InProcessLockManager::with_capacity(4);
        let err = manager.allocate_given_lock(4).unwrap_err();
        assert!(matches!(err, LockError::OutOfRange { id: 4, capacity: 4 }), "{err:?}");
        assert_eq!(manager.allocate_given_lock(3).unwrap().id(), 3);
    }

    #[test]
    fn a_stale_handle_cannot_touch_a_reallocated_number() {
        let manager = InProcessLockManager::new();
        let old = manager.allocate_lock().unwrap();
        old.free().unwrap();
        let new = manager.allocate_given_lock(old.id()).unwrap();
        assert!(matches!(old.free().unwrap_err(), LockError::NoSuchLock { .. }));
        assert!(matches!(old.lock().unwrap_err(), LockError::NoSuchLock { .. }));
        // The failed attempt must not leave the old slot marked held.
        assert!(new.try_lock().unwrap().is_some());
        assert_eq!(manager.allocated_locks().unwrap(), vec![old.id()]);
    }
}
