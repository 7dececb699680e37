//! AllContainers: every container record, decoded on every core while the
//! backend is still lending rows.
//!
//! Decoding the JSON is most of the cost of a listing, so it starts before
//! the read ends: the scanning thread reads config and state rows in one
//! pass in the backend's own order ([`KvRead::visit_tables`]: for SQLite a
//! pass over the table's pages rather than an index walk with a seek per
//! row), copies them into chunks and hands each full chunk to decoding
//! threads; once the read transaction is over it decodes too. Each state is
//! then moved into its container's record.
//!
//! The records keep the backend's order, which for SQLite is about the order
//! of creation. Sorting them by ID afterwards would be cheap, but walking (or
//! dropping) records in an order other than the one they were allocated in
//! is not: dropping 10,000 records took three times as long in ID order.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use corral_define::{ContainerConfig, ContainerState};

use super::{decode, visible};
use crate::error::{Result, StateError};
use crate::kv::{KvRead, Table};
use crate::record::ContainerRecord;

/// Rows per chunk: small enough that the first chunk reaches the other
/// cores early, big enough that handing it over costs nothing.
const CHUNK_ROWS: usize = 128;

/// Rows copied into one buffer (two allocations, not two per row).
struct Rows {
    bytes: Vec<u8>,
    /// Per row: where its key ends and where its value ends in `bytes`.
    ends: Vec<(usize, usize)>,
}

impl Rows {
    fn new() -> Rows {
        Rows {
            bytes: Vec::new(),
            ends: Vec::with_capacity(CHUNK_ROWS),
        }
    }

    fn push(&mut self, key: &str, value: &[u8]) {
        self.bytes.extend_from_slice(key.as_bytes());
        let key_end = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.ends.push((key_end, self.bytes.len()));
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Each row's key and value, in order.
    fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let mut start = 0;
        self.ends.iter().map(move |&(key_end, end)| {
            // Keys were copied from `&str`s whole, so the slice is always UTF-8.
            let key = std::str::from_utf8(&self.bytes[start..key_end]).unwrap_or_default();
            let value = &self.bytes[key_end..end];
            start = end;
            (key, value)
        })
    }
}

/// A chunk of rows of one table, and its place in the scan.
struct Chunk {
    place: usize,
    table: Table,
    rows: Rows,
    /// The libpod namespace the listing is for.
    namespace: Arc<str>,
}

/// What a chunk decodes to.
enum Part {
    /// Records of visible containers, with default states.
    Configs(Vec<ContainerRecord>),
    /// States by container ID.
    States(Vec<(String, ContainerState)>),
}

type Decoded = (usize, Result<Part>);

impl Chunk {
    fn decode(&self) -> Decoded {
        (self.place, self.decode_rows())
    }

    fn decode_rows(&self) -> Result<Part> {
        if self.table == Table::CtrState {
            return self
                .rows
                .iter()
                .map(|(id, bytes)| Ok((id.to_owned(), decode(Table::CtrState, id, bytes)?)))
                .collect::<Result<_>>()
                .map(Part::States);
        }
        let mut records = Vec::with_capacity(self.rows.len());
        for (id, bytes) in self.rows.iter() {
            let config: ContainerConfig = decode(Table::CtrConfig, id, bytes)?;
            if visible(&self.namespace, &config.namespace) {
                records.push(ContainerRecord {
                    config,
                    state: ContainerState::default(),
                });
            }
        }
        Ok(Part::Configs(records))
    }
}

/// Decodes chunks from `chunks` until every sender is gone.
fn decode_received(chunks: &Mutex<Receiver<Chunk>>) -> Vec<Decoded> {
    let mut parts = Vec::new();
    loop {
        let next = match chunks.lock() {
            Ok(receiver) => receiver.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match next {
            Ok(chunk) => parts.push(chunk.decode()),
            Err(_) => return parts,
        }
    }
}

/// Hands `chunk` to the decoding threads, or decodes it here when there are none.
fn send(sender: &Sender<Chunk>, chunk: Chunk, parts: &mut Vec<Decoded>) {
    if let Err(mpsc::SendError(chunk)) = sender.send(chunk) {
        parts.push(chunk.decode());
    }
}

/// Every container visible in the namespace the read runs in, in the
/// backend's order, with its state when `load_state`. `read` runs its
/// argument in one read transaction of the backend.
pub(super) fn all_containers(
    read: impl FnOnce(&mut dyn FnMut(&dyn KvRead, &str) -> Result<()>) -> Result<()>,
    load_state: bool,
) -> Result<Vec<ContainerRecord>> {
    let helpers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) - 1;
    let tables: &[Table] = match load_state {
        true => &[Table::CtrConfig, Table::CtrState],
        false => &[Table::CtrConfig],
    };
    let (sender, receiver) = mpsc::channel::<Chunk>();
    // The receiver outlives the scope, whose decoding threads borrow it; the
    // sender lives and dies inside it, so that leaving early (an error) ends
    // those threads before the scope waits for them.
    let receiver = Mutex::new(receiver);
    let mut parts = std::thread::scope(|scope| {
        let sender = sender;
        let mut workers = None;
        let mut parts = Vec::new();
        let mut last = Vec::new();
        read(&mut |r, ns| {
            let namespace: Arc<str> = Arc::from(ns);
            let mut next_place = 0;
            let mut new_chunk = |table| {
                next_place += 1;
                Chunk {
                    place: next_place,
                    table,
                    rows: Rows::new(),
                    namespace: Arc::clone(&namespace),
                }
            };
            let mut filling: Vec<Chunk> = tables.iter().map(|&table| new_chunk(table)).collect();
            r.visit_tables(tables, &mut |table, key, value| {
                let Some(chunk) = filling.iter_mut().find(|chunk| chunk.table == table) else {
                    return Ok(());
                };
                chunk.rows.push(key, value);
                if chunk.rows.len() == CHUNK_ROWS {
                    // Threads only once the listing is big enough to pay for them.
                    workers.get_or_insert_with(|| {
                        (0..helpers)
                            .map(|_| scope.spawn(|| decode_received(&receiver)))
                            .collect::<Vec<_>>()
                    });
                    let full = std::mem::replace(chunk, new_chunk(table));
                    send(&sender, full, &mut parts);
                }
                Ok(())
            })?;
            last = filling;
            Ok(())
        })?;
        drop(sender);
        parts.extend(last.iter().map(Chunk::decode));
        parts.extend(decode_received(&receiver));
        for worker in workers.into_iter().flatten() {
            let theirs = worker
                .join()
                .map_err(|_| StateError::Internal("a decoding thread panicked".into()))?;
            parts.extend(theirs);
        }
        Ok(parts)
    })?;
    parts.sort_unstable_by_key(|(place, _)| *place);
    let mut configs = Vec::new();
    let mut states = Vec::new();
    for (_, part) in parts {
        match part? {
            Part::Configs(records) => configs.push(records),
            Part::States(found) => states.extend(found),
        }
    }
    let mut records = Vec::with_capacity(configs.iter().map(Vec::len).sum());
    configs.into_iter().for_each(|part| records.extend(part));
    if load_state {
        attach_states(&mut records, states)?;
    }
    Ok(records)
}

/// Moves each state into its container's record. States of containers
/// outside the namespace are left over; a container without a state is an
/// inconsistent database.
fn attach_states(records: &mut [ContainerRecord], states: Vec<(String, ContainerState)>) -> Result<()> {
    let (ids, mut states): (Vec<String>, Vec<ContainerState>) = states.into_iter().unzip();
    // Sorted and searched rather than hashed: SipHash over 10,000 IDs cost
    // more than sorting them.
    let mut by_id: Vec<(&str, usize)> = ids.iter().enumerate().map(|(at, id)| (id.as_str(), at)).collect();
    by_id.sort_unstable();
    for record in records {
        let found = by_id.binary_search_by(|(id, _)| (*id).cmp(record.id()));
        let at = found.map_err(|_| missing_state(record.id()))?;
        record.state = std::mem::take(&mut states[by_id[at].1]);
    }
    Ok(())
}

fn missing_state(id: &str) -> StateError {
    StateError::Internal(format!("inconsistent database: container {id} has no state"))
}
