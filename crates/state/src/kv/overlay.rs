//! Pending writes layered over a read snapshot, for backends whose native
//! transactions cannot both scan and write (sled) or have none (memory).

use std::collections::BTreeMap;

use super::{KvRead, KvWrite, Table, Visitor};
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

    fn visit(&self, table: Table, prefix: &str, visit: &mut Visitor<'_>) -> Result<()> {
        // Walk the base and the pending changes side by side, both in key order.
        let mut pending = self
            .changes
            .range((table, prefix.to_owned())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .map(|((_, k), change)| (k.as_str(), change.as_deref()))
            .peekable();
        self.base.visit(table, prefix, &mut |key, value| {
            while let Some((pending_key, change)) = pending.next_if(|(k, _)| *k < key) {
                if let Some(pending_value) = change {
                    visit(pending_key, pending_value)?;
                }
            }
            match pending.next_if(|(k, _)| *k == key) {
                Some((_, Some(pending_value))) => visit(key, pending_value),
                Some((_, None)) => Ok(()),
                None => visit(key, value),
            }
        })?;
        for (key, change) in pending {
            if let Some(value) = change {
                visit(key, value)?;
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Base(Vec<(&'static str, &'static [u8])>);

    impl KvRead for Base {
        fn get(&self, _: Table, key: &str) -> Result<Option<Vec<u8>>> {
            Ok(self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_vec()))
        }

        fn visit(&self, _: Table, prefix: &str, visit: &mut Visitor<'_>) -> Result<()> {
            self.0
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .try_for_each(|(k, v)| visit(k, v))
        }
    }

    #[test]
    fn visit_merges_pending_changes_in_key_order() {
        let base = Base(vec![("a/1", b"1"), ("a/3", b"3"), ("a/5", b"5"), ("b/1", b"x")]);
        let mut overlay = Overlay::new(&base);
        overlay.put(Table::Ids, "a/0", b"0".to_vec()).unwrap();
        overlay.put(Table::Ids, "a/2", b"2".to_vec()).unwrap();
        overlay.delete(Table::Ids, "a/3").unwrap();
        overlay.put(Table::Ids, "a/5", b"new".to_vec()).unwrap();
        overlay.put(Table::Ids, "a/9", b"9".to_vec()).unwrap();
        overlay.delete(Table::Ids, "a/8").unwrap();
        overlay.put(Table::Names, "a/4", b"other table".to_vec()).unwrap();
        let seen = overlay.scan(Table::Ids, "a/").unwrap();
        let expected: Vec<(String, Vec<u8>)> = [("a/0", "0"), ("a/1", "1"), ("a/2", "2"), ("a/5", "new"), ("a/9", "9")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(overlay.get(Table::Ids, "a/3").unwrap(), None);
    }
}
