//! Heap patterns: memory that stays reachable, so neither the borrow checker nor any leak checker
//! at exit would ever call it a leak.
//!
//!   append-slice     a global Vec gets one 2 KiB record per request and is never trimmed.
//!                    Fix: a ring of RING_SLOTS records; the oldest is overwritten.
//!   request-context  each request's session (its target and 2 KiB of scratch) goes into a global
//!                    Mutex<HashMap> keyed by request id, and nobody ever removes it.
//!                    Fix: removed when the request ends (a guard's Drop, so a panic removes it
//!                    too), plus a purge by age for sessions a guard never ended.
//!   steady-cache     the control: an LRU cache of CACHE_ENTRIES values of 2 KiB. It fills during
//!                    the first thousand or so misses, then evicts one entry per miss: in-use heap
//!                    climbs to ~2 MiB and stays flat under any load. Not a leak.
//!
//! Each allocation that persists happens inside the pattern's own `#[inline(never)]` function;
//! `record` is `#[inline(always)]` so that no function of ours sits between the pattern and the
//! allocator (a shared helper would be the innermost frame of our code on the leak's stack, its
//! fix's and the cache's alike).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{lock, CAP_REACHED};

/// Bytes of one leaked record, and of one session's scratch.
pub const LEAK_BYTES: usize = 2048;
/// Safety cap per pattern, in leaked items for the life of the process (x 2 KiB: ~128 MiB).
pub const CAP_HEAP_ITEMS: usize = 65536;

const RING_SLOTS: usize = 256;
const SESSION_MAX_AGE: Duration = Duration::from_secs(10);
const CACHE_ENTRIES: usize = 1024;

/// Leaky: grows by one record per request, never trimmed.
static APPENDED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Fixed: at most RING_SLOTS records; `next` is where the next one goes.
struct Ring {
    slots: Vec<Vec<u8>>,
    next: usize,
}
static RING: Mutex<Ring> = Mutex::new(Ring {
    slots: Vec::new(),
    next: 0,
});

struct Session {
    started: Instant,
    target: String,
    scratch: Vec<u8>, // per-request working memory (parsed headers, auth claims, ...)
}

/// Leaky: a session per request id, never removed. (None until the first request: HashMap::new
/// is not const.)
static SESSIONS: Mutex<Option<HashMap<i64, Session>>> = Mutex::new(None);

/// Fixed: each session lives for its request (or SESSION_MAX_AGE at most).
struct LiveSessions {
    map: HashMap<i64, Session>,
    inserts_since_purge: usize,
}
static LIVE_SESSIONS: Mutex<Option<LiveSessions>> = Mutex::new(None);

/// The steady cache: values by key, plus their recency (stamp -> key; the smallest stamp is the
/// least recently used). Invariant: `order` holds exactly one stamp per key of `values`, and
/// values.len() <= CACHE_ENTRIES.
struct Lru {
    values: HashMap<i64, (u64, Vec<u8>)>,
    order: BTreeMap<u64, i64>,
    clock: u64,
}
static CACHE: Mutex<Option<Lru>> = Mutex::new(None);

/// A LEAK_BYTES record stamped with `id`: inlined into each pattern, see the top of the file.
#[inline(always)]
fn record(id: i64) -> Vec<u8> {
    let mut r = vec![b'.'; LEAK_BYTES];
    r[..8].copy_from_slice(&id.to_le_bytes());
    r
}

/// Pretends to use the session: the request's work.
fn work_on(session: &Session) -> u64 {
    let sum: u64 = session.target.bytes().map(u64::from).sum();
    sum + u64::from(session.scratch[0]) + session.started.elapsed().as_secs()
}

#[inline(never)]
pub fn leak_append_slice(request_id: i64) -> i64 {
    let mut appended = lock(&APPENDED);
    if appended.len() >= CAP_HEAP_ITEMS {
        return CAP_REACHED;
    }
    appended.push(record(request_id));
    appended.len() as i64
}

#[inline(never)]
pub fn fixed_append_slice(request_id: i64) -> i64 {
    let mut ring = lock(&RING);
    let r = record(request_id);
    if ring.slots.len() < RING_SLOTS {
        ring.slots.push(r);
    } else {
        let at = ring.next % RING_SLOTS;
        ring.slots[at] = r;
    }
    ring.next += 1;
    ring.slots.len() as i64
}

#[inline(never)]
pub fn leak_request_context(request_id: i64, target: &str) -> i64 {
    let mut guard = lock(&SESSIONS);
    let sessions = guard.get_or_insert_with(HashMap::new);
    if sessions.len() >= CAP_HEAP_ITEMS {
        return CAP_REACHED;
    }
    let session = Session {
        started: Instant::now(),
        target: target.to_string(),
        scratch: vec![0; LEAK_BYTES],
    };
    work_on(&session);
    sessions.insert(request_id, session); // and nobody ever removes it
    sessions.len() as i64
}

/// The fixed variant's scope: its session leaves the map with the request, even on a panic.
struct EndSession(i64);

impl Drop for EndSession {
    fn drop(&mut self) {
        if let Some(live) = lock(&LIVE_SESSIONS).as_mut() {
            live.map.remove(&self.0);
        }
    }
}

#[inline(never)]
pub fn fixed_request_context(request_id: i64, target: &str) -> i64 {
    let _end = EndSession(request_id);
    let mut guard = lock(&LIVE_SESSIONS);
    let live = guard.get_or_insert_with(|| LiveSessions {
        map: HashMap::new(),
        inserts_since_purge: 0,
    });
    let session = Session {
        started: Instant::now(),
        target: target.to_string(),
        scratch: vec![0; LEAK_BYTES],
    };
    work_on(&session);
    live.map.insert(request_id, session);
    live.inserts_since_purge += 1;
    if live.inserts_since_purge >= 256 {
        // The safety net for sessions whose request died without its guard running.
        live.inserts_since_purge = 0;
        live.map
            .retain(|_, s| s.started.elapsed() <= SESSION_MAX_AGE);
    }
    let held = live.map.len() as i64;
    drop(guard); // before _end takes the lock again
    held
}

#[inline(never)]
pub fn steady_cache_lookup(key: i64) -> i64 {
    let mut guard = lock(&CACHE);
    let lru = guard.get_or_insert_with(|| Lru {
        values: HashMap::new(),
        order: BTreeMap::new(),
        clock: 0,
    });
    lru.clock += 1;
    let now = lru.clock;
    if let Some((stamp, _)) = lru.values.get_mut(&key) {
        lru.order.remove(stamp); // hit: now the most recent
        *stamp = now;
        lru.order.insert(now, key);
        return lru.values.len() as i64;
    }
    if lru.values.len() >= CACHE_ENTRIES {
        // Full: evict the least recently used. (BTreeMap::pop_first is newer than Rust 1.63.)
        let oldest = lru.order.iter().next().map(|(&stamp, &k)| (stamp, k));
        if let Some((stamp, k)) = oldest {
            lru.order.remove(&stamp);
            lru.values.remove(&k);
        }
    }
    lru.values.insert(key, (now, record(key)));
    lru.order.insert(now, key);
    lru.values.len() as i64
}
