//! Pending writes layered over a read snapshot, for backends whose native
//! transactions cannot both scan and write (sled) or have none (memory).

use std::collections::BTreeMap;

use super::{KvRead, KvWrite, Table};
use crate::error::Result;

/// Writes kept aside until the operation succeeds; reads see them.
pub(crate) struct Overlay<'a> {
    base: &'a dyn KvRead,
    /// `None` marks a deletion.
    changes: BTreeMap<(Table, String), Option<Vec<u8>>>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn KvRead) -> Self {
        Self {
            base,
            changes: BTreeMap::new(),
        }
    }

    /// The writes to apply, in key order.
    pub(crate) fn into_changes(self) -> BTreeMap<(Table, String), Option<Vec<u8>>> {
        self.changes
    }
}

impl KvRead for Overlay<'_> {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>> {
        match self.changes.get(&(table, key.to_owned())) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(table, key),
        }
    }

    fn scan(&self, table: Table, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut merged: BTreeMap<String, Vec<u8>> = self.base.scan(table, prefix)?.into_iter().collect();
        let pending = self
            .changes
            .range((table, prefix.to_owned())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix));
        for ((_, key), change) in pending {
            match change {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }
}

impl KvWrite for Overlay<'_> {
    fn put(&mut self, table: Table, key: &str, value: Vec<u8>) -> Result<()> {
        self.changes.insert((table, key.to_owned()), Some(value));
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &str) -> Result<()> {
        self.changes.insert((table, key.to_owned()), None);
        Ok(())
    }
}
