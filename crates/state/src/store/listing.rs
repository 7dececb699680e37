//! AllContainers: every container record, decoded on every core while the
//! backend is still lending rows, each straight into its place in the list.
//!
//! Decoding the JSON is most of the cost of a listing, so it starts before
//! the read ends: the scanning thread reads config and state rows in one
//! pass in the backend's own order ([`KvRead::visit_tables`]: for SQLite a
//! pass over the table's pages rather than an index walk with a seek per
//! row), copies them into chunks and hands each full pair of chunks (the
//! n-th chunk of configs with the n-th chunk of states) to decoding
//! threads; once the read transaction is over it decodes too.
//!
//! The list is made at its full length before the scan starts (the read
//! counts the configs first) and each pair of chunks decodes into its own
//! window of it. Building a list per chunk and joining them afterwards
//! copied every record a second time into memory the process had never
//! touched: 12 of 80 ms with 10,000 containers.
//!
//! A state usually sits at the same place among the states as its config
//! among the configs: the SQLite backend keeps rows in the order they were
//! added and updates them in place, and the others keep both tables in ID
//! order. The pair's decoder checks that the keys agree; a state that is
//! elsewhere is kept aside and joined by ID at the end.
//!
//! The records keep the backend's order, which for SQLite is the order of
//! creation. Sorting them by ID afterwards would be cheap, but walking (or
//! dropping) records in an order other than the one they were allocated in
//! is not: dropping 10,000 records took three times as long in ID order.

use std::collections::VecDeque;
use std::mem::MaybeUninit;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use corral_define::ContainerState;

use super::{decode, decode_into, visible};
use crate::error::{Result, StateError};
use crate::kv::{KvRead, Table};
use crate::record::ContainerRecord;

/// Rows per chunk: small enough that the first chunk reaches the other
/// cores early, big enough that handing it over costs nothing.
const CHUNK_ROWS: usize = 128;

/// Rows copied into one buffer (two allocations, not two per row).
#[derive(Default)]
struct Rows {
    bytes: Vec<u8>,
    /// Per row: where its key ends and where its value ends in `bytes`.
    ends: Vec<(usize, usize)>,
}

impl Rows {
    /// Room for a chunk of rows about `bytes` long in all.
    fn with_capacity(bytes: usize) -> Rows {
        Rows {
            bytes: Vec::with_capacity(bytes),
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

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
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

/// The rows of one table being copied into chunks, and the full chunks
/// waiting for their partner from the other table.
struct Filling {
    rows: Rows,
    full: VecDeque<Rows>,
}

impl Filling {
    fn new() -> Filling {
        Filling {
            rows: Rows::with_capacity(0),
            full: VecDeque::new(),
        }
    }

    fn push(&mut self, key: &str, value: &[u8]) {
        self.rows.push(key, value);
        if self.rows.len() == CHUNK_ROWS {
            // The next chunk is about as big as this one.
            let next = Rows::with_capacity(self.rows.bytes.len());
            self.full.push_back(std::mem::replace(&mut self.rows, next));
        }
    }

    /// Queues the last, partly filled chunk.
    fn finish(&mut self) {
        if !self.rows.is_empty() {
            self.full.push_back(std::mem::take(&mut self.rows));
        }
    }
}

/// The n-th chunk of configs and the n-th chunk of states, and the window
/// of the list their records go to.
struct Job<'list> {
    /// The scan position of the first config, which is also its record's
    /// index in the list.
    first: usize,
    configs: Rows,
    states: Rows,
    /// Whether the listing wants states: a config must then find its own.
    with_states: bool,
    window: &'list mut [ContainerRecord],
    /// The libpod namespace the listing is for.
    namespace: Arc<str>,
}

/// What a job leaves for the end of the listing.
#[derive(Default)]
struct Leftovers {
    /// Indexes of the list that stay empty: containers of other namespaces.
    holes: Vec<usize>,
    /// Indexes of records whose state was not beside their config.
    stateless: Vec<usize>,
    /// States found beside another config, by container ID.
    states: Vec<(String, ContainerState)>,
}

impl Job<'_> {
    fn run(self) -> Result<Leftovers> {
        let mut left = Leftovers::default();
        let mut states = self.states.iter();
        let mut slots = self.window.iter_mut();
        for (at, (id, bytes)) in (self.first..).zip(self.configs.iter()) {
            let slot = slots.next().ok_or_else(|| counted_wrong(at))?;
            decode_into(Table::CtrConfig, id, bytes, &mut slot.config)?;
            let shown = visible(&self.namespace, &slot.config.namespace);
            match states.next() {
                Some((key, state)) if key == id => {
                    if shown {
                        decode_into(Table::CtrState, key, state, &mut slot.state)?;
                    }
                }
                other => {
                    if let Some((key, state)) = other {
                        left.states.push((key.to_owned(), decode(Table::CtrState, key, state)?));
                    }
                    if shown && self.with_states {
                        left.stateless.push(at);
                    }
                }
            }
            if !shown {
                left.holes.push(at);
            }
        }
        for (key, state) in states {
            left.states.push((key.to_owned(), decode(Table::CtrState, key, state)?));
        }
        Ok(left)
    }
}

fn counted_wrong(at: usize) -> StateError {
    StateError::Internal(format!(
        "the container configs read ({at} so far) disagree with their count taken in the same transaction"
    ))
}

/// Runs jobs from `jobs` until every sender is gone.
fn run_received(jobs: &Mutex<Receiver<Job<'_>>>) -> Vec<Result<Leftovers>> {
    let mut done = Vec::new();
    loop {
        let next = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match next {
            Ok(job) => done.push(job.run()),
            Err(_) => return done,
        }
    }
}

/// Every container visible in the namespace the read runs in, in the
/// backend's order, with its state when `load_state`. `read` runs its
/// argument once, in one read transaction of the backend.
pub(super) fn all_containers(
    read: impl FnOnce(&mut dyn FnMut(&dyn KvRead, &str) -> Result<()>) -> Result<()>,
    load_state: bool,
) -> Result<Vec<ContainerRecord>> {
    let helpers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) - 1;
    let tables: &[Table] = match load_state {
        true => &[Table::CtrConfig, Table::CtrState],
        false => &[Table::CtrConfig],
    };
    let mut records = Vec::new();
    let mut unlent = Some(&mut records);
    let (sender, receiver) = mpsc::channel::<Job>();
    // The receiver outlives the scope, whose decoding threads borrow it; the
    // sender lives and dies inside it, so that leaving early (an error) ends
    // those threads before the scope waits for them.
    let receiver = Mutex::new(receiver);
    let done = std::thread::scope(|scope| {
        let sender = sender;
        let mut workers = None;
        let mut done = Vec::new();
        let mut last = Vec::new();
        read(&mut |r, ns| {
            let records = unlent
                .take()
                .ok_or_else(|| StateError::Internal("a listing read ran twice".into()))?;
            let counted = r.count(Table::CtrConfig)?;
            records.reserve_exact(counted);
            advise_huge_pages(records.spare_capacity_mut());
            records.resize_with(counted, ContainerRecord::default);
            let mut windows = records.chunks_mut(CHUNK_ROWS);
            let mut first = 0;
            let namespace: Arc<str> = Arc::from(ns);
            let mut configs = Filling::new();
            let mut states = Filling::new();
            // Pairs the chunks waiting on both sides (every config chunk
            // alone when states are not wanted); `flush` also pairs a chunk
            // that has no partner with an empty one.
            let mut pair = |configs: &mut Filling, states: &mut Filling, flush: bool| -> Result<Vec<Job>> {
                let mut jobs = Vec::new();
                loop {
                    let (have_configs, have_states) = (!configs.full.is_empty(), !states.full.is_empty());
                    let go = match flush {
                        true => have_configs || have_states,
                        false => have_configs && (have_states || !load_state),
                    };
                    if !go {
                        return Ok(jobs);
                    }
                    let config_rows = configs.full.pop_front().unwrap_or_default();
                    let window = match config_rows.len() {
                        0 => Default::default(),
                        _ => windows.next().ok_or_else(|| counted_wrong(first))?,
                    };
                    let job_first = first;
                    first += config_rows.len();
                    jobs.push(Job {
                        first: job_first,
                        configs: config_rows,
                        states: states.full.pop_front().unwrap_or_default(),
                        with_states: load_state,
                        window,
                        namespace: Arc::clone(&namespace),
                    });
                }
            };
            r.visit_tables(tables, &mut |table, key, value| {
                match table {
                    Table::CtrConfig => configs.push(key, value),
                    _ => states.push(key, value),
                }
                for job in pair(&mut configs, &mut states, false)? {
                    // Threads only once the listing is big enough to pay for them.
                    workers.get_or_insert_with(|| {
                        (0..helpers)
                            .map(|_| scope.spawn(|| run_received(&receiver)))
                            .collect::<Vec<_>>()
                    });
                    if let Err(mpsc::SendError(job)) = sender.send(job) {
                        done.push(job.run());
                    }
                }
                Ok(())
            })?;
            configs.finish();
            states.finish();
            last = pair(&mut configs, &mut states, true)?;
            match first == counted {
                true => Ok(()),
                false => Err(counted_wrong(first)),
            }
        })?;
        drop(sender);
        done.extend(last.into_iter().map(Job::run));
        done.extend(run_received(&receiver));
        for worker in workers.into_iter().flatten() {
            let theirs = worker
                .join()
                .map_err(|_| StateError::Internal("a decoding thread panicked".into()))?;
            done.extend(theirs);
        }
        Ok(done)
    })?;
    // The jobs' windows borrowed the list for as long as their channel lived.
    drop(receiver);
    let mut left = Leftovers::default();
    for part in done {
        let part = part?;
        left.holes.extend(part.holes);
        left.stateless.extend(part.stateless);
        left.states.extend(part.states);
    }
    attach_states(&mut records, left.stateless, left.states)?;
    if !left.holes.is_empty() {
        left.holes.sort_unstable();
        let mut at = 0;
        records.retain(|_| {
            at += 1;
            left.holes.binary_search(&(at - 1)).is_err()
        });
    }
    Ok(records)
}

/// Asks the kernel to back `memory` with transparent huge pages where it
/// covers whole ones. The list of 10,000 records is 16 MiB that the process
/// has never touched: 4,000 page faults in 4 KiB pages took 8 ms of a first
/// listing, against 2 ms in 2 MiB ones. Only advice: where the kernel has
/// them off, nothing changes.
fn advise_huge_pages<T>(memory: &mut [MaybeUninit<T>]) {
    const HUGE_PAGE: usize = 2 << 20;
    let start = memory.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(memory);
    let (from, to) = (start.div_ceil(HUGE_PAGE) * HUGE_PAGE, end / HUGE_PAGE * HUGE_PAGE);
    if to > from {
        // SAFETY: madvise(2) with MADV_HUGEPAGE on whole pages inside memory
        // this process owns changes how they are backed, never their contents.
        unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
    }
}

/// Moves the states that were not beside their configs into the records at
/// `stateless`. A container without a state is an inconsistent database;
/// states of containers outside the namespace are left over.
fn attach_states(
    records: &mut [ContainerRecord],
    stateless: Vec<usize>,
    states: Vec<(String, ContainerState)>,
) -> Result<()> {
    if stateless.is_empty() {
        return Ok(());
    }
    let (ids, mut states): (Vec<String>, Vec<ContainerState>) = states.into_iter().unzip();
    // Sorted and searched rather than hashed: SipHash over 10,000 IDs cost
    // more than sorting them.
    let mut by_id: Vec<(&str, usize)> = ids.iter().enumerate().map(|(at, id)| (id.as_str(), at)).collect();
    by_id.sort_unstable();
    for at in stateless {
        let record = records.get_mut(at).ok_or_else(|| counted_wrong(at))?;
        let found = by_id.binary_search_by(|(id, _)| (*id).cmp(record.id()));
        let at = found.map_err(|_| missing_state(record.id()))?;
        record.state = std::mem::take(&mut states[by_id[at].1]);
    }
    Ok(())
}

fn missing_state(id: &str) -> StateError {
    StateError::Internal(format!("inconsistent database: container {id} has no state"))
}
