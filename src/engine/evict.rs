//! Eviction under `maxmemory`, driven through lock sets so every eviction is a keyspace event
//! (logged as `DEL`) raised under the evicted key's lock. The sampling and scoring are the
//! store's (`store::evict`).

use super::events::{Event, EventKind};
use super::{Engine, LockSet};
use crate::store::evict::Policy;
use crate::store::SHARDS;
use std::sync::atomic::Ordering;

/// Most keys evicted for one command, so a huge overshoot cannot stall a client for long.
pub const MAX_EVICTIONS_PER_COMMAND: usize = 10_000;

pub fn over_maxmemory(engine: &Engine) -> bool {
    let max = engine.hot.maxmemory.load(Ordering::Relaxed);
    max != 0 && engine.store.used_memory() > max
}

/// Evict keys while used memory is over `maxmemory`; false when it stays over (nothing more
/// can be evicted). The caller holds no shard lock.
pub fn make_room(engine: &Engine, now: u64) -> bool {
    let max = engine.hot.maxmemory.load(Ordering::Relaxed);
    let store = &engine.store;
    if max == 0 || store.used_memory() <= max {
        return true;
    }
    // Paused clients: the dataset stays as it is (as in Redis, commands go on).
    if engine.pause.current(now, store) != super::pause::PauseKind::Off {
        return true;
    }
    let policy = *engine.hot.policy.read();
    let samples = engine.hot.samples.load(Ordering::Relaxed) as usize;
    let mut seed = now ^ store.used_memory().rotate_left(17);
    for _ in 0..MAX_EVICTIONS_PER_COMMAND {
        if store.used_memory() <= max {
            return true;
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if !evict_one(engine, policy, samples, seed) {
            return false;
        }
    }
    store.used_memory() <= max
}

/// Evict one key by `policy`: every database contributes `samples` random keys from one
/// random shard to the eviction pool, and the pool's best key that still exists is removed.
/// False when nothing can be evicted.
pub fn evict_one(engine: &Engine, policy: Policy, samples: usize, seed: u64) -> bool {
    if policy == Policy::NoEviction {
        return false;
    }
    let store = &engine.store;
    let now = store.now();
    let mut x = seed | 1;
    let mut candidates = Vec::new();
    for db in 0..store.databases() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let start = (x % SHARDS as u64) as usize;
        for off in 0..SHARDS {
            let i = (start + off) % SHARDS;
            let mut set = LockSet::one(engine, db, i);
            let g = set.shard_at(db, i);
            let empty = if policy.volatile() {
                g.expires_len() == 0
            } else {
                g.is_empty()
            };
            if empty {
                continue;
            }
            for (score, key) in g.eviction_candidates(policy, samples, now, x) {
                candidates.push((score, db, key));
            }
            break;
        }
    }
    let pool = store.pool();
    pool.offer(candidates);
    // Take the best candidate that still exists (pool entries can be stale).
    while let Some((db, key)) = pool.take_best() {
        let mut set = LockSet::new(engine, &mut [super::locks::slot(db, &key)]);
        let g = set.shard(db, &key);
        let eligible = match g.get(&key, now) {
            Some(e) => !policy.volatile() || e.expire_at != 0,
            None => false,
        };
        if eligible && g.remove(&key, now).is_some() {
            store
                .counters()
                .evicted_keys
                .fetch_add(1, Ordering::Relaxed);
            let sink = engine.sink();
            engine.raise(
                Event {
                    db,
                    key,
                    kind: EventKind::Evicted,
                    origin: 0,
                },
                sink.as_deref(),
            );
            return true;
        }
    }
    false
}
