//! The in-memory keyspace, usable on its own without the network.
//!
//! A [`Store`] holds numbered databases; each [`Db`] spreads its keys over [`SHARDS`]
//! `parking_lot` mutexes. Single-key operations lock one shard; multi-key operations lock the
//! shards they need in index order (the engine's lock sets, [`Db::lock_all`]), so they are
//! atomic and cannot deadlock. Whole-store operations (`FLUSHALL`, `SWAPDB`) lock databases in index order.
//!
//! ```
//! use ferrokv::store::{Store, Value};
//!
//! let store = Store::new(16);
//! let now = store.now();
//! let db = store.db(0);
//! db.lock(b"greeting").set(b"greeting", Value::string(b"hello".to_vec()), 0, now);
//! let got = db.lock(b"greeting").get(b"greeting", now).map(|e| e.value.clone());
//! assert_eq!(got, Some(Value::string(b"hello".to_vec())));
//! assert_eq!(store.dbsize(0), 1);
//! ```

pub mod bits;
pub mod clock;
mod entry;
pub mod evict;
pub mod geohash;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod key;
pub mod keyspace;
pub mod lazyfree;
pub mod list;
pub mod memory;
pub mod pack;
pub mod ranked;
pub mod rdb;
pub mod rdb_file;
pub mod set;
pub mod stream;
pub mod table;
pub mod value;
pub mod zset;

pub use clock::{Clock, ManualClock, SystemClock};
pub use keyspace::{Db, Entry, Shard, ShardStats, SHARDS};
pub use value::{StrEnc, Value};

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The hash of a key. Seeded randomly per process so clients cannot aim keys at one bucket.
pub fn hash_key(key: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(key)
}

/// What `used_memory` counts besides the data: the server's own fixed allocations (runtime,
/// tables, command registry, buffers), about what Redis reports as `used_memory_startup`.
/// Like Redis, an instance whose `maxmemory` is below it refuses every write that can grow
/// memory.
pub const STARTUP_ALLOCATED: u64 = 1024 * 1024;

/// Store-wide counters, shared by every shard.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes held for keys and values (see `memory`).
    pub used_memory: AtomicI64,
    pub evicted_keys: AtomicU64,
    /// `lfu-log-factor` and `lfu-decay-time`, mirrored from the configuration.
    pub lfu_log_factor: AtomicU32,
    pub lfu_decay_time: AtomicU32,
    /// The eviction policy is an LFU one: accesses update the LFU counter.
    pub lfu: std::sync::atomic::AtomicBool,
    /// Clients are paused (`CLIENT PAUSE`): expired keys read as missing but stay, so the
    /// dataset does not change until the pause ends.
    pub expiry_held: std::sync::atomic::AtomicBool,
    /// The highest `used_memory` seen, sampled as Redis does: by the server's periodic task
    /// (the active-expiry cycle, 10 times a second) and whenever it is read.
    pub peak_memory: AtomicU64,
    /// Objects handed to the lazyfree thread and not yet freed, and freed by it so far
    /// (`INFO memory`; see `lazyfree`).
    pub lazyfree_pending: AtomicU64,
    pub lazyfreed: AtomicU64,
}

pub struct Store {
    dbs: Box<[Db]>,
    /// Eviction candidates kept between evictions (see `evict`).
    pool: evict::Pool,
    counters: Arc<Counters>,
    clock: Arc<dyn Clock>,
}

impl Store {
    /// A store with `databases` databases and the system clock.
    pub fn new(databases: usize) -> Store {
        Store::with_clock(databases, Arc::new(SystemClock))
    }

    pub fn with_clock(databases: usize, clock: Arc<dyn Clock>) -> Store {
        let counters = Arc::new(Counters::default());
        counters.lfu_log_factor.store(10, Ordering::Relaxed);
        counters.lfu_decay_time.store(1, Ordering::Relaxed);
        let seed = clock.now_ms() ^ (std::process::id() as u64).rotate_left(32);
        let dbs = (0..databases.max(1))
            .map(|i| Db::new(&counters, seed.wrapping_add(i as u64)))
            .collect();
        Store {
            dbs,
            pool: evict::Pool::default(),
            counters,
            clock,
        }
    }

    /// The current time in Unix milliseconds, from the store's clock.
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn db(&self, index: usize) -> &Db {
        &self.dbs[index]
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Eviction candidates kept between evictions.
    pub fn pool(&self) -> &evict::Pool {
        &self.pool
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Bytes in use: the data's accounting plus `STARTUP_ALLOCATED`.
    pub fn used_memory(&self) -> u64 {
        self.counters.used_memory.load(Ordering::Relaxed).max(0) as u64 + STARTUP_ALLOCATED
    }

    /// `used_memory` now, noted as a candidate peak; returns the peak (`used_memory_peak`).
    pub fn sample_peak(&self) -> u64 {
        let used = self.used_memory();
        self.counters
            .peak_memory
            .fetch_max(used, Ordering::Relaxed)
            .max(used)
    }

    /// The shards' statistics added up (locks each shard in turn).
    pub fn stats(&self) -> keyspace::ShardStats {
        let mut total = keyspace::ShardStats::default();
        for db in self.dbs.iter() {
            for i in 0..SHARDS {
                total += db.lock_shard(i).stats;
            }
        }
        total
    }

    /// Zero the shards' statistics (`CONFIG RESETSTAT`, the end of an AOF load).
    pub fn reset_stats(&self) {
        for db in self.dbs.iter() {
            for i in 0..SHARDS {
                db.lock_shard(i).stats = Default::default();
            }
        }
    }

    pub fn dbsize(&self, db: usize) -> usize {
        self.dbs[db].len()
    }

    /// Remove every key of one database; returns how many were removed.
    pub fn flushdb(&self, db: usize) -> usize {
        self.dbs[db].lock_all().iter_mut().map(|s| s.clear()).sum()
    }

    pub fn flushall(&self) -> usize {
        (0..self.dbs.len()).map(|i| self.flushdb(i)).sum()
    }

    /// Exchange the contents of two databases atomically.
    pub fn swapdb(&self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let mut ga = self.dbs[lo].lock_all();
        let mut gb = self.dbs[hi].lock_all();
        for (x, y) in ga.iter_mut().zip(gb.iter_mut()) {
            x.swap_data(y);
        }
    }
}
