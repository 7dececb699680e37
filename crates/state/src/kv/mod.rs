//! The small transactional key-value layer the store is written over.
//!
//! The State logic (names, namespaces, dependencies, pods, volumes, exec
//! sessions) is written once in [`crate::store`] against [`KvRead`] /
//! [`KvWrite`]: tables of string keys to JSON bytes with get, put, delete and
//! an ordered prefix scan, all inside one read or write transaction. Each
//! backend only has to make such a transaction atomic and isolated:
//!
//! - [`MemoryKv`]: a `BTreeMap` behind a mutex; writes go to an [`Overlay`]
//!   that is applied only when the whole operation succeeded.
//! - [`SqliteKv`]: one table keyed by (table, key); writes run in
//!   `BEGIN IMMEDIATE` transactions that roll back on any error. It is an
//!   ordinary rowid table, not `WITHOUT ROWID`: container records are 1-3 KB
//!   and a `WITHOUT ROWID` row keeps only about 1 KB on a 4 KB page, spilling
//!   every record to an overflow page (measured with 10,000 containers:
//!   62 MiB against 45 MiB, and no faster).
//! - [`SledKv`]: one sled tree with a table byte in front of every key; under
//!   a global file lock, writes go to an [`Overlay`] applied as one atomic
//!   sled batch and flushed. sled cannot scan inside its own transactions,
//!   hence the overlay; the global lock is what makes reading the tree
//!   directly while writing isolated.
//!
//! Writing the rules once is what makes the three backends behave
//! identically: they share every line that could disagree, and differ only
//! in how bytes reach the disk.

mod memory;
mod overlay;
mod sled_kv;
mod sqlite;

use std::fmt;

pub use memory::MemoryKv;
pub(crate) use overlay::Overlay;
pub use sled_kv::{SledHold, SledKv};
pub use sqlite::SqliteKv;

use crate::error::Result;

/// The store's tables. The numbers are part of the on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `db_config` -> DbConfig.
    Meta = 1,
    /// Container or pod ID -> IdEntry (kind, name, namespace).
    Ids = 2,
    /// Container or pod name -> ID.
    Names = 3,
    CtrConfig = 4,
    CtrState = 5,
    PodConfig = 6,
    PodState = 7,
    /// Volume name -> VolumeConfig.
    VolConfig = 8,
    VolState = 9,
    /// `dependency/dependent` -> empty: who depends on whom, by dependency.
    CtrDeps = 10,
    /// `volume/container` -> empty.
    VolUsers = 11,
    /// `pod/container` -> empty.
    PodMembers = 12,
    /// Exec session ID -> container ID.
    Exec = 13,
    /// `container/session` -> empty.
    CtrExec = 14,
    /// `container/network` -> PerNetworkOptions.
    Networks = 15,
}

impl Table {
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// Reads inside one transaction.
pub trait KvRead {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>>;
    /// Every entry of `table` whose key starts with `prefix`, ordered by key.
    fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>>;
}

/// Reads and writes inside one transaction; nothing is visible to others
/// until the transaction's closure returns `Ok`.
pub trait KvWrite: KvRead {
    fn put(&mut self, table: Table, key: &str, value: Vec<u8>) -> Result<()>;
    fn delete(&mut self, table: Table, key: &str) -> Result<()>;
}

/// A backend the store can run on. Public only so that the backend types
/// can appear in [`crate::Store`]'s parameter; it cannot be implemented
/// outside this crate.
pub trait Backend: Send + Sync + fmt::Debug + sealed::Sealed {
    /// Runs `f` in a read transaction (a consistent snapshot).
    #[doc(hidden)]
    fn read_txn<R>(&self, f: &mut dyn FnMut(&dyn KvRead) -> Result<R>) -> Result<R>;
    /// Runs `f` in a write transaction, committed only when it returns `Ok`.
    #[doc(hidden)]
    fn write_txn<R>(&self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<R>) -> Result<R>;
    /// Releases the backend's resources.
    #[doc(hidden)]
    fn close(&self) -> Result<()>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::MemoryKv {}
    impl Sealed for super::SqliteKv {}
    impl Sealed for super::SledKv {}
}

/// The key of `key` in `table` for backends with one flat key space.
pub(crate) fn flat_key(table: Table, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 1);
    out.push(table.code());
    out.extend_from_slice(key.as_bytes());
    out
}

/// The smallest byte string greater than every string starting with `prefix`,
/// or None when there is none.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
