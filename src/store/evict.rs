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

impl Shard {
    /// The best eviction candidate among `samples` random keys: (score, key), higher score
    /// = better to evict. Expired keys met on the way are the best candidates of all.
    pub fn eviction_candidate(
        &mut self,
        policy: Policy,
        samples: usize,
        now: u64,
        seed: u64,
    ) -> Option<(u64, Bytes)> {
        let decay = self.counters().lfu_decay_time.load(Ordering::Relaxed);
        let mut best: Option<(u64, Bytes)> = None;
        let mut rng = seed | 1;
        for _ in 0..samples {
            let picked = self.random_entry(policy.volatile(), &mut rng)?;
            let (key, e) = picked;
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
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, Bytes::copy_from_slice(key)));
            }
        }
        best
    }
}

impl Store {
    /// Evict one key by `policy`, sampling `samples` keys per database. Returns the database
    /// and key evicted, or None when nothing can be evicted.
    pub fn evict_one(&self, policy: Policy, samples: usize, seed: u64) -> Option<(usize, Bytes)> {
        if policy == Policy::NoEviction {
            return None;
        }
        let now = self.now();
        let mut best: Option<(u64, usize, Bytes)> = None;
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
                if let Some((score, key)) = g.eviction_candidate(policy, samples, now, x) {
                    if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                        best = Some((score, db, key));
                    }
                }
                break;
            }
        }
        let (_, db, key) = best?;
        let removed = self.db(db).lock(&key).remove(&key, now).is_some();
        if removed {
            self.counters().evicted_keys.fetch_add(1, Ordering::Relaxed);
        }
        Some((db, key))
    }
}
