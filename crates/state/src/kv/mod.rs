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
//!
//! Stored values are compact JSON (`serde_json`) in which fields holding
//! their default (empty string, list or map, `None`, `false`) are left out:
//! corral-define's record structs are all `#[serde(default)]`, so such a
//! field reads back as it was. A record written with every field, as corral
//! wrote them before, still reads. JSON stays because the records carry
//! free-form JSON (`spec`, `healthcheck`, `network_status`) and because
//! measurement showed no gain from a binary codec: with 10,000 containers,
//! MessagePack decoded in 79 ms against 85 ms for JSON and CBOR in 157 ms,
//! the cost being the records' allocations rather than the parsing. Leaving
//! out defaults made the same records 38% smaller and 25% faster to decode.
//!
//! [`KvRead::visit`] lends each row's bytes without copying, in key order;
//! [`KvRead::visit_tables`] lends every row of several tables in the
//! backend's own order, which for SQLite is one pass over the table's pages
//! rather than an index walk with a seek per row (with 10,000 containers,
//! 12.5 ms against 17.8 ms to copy out every config and state). A
//! `WITHOUT ROWID` table on 16 KiB pages scanned five times faster but put
//! every record above 4 KB (a config with its OCI spec) on an overflow page
//! of its own, tripling the file: the rowid table stays.

mod memory;
mod overlay;
mod sled_kv;
mod sqlite;

use std::fmt;

pub use memory::MemoryKv;
pub(crate) use overlay::Overlay;
pub use sled_kv::{SledHold, SledKv};
pub use sqlite::SqliteKv;

use crate::error::{Result, StateError};

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

/// What [`KvRead::visit`] calls with each entry: its key and value, borrowed
/// from the backend for the length of the call.
pub type Visitor<'v> = dyn FnMut(&str, &[u8]) -> Result<()> + 'v;

/// What [`KvRead::visit_tables`] calls with each entry: its table, key and
/// value, borrowed from the backend for the length of the call.
pub type TableVisitor<'v> = dyn FnMut(Table, &str, &[u8]) -> Result<()> + 'v;

/// Reads inside one transaction.
pub trait KvRead {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>>;

    /// Calls `visit` with every entry of `table` whose key starts with
    /// `prefix`, in key order, stopping at its first error. The bytes are
    /// lent, not copied: reading every container is one pass over the rows.
    fn visit(&self, table: Table, prefix: &str, visit: &mut Visitor<'_>) -> Result<()>;

    /// Calls `visit` with every entry of the tables in `tables`, in whatever
    /// order the backend keeps them, stopping at its first error. A backend
    /// that can read several tables in one pass over its storage does so:
    /// that is cheaper than [`KvRead::visit`]'s key order when the caller
    /// wants every row anyway.
    fn visit_tables(&self, tables: &[Table], visit: &mut TableVisitor<'_>) -> Result<()> {
        for &table in tables {
            self.visit(table, "", &mut |key, value| visit(table, key, value))?;
        }
        Ok(())
    }

    /// How many entries `table` has.
    fn count(&self, table: Table) -> Result<usize> {
        let mut count = 0;
        self.visit(table, "", &mut |_, _| {
            count += 1;
            Ok(())
        })?;
        Ok(count)
    }

    /// Every entry of `table` whose key starts with `prefix`, ordered by key.
    fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        self.visit(table, prefix, &mut |key, value| {
            out.push((key.to_owned(), value.to_vec()));
            Ok(())
        })?;
        Ok(out)
    }
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

/// A stored key as text; keys are written from `&str`, so anything else is corruption.
fn key_str(bytes: &[u8], table: Table) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| {
        StateError::Internal(format!(
            "a key of table {table:?} is not UTF-8: {:?}",
            String::from_utf8_lossy(bytes)
        ))
    })
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
