//! Eviction under `maxmemory`: Redis's sampled approximation of LRU, LFU, TTL and random.
//!
//! To evict one key, every database that has candidates gives `samples` random keys (all keys,
//! or only keys with a TTL for the `volatile-*` policies) from one random shard; the best
//! candidate of all samples is removed: the longest idle (LRU), the least frequently used
//! (LFU), the nearest expiry (TTL) or any (random). Like Redis, this never scans the keyspace,
//! so the cost per eviction is bounded by the sample size.

use super::keyspace::{is_expired, Shard};
use super::{Store, SHARDS};
use bytes::Bytes;
use std::sync::atomic::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllkeysLru,
    VolatileLru,
    AllkeysLfu,
    VolatileLfu,
    AllkeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn parse(s: &str) -> Policy {
        match s {
            "allkeys-lru" => Policy::AllkeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

/// Candidates kept between evictions (Redis's eviction pool size): the best keys seen in
/// earlier samples still compete with new ones, which makes the approximation much closer to
/// true LRU/LFU than picking the best of one sample.
pub const POOL_SIZE: usize = 16;

/// The eviction pool: (score, database, key), best first.
#[derive(Default)]
pub struct Pool(parking_lot::Mutex<Vec<(u64, usize, Bytes)>>);

impl Shard {
    /// Score `samples` random keys for eviction: (score, key), higher = better to evict.
    /// Expired keys met on the way score highest of all.
    pub fn eviction_candidates(
        &mut self,
        policy: Policy,
        samples: usize,
        now: u64,
        seed: u64,
    ) -> Vec<(u64, Bytes)> {
        let decay = self.counters().lfu_decay_time.load(Ordering::Relaxed);
        let mut out = Vec::with_capacity(samples);
        let mut rng = seed | 1;
        for _ in 0..samples {
            let Some((key, e)) = self.random_entry(policy.volatile(), &mut rng) else {
                break;
            };
            let score = if is_expired(e, now) {
                u64::MAX
            } else {
                match policy {
                    Policy::AllkeysLru | Policy::VolatileLru => {
                        (now / 1000).saturating_sub(e.access as u64)
                    }
                    Policy::AllkeysLfu | Policy::VolatileLfu => {
                        255 - e.decayed_freq(now, decay) as u64
                    }
                    Policy::VolatileTtl => u64::MAX - 1 - e.expire_at,
                    _ => rng >> 1,
                }
            };
            out.push((score, Bytes::copy_from_slice(key)));
        }
        out
    }
}

impl Store {
    /// Evict one key by `policy`: every database contributes `samples` random keys from one
    /// random shard to the eviction pool, and the pool's best key that still exists is
    /// removed. Returns the database and key evicted, or None when nothing can be evicted.
    pub fn evict_one(&self, policy: Policy, samples: usize, seed: u64) -> Option<(usize, Bytes)> {
        if policy == Policy::NoEviction {
            return None;
        }
        let now = self.now();
        let mut pool = self.pool.0.lock();
        let mut x = seed | 1;
        for db in 0..self.databases() {
            let d = self.db(db);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let start = (x % SHARDS as u64) as usize;
            for off in 0..SHARDS {
                let i = (start + off) % SHARDS;
                let mut g = d.lock_shard(i);
                let empty = if policy.volatile() {
                    g.expires_len() == 0
                } else {
                    g.is_empty()
                };
                if empty {
                    continue;
                }
                for (score, key) in g.eviction_candidates(policy, samples, now, x) {
                    match pool
                        .iter_mut()
                        .find(|(_, pdb, pkey)| *pdb == db && *pkey == key)
                    {
                        Some(slot) => slot.0 = score,
                        None => pool.push((score, db, key)),
                    }
                }
                break;
            }
        }
        pool.sort_by_key(|c| std::cmp::Reverse(c.0));
        pool.truncate(POOL_SIZE);
        // Take the best candidate that still exists (pool entries can be stale).
        while !pool.is_empty() {
            let (_, db, key) = pool.remove(0);
            let mut g = self.db(db).lock(&key);
            let eligible = match g.get(&key, now) {
                Some(e) => !policy.volatile() || e.expire_at != 0,
                None => false,
            };
            if eligible && g.remove(&key, now).is_some() {
                self.counters().evicted_keys.fetch_add(1, Ordering::Relaxed);
                return Some((db, key));
            }
        }
        None
    }
}
