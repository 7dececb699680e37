//! The SQLite backend: one connection per store, WAL, `synchronous=FULL`,
//! `BEGIN IMMEDIATE` for writes, and SQLite's own locking for many processes.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior, params};

use super::{Backend, KvRead, KvWrite, Table, TableVisitor, Visitor, key_str, prefix_end};
use crate::error::{Result, StateError};

/// Backend of [`crate::SqliteState`].
#[derive(Debug)]
pub struct SqliteKv {
    path: PathBuf,
    timeout: Duration,
    /// None once closed. One connection per store: SQLite's POSIX locks are
    /// per process, so a second handle on the file must never be opened and
    /// closed beside it.
    conn: Mutex<Option<Connection>>,
}

/// Reads go through a memory map of the file rather than a `pread` per page:
/// a fresh process has an empty page cache, and listing every container
/// touches every page (with 10,000 containers, copying the rows out took
/// 70-100 ms of CPU against 150-170 ms with reads).
const MMAP_SIZE: u64 = 1 << 30;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS kv (
    t INTEGER NOT NULL,
    k BLOB NOT NULL,
    v BLOB NOT NULL,
    PRIMARY KEY (t, k)
);";

impl SqliteKv {
    pub(crate) fn open(path: &Path, timeout: Duration) -> Result<Self> {
        let err = |action| move |source| sqlite_error(action, path, timeout, source);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(err("opening the database"))?;
        conn.busy_timeout(timeout).map_err(err("setting the busy timeout"))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(err("switching to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StateError::Internal(format!(
                "SQLite database {} refused WAL mode (got {mode})",
                path.display()
            )));
        }
        conn.execute_batch(&format!(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA mmap_size={MMAP_SIZE};"
        ))
        .map_err(err("setting pragmas"))?;
        let kv = Self {
            path: path.to_owned(),
            timeout,
            conn: Mutex::new(Some(conn)),
        };
        kv.with_conn(|conn| {
            let has_schema: bool = conn
                .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'kv'", [], |row| {
                    row.get(0)
                })
                .map_err(err("reading the schema"))?;
            if !has_schema {
                conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
                    .map_err(err("creating the schema"))?;
            }
            Ok(())
        })?;
        Ok(kv)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<Connection>>> {
        self.conn
            .lock()
            .map_err(|_| StateError::Internal("the SQLite connection's lock is poisoned".into()))
    }

    fn with_conn<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R>) -> Result<R> {
        let mut guard = self.lock()?;
        let conn = guard.as_mut().ok_or(StateError::Closed)?;
        f(conn)
    }

    fn error(&self, action: &'static str) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        move |source| sqlite_error(action, &self.path, self.timeout, source)
    }
}

/// SQLite gives up with BUSY only once the busy timeout has passed.
fn sqlite_error(action: &'static str, path: &Path, timeout: Duration, source: rusqlite::Error) -> StateError {
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StateError::Timeout {
            path: path.to_owned(),
            waited: timeout,
        },
        _ => StateError::Sqlite {
            action,
            path: path.to_owned(),
            source,
        },
    }
}

struct SqliteTxn<'a> {
    kv: &'a SqliteKv,
    conn: &'a Connection,
}

impl KvRead for SqliteTxn<'_> {
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>> {
        let err = self.kv.error("reading a record");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT v FROM kv WHERE t = ?1 AND k = ?2")
            .map_err(&err)?;
        let mut rows = stmt.query(params![table.code(), key.as_bytes()]).map_err(&err)?;
        match rows.next().map_err(&err)? {
            Some(row) => Ok(Some(row.get(0).map_err(&err)?)),
            None => Ok(None),
        }
    }

    fn visit(&self, table: Table, prefix: &str, visit: &mut Visitor<'_>) -> Result<()> {
        let err = self.kv.error("scanning records");
        // Only the empty prefix has no end (UTF-8 has no 0xff byte).
        let end = prefix_end(prefix.as_bytes());
        let sql = match end {
            Some(_) => "SELECT k, v FROM kv WHERE t = ?1 AND k >= ?2 AND k < ?3 ORDER BY k",
            None => "SELECT k, v FROM kv WHERE t = ?1 ORDER BY k",
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(&err)?;
        let mut rows = match &end {
            Some(end) => stmt.query(params![table.code(), prefix.as_bytes(), end]),
            None => stmt.query(params![table.code()]),
        }
        .map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            let key = row.get_ref(0).map_err(&err)?.as_blob().map_err(|e| err(e.into()))?;
            let value = row.get_ref(1).map_err(&err)?.as_blob().map_err(|e| err(e.into()))?;
            visit(key_str(key, table)?, value)?;
        }
        Ok(())
    }

    fn count(&self, table: Table) -> Result<usize> {
        let err = self.kv.error("counting records");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT count(*) FROM kv WHERE t = ?1")
            .map_err(&err)?;
        let count: i64 = stmt.query_row(params![table.code()], |row| row.get(0)).map_err(&err)?;
        Ok(usize::try_from(count).unwrap_or_default())
    }

    fn visit_tables(&self, tables: &[Table], visit: &mut TableVisitor<'_>) -> Result<()> {
        let err = self.kv.error("scanning records");
        // NOT INDEXED: one pass over the table's own b-tree, in rowid order,
        // instead of the primary key index and a seek into the table per row.
        // SQLite skips the other tables' rows itself, which made a first
        // listing of 10,000 containers 10 ms faster than skipping them here.
        let codes: Vec<String> = tables.iter().map(|t| t.code().to_string()).collect();
        let sql = format!("SELECT t, k, v FROM kv NOT INDEXED WHERE t IN ({})", codes.join(", "));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            let code: u8 = row.get(0).map_err(&err)?;
            let Some(&table) = tables.iter().find(|t| t.code() == code) else {
                continue;
            };
            let key = row.get_ref(1).map_err(&err)?.as_blob().map_err(|e| err(e.into()))?;
            let value = row.get_ref(2).map_err(&err)?.as_blob().map_err(|e| err(e.into()))?;
            visit(table, key_str(key, table)?, value)?;
        }
        Ok(())
    }
}

impl KvWrite for SqliteTxn<'_> {
    fn put(&mut self, table: Table, key: &str, value: Vec<u8>) -> Result<()> {
        let err = self.kv.error("writing a record");
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO kv (t, k, v) VALUES (?1, ?2, ?3) ON CONFLICT (t, k) DO UPDATE SET v = excluded.v",
            )
            .map_err(&err)?;
        stmt.execute(params![table.code(), key.as_bytes(), value])
            .map_err(&err)?;
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &str) -> Result<()> {
        let err = self.kv.error("deleting a record");
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM kv WHERE t = ?1 AND k = ?2")
            .map_err(&err)?;
        stmt.execute(params![table.code(), key.as_bytes()]).map_err(&err)?;
        Ok(())
    }
}

impl Backend for SqliteKv {
    fn read_txn<R>(&self, f: &mut dyn FnMut(&dyn KvRead) -> Result<R>) -> Result<R> {
        self.with_conn(|conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(self.error("beginning a read transaction"))?;
            let out = f(&SqliteTxn { kv: self, conn: &tx })?;
            tx.commit().map_err(self.error("ending a read transaction"))?;
            Ok(out)
        })
    }

    fn write_txn<R>(&self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<R>) -> Result<R> {
        self.with_conn(|conn| {
            // IMMEDIATE takes the write lock up front, so two writers never
            // deadlock upgrading read locks; dropping `tx` on error rolls back.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(self.error("beginning a write transaction"))?;
            let out = f(&mut SqliteTxn { kv: self, conn: &tx })?;
            tx.commit().map_err(self.error("committing"))?;
            Ok(out)
        })
    }

    fn close(&self) -> Result<()> {
        let conn = self.lock()?.take();
        match conn {
            Some(conn) => conn.close().map_err(|(_, source)| self.error("closing")(source)),
            None => Ok(()),
        }
    }
}
