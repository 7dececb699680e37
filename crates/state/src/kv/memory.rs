//! The in-memory backend: a map behind a mutex.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use super::{Backend, KvRead, KvWrite, Overlay, Table, Visitor};
use crate::error::{Result, StateError};

type Map = BTreeMap<(Table, String), Vec<u8>>;

/// Backend of [`crate::InMemoryState`]: nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: Mutex<Map>,
}

impl MemoryKv {
    fn lock(&self) -> Result<MutexGuard<'_, Map>> {
        self.map
            .lock()
            .map_err(|_| StateError::Internal("the in-memory state's lock is poisoned".into()))
    }
}

struct MapReader<'a>(&'a Map);

impl KvRead for MapReader<'_> {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(&(table, key.to_owned())).cloned())
    }

    fn visit(&self, table: Table, prefix: &str, visit: &mut Visitor<'_>) -> Result<()> {
        self.0
            .range((table, prefix.to_owned())..)
            .take_while(|((t, k), _)| *t == table && k.starts_with(prefix))
            .try_for_each(|((_, k), v)| visit(k, v))
    }
}

impl Backend for MemoryKv {
    fn read_txn<R>(&self, f: &mut dyn FnMut(&dyn KvRead) -> Result<R>) -> Result<R> {
        let map = self.lock()?;
        f(&MapReader(&map))
    }

    fn write_txn<R>(&self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<R>) -> Result<R> {
        let mut map = self.lock()?;
        let reader = MapReader(&map);
        let mut overlay = Overlay::new(&reader);
        let out = f(&mut overlay)?;
        let changes = overlay.into_changes();
        for (key, change) in changes {
            match change {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(out)
    }

    fn close(&self) -> Result<()> {
        Ok(())
    }
}
