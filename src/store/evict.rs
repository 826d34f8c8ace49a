//! Eviction under `maxmemory`: Redis's sampled approximation of LRU, LFU, TTL and random.
//!
//! To evict one key, every database that has candidates gives `samples` random keys (all keys,
//! or only keys with a TTL for the `volatile-*` policies) from one random shard; the best
//! candidate of all samples is removed: the longest idle (LRU), the least frequently used
//! (LFU), the nearest expiry (TTL) or any (random). Like Redis, this never scans the keyspace,
//! so the cost per eviction is bounded by the sample size.

use super::keyspace::{is_expired, Shard};
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

    pub fn volatile(self) -> bool {
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

impl Pool {
    /// Add scored candidates (score, database, key); the pool keeps the best `POOL_SIZE`.
    pub fn offer(&self, candidates: Vec<(u64, usize, Bytes)>) {
        let mut pool = self.0.lock();
        for (score, db, key) in candidates {
            match pool
                .iter_mut()
                .find(|(_, pdb, pkey)| *pdb == db && *pkey == key)
            {
                Some(slot) => slot.0 = score,
                None => pool.push((score, db, key)),
            }
        }
        pool.sort_by_key(|c| std::cmp::Reverse(c.0));
        pool.truncate(POOL_SIZE);
    }

    /// Remove and return the best candidate.
    pub fn take_best(&self) -> Option<(usize, Bytes)> {
        let mut pool = self.0.lock();
        if pool.is_empty() {
            return None;
        }
        let (_, db, key) = pool.remove(0);
        Some((db, key))
    }
}
