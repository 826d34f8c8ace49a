//! One database: keys spread over shards, each a `parking_lot` mutex around two tables (every
//! key, and the keys that have a TTL). Expired keys are removed lazily by every lookup and
//! actively by `expiry`.

pub use super::entry::{without_touch, Entry, LFU_INIT};
use super::key::Key;
use super::table::{Probe, Table, NODE_OVERHEAD};
use super::value::Value;
use super::{hash_key, Counters};
use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Shards per database. A power of two; the top bits of a key's hash choose its shard and the
/// low bits its bucket, so the two choices are independent.
pub const SHARDS: usize = 16;
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// Per-key bookkeeping bytes: the entry node and its share of the bucket array.
const KEY_OVERHEAD: usize = NODE_OVERHEAD;
/// The extra cost of a key in the TTL table: its node and bucket share, plus the shared
/// header the key's `Bytes` allocates once it has two owners.
const TTL_OVERHEAD: usize = super::table::node_overhead::<()>();

/// What a TTL costs for a key of `len` bytes: its node in the TTL table and that table's own
/// copy of the key.
const fn ttl_mem(len: usize) -> usize {
    TTL_OVERHEAD + Key::heap_size(len)
}

fn entry_mem(key: &[u8], e: &Entry) -> usize {
    KEY_OVERHEAD
        + Key::heap_size(key.len())
        + e.mem
        + if e.expire_at != 0 {
            ttl_mem(key.len())
        } else {
            0
        }
}

pub struct Shard {
    keys: Table<Entry>,
    ttls: Table<()>,
    counters: Arc<Counters>,
    rng: u64,
    /// Statistics of this shard, kept under its lock (no shared counter is bumped per
    /// lookup); `Store::stats` adds them up.
    pub stats: ShardStats,
    /// Keys this shard expired since the holder of its lock last took them (see
    /// `take_expired`): the engine turns each into a keyspace event before the lock is
    /// released, so the AOF's `DEL` lands before any later change to the same key.
    expired: Vec<Key>,
}

/// Per-shard counters behind `INFO stats`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ShardStats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
}

impl std::ops::AddAssign for ShardStats {
    fn add_assign(&mut self, o: ShardStats) {
        self.keyspace_hits += o.keyspace_hits;
        self.keyspace_misses += o.keyspace_misses;
        self.expired_keys += o.expired_keys;
    }
}

/// Count an expired key and queue it for its keyspace event.
fn note_expired(stats: &mut ShardStats, expired: &mut Vec<Key>, key: Key) {
    stats.expired_keys += 1;
    expired.push(key);
}

/// Bookkeeping for an entry already unlinked from the key table.
fn account_removed(ttls: &mut Table<()>, counters: &Counters, h: u64, key: &[u8], e: &Entry) {
    if e.expire_at != 0 {
        ttls.remove(h, key);
    }
    counters
        .used_memory
        .fetch_sub(entry_mem(key, e) as i64, Ordering::Relaxed);
}

/// The one lookup path: a single walk of the chain that also removes an expired entry. A free
/// function over the shard's fields, so callers can keep using the others meanwhile.
#[allow(clippy::too_many_arguments)]
fn live<'a>(
    keys: &'a mut Table<Entry>,
    ttls: &mut Table<()>,
    counters: &Counters,
    stats: &mut ShardStats,
    expired: &mut Vec<Key>,
    h: u64,
    key: &[u8],
    now: u64,
) -> Option<&'a mut Entry> {
    let held = counters.expiry_held.load(Ordering::Relaxed);
    match keys.probe(h, key, |e| !held && is_expired(e, now)) {
        Probe::Missing => None,
        Probe::Found(_, e) => {
            if held && is_expired(e, now) {
                None
            } else {
                Some(e)
            }
        }
        Probe::Removed(k, e) => {
            account_removed(ttls, counters, h, &k, &e);
            note_expired(stats, expired, k);
            None
        }
    }
}

/// xorshift64*: cheap and good enough for sampling.
fn next_rand(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545F4914F6CDD1D)
}

pub fn is_expired(e: &Entry, now: u64) -> bool {
    e.expire_at != 0 && now > e.expire_at
}

impl Shard {
    fn new(counters: Arc<Counters>, seed: u64) -> Shard {
        Shard {
            keys: Table::default(),
            ttls: Table::default(),
            counters,
            rng: seed | 1,
            stats: ShardStats::default(),
            expired: Vec::new(),
        }
    }

    /// The keys expired since the last call (their events are the caller's to raise).
    pub fn take_expired(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.expired)
    }

    /// True when expired keys wait for their events.
    #[inline]
    pub fn has_expired(&self) -> bool {
        !self.expired.is_empty()
    }

    /// Exchange the data of two shards (SWAPDB); each keeps its database number.
    pub fn swap_data(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.keys, &mut other.keys);
        std::mem::swap(&mut self.ttls, &mut other.ttls);
    }

    fn mem_add(&self, n: usize) {
        // A shared counter: skip the atomic when nothing changed (in-place overwrites).
        if n == 0 {
            return;
        }
        self.counters
            .used_memory
            .fetch_add(n as i64, Ordering::Relaxed);
    }
    fn mem_sub(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.counters
            .used_memory
            .fetch_sub(n as i64, Ordering::Relaxed);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn expires_len(&self) -> usize {
        self.ttls.len()
    }

    /// Remove `key` if it has expired; true when it did.
    fn expire_if_needed(&mut self, h: u64, key: &[u8], now: u64) -> bool {
        if self.counters.expiry_held.load(Ordering::Relaxed) {
            return false;
        }
        match self.keys.probe(h, key, |e| is_expired(e, now)) {
            Probe::Removed(k, e) => {
                self.account_removed(h, &k, &e);
                note_expired(&mut self.stats, &mut self.expired, k);
                true
            }
            _ => false,
        }
    }

    fn remove_entry(&mut self, h: u64, key: &[u8]) -> Option<Entry> {
        let (k, e) = self.keys.remove(h, key)?;
        self.account_removed(h, &k, &e);
        Some(e)
    }

    fn account_removed(&mut self, h: u64, key: &[u8], e: &Entry) {
        account_removed(&mut self.ttls, &self.counters, h, key, e);
    }

    /// Whether `key` is present at all, expired or not (what FLUSHDB/SWAPDB touch for WATCH).
    pub fn contains_raw(&self, key: &[u8]) -> bool {
        self.keys.get(hash_key(key), key).is_some()
    }

    /// Whether `key` is present but past its TTL, without removing it (WATCH, EXEC).
    pub fn peek_expired(&self, key: &[u8], now: u64) -> bool {
        self.keys
            .get(hash_key(key), key)
            .is_some_and(|e| is_expired(e, now))
    }

    /// A live entry, or None (an expired one is removed on the way).
    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        self.get_mut_live(hash_key(key), key, now).map(|e| &*e)
    }

    /// The one lookup path: a single walk of the chain that also removes an expired entry.
    fn get_mut_live(&mut self, h: u64, key: &[u8], now: u64) -> Option<&mut Entry> {
        live(
            &mut self.keys,
            &mut self.ttls,
            &self.counters,
            &mut self.stats,
            &mut self.expired,
            h,
            key,
            now,
        )
    }

    /// Like `get`, counting a keyspace hit or miss and recording the access (LRU/LFU).
    pub fn get_read(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        let rand = next_rand(&mut self.rng);
        let found = live(
            &mut self.keys,
            &mut self.ttls,
            &self.counters,
            &mut self.stats,
            &mut self.expired,
            hash_key(key),
            key,
            now,
        );
        match found {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                e.touch(now, &self.counters, rand);
                Some(&*e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// A live entry looked up to be changed: records the access (LRU/LFU), like Redis's
    /// write lookups, without counting a keyspace hit or miss.
    pub fn get_write(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        self.get_write_mut(key, now).map(|e| &*e)
    }

    /// `get_write`, mutably.
    fn get_write_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        self.touched(key, now).map(|(e, _)| e)
    }

    /// A live entry whose access was just recorded, with the counters beside it.
    fn touched(&mut self, key: &[u8], now: u64) -> Option<(&mut Entry, &Counters)> {
        let rand = next_rand(&mut self.rng);
        let e = live(
            &mut self.keys,
            &mut self.ttls,
            &self.counters,
            &mut self.stats,
            &mut self.expired,
            hash_key(key),
            key,
            now,
        )?;
        e.touch(now, &self.counters, rand);
        Some((e, &self.counters))
    }

    pub fn exists(&mut self, key: &[u8], now: u64) -> bool {
        self.get(key, now).is_some()
    }

    /// Change a live entry in place with `f`; its memory is re-measured afterwards (O(1) for
    /// every type: collections keep their own count). A collection left empty is deleted, as
    /// Redis does. `f` must not change `expire_at` (use `set_expire`).
    pub fn update<R>(
        &mut self,
        key: &[u8],
        now: u64,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        self.update_with(key, now, false, f)
    }

    /// `update` of a write lookup: the access is recorded (LRU/LFU) as `get_write` records
    /// it, in the same walk of the chain.
    pub fn update_write<R>(
        &mut self,
        key: &[u8],
        now: u64,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        self.update_with(key, now, true, f)
    }

    fn update_with<R>(
        &mut self,
        key: &[u8],
        now: u64,
        touch: bool,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let h = hash_key(key);
        let rand = if touch { next_rand(&mut self.rng) } else { 0 };
        // One walk of the chain: `live` removes an expired entry on the way, except while
        // expiry is held (loading, a replica's view), when the entry is changed as it is.
        let e = if self.counters.expiry_held.load(Ordering::Relaxed) {
            self.keys.get_mut(h, key)?
        } else {
            live(
                &mut self.keys,
                &mut self.ttls,
                &self.counters,
                &mut self.stats,
                &mut self.expired,
                h,
                key,
                now,
            )?
        };
        if touch {
            e.touch(now, &self.counters, rand);
        }
        let before = e.mem;
        let r = f(e);
        e.mem = e.value.mem_size();
        let (after, empty) = (e.mem, e.value.is_empty_collection());
        if after >= before {
            self.mem_add(after - before);
        } else {
            self.mem_sub(before - after);
        }
        if empty {
            self.remove_entry(h, key);
        }
        Some(r)
    }

    /// A live string entry to change in place, found with one probe; its memory is
    /// re-measured when the handle is dropped. None when the key is missing.
    pub fn string_mut(&mut self, key: &[u8], now: u64) -> Option<StrMut<'_>> {
        let (e, counters) = self.touched(key, now)?;
        Some(StrMut {
            before: e.mem,
            e,
            counters,
        })
    }

    /// Store `value` under `key`, replacing any entry; `expire_at` 0 means no TTL.
    /// Returns the previous live entry. An existing key keeps its node and key allocation.
    pub fn set(&mut self, key: &[u8], value: Value, expire_at: u64, now: u64) -> Option<Entry> {
        let h = hash_key(key);
        let mem = value.mem_size();
        let access = (now / 1000) as u32;
        if let Some(e) = self.get_mut_live(h, key, now) {
            let old_mem = entry_mem(key, e);
            // An overwrite keeps the key's LFU history, as in Redis.
            let (freq, freq_minute) = (e.freq, e.freq_minute);
            let old = std::mem::replace(
                e,
                Entry {
                    value,
                    expire_at,
                    access,
                    freq,
                    freq_minute,
                    mem,
                },
            );
            let new_mem = entry_mem(key, e);
            match (old.expire_at != 0, expire_at != 0) {
                (true, false) => {
                    self.ttls.remove(h, key);
                }
                (false, true) => {
                    let k = self
                        .keys
                        .get_key_value(h, key)
                        .map(|(k, _)| k.clone())
                        .expect("just found");
                    self.ttls.insert_new(h, k, ());
                }
                _ => {}
            }
            self.mem_sub(old_mem);
            self.mem_add(new_mem);
            return Some(old);
        }
        let k = Key::new(key);
        let freq_minute = ((now / 60_000) & 0xFFFF) as u16;
        let e = Entry {
            value,
            expire_at,
            access,
            freq: LFU_INIT,
            freq_minute,
            mem,
        };
        self.mem_add(entry_mem(key, &e));
        if expire_at != 0 {
            self.ttls.insert_new(h, k.clone(), ());
        }
        self.keys.insert_new(h, k, e);
        None
    }

    /// `set` for a string value given as bytes: an existing string whose buffer fits is
    /// overwritten in place (no allocation and no free on the hot SET path).
    /// `touch`: count the overwrite's lookup as an access (false when the caller already
    /// looked the key up with `get_write`).
    pub fn set_string(&mut self, key: &[u8], value: &[u8], expire_at: u64, now: u64, touch: bool) {
        let h = hash_key(key);
        let rand = next_rand(&mut self.rng);
        let counters = &self.counters;
        if let Some(e) = live(
            &mut self.keys,
            &mut self.ttls,
            counters,
            &mut self.stats,
            &mut self.expired,
            h,
            key,
            now,
        ) {
            // The overwrite's lookup counts as an access, as Redis's does.
            if touch {
                e.touch(now, counters, rand);
            }
            if let Value::Str { data, .. } = &e.value {
                let cap = data.capacity();
                if cap >= value.len()
                    && cap <= 2 * value.len().max(16)
                    && (e.expire_at != 0) == (expire_at != 0)
                {
                    let before = e.mem;
                    if let Value::Str { data, enc } = &mut e.value {
                        data.clear();
                        data.extend_from_slice(value);
                        *enc = Value::string_encoding(data);
                    }
                    e.expire_at = expire_at;
                    e.mem = e.value.mem_size();
                    let delta = e.mem as i64 - before as i64;
                    if delta != 0 {
                        counters.used_memory.fetch_add(delta, Ordering::Relaxed);
                    }
                    return;
                }
            }
        }
        self.set(key, Value::string(value.to_vec()), expire_at, now);
    }

    /// Insert an entry as it is, replacing any live one (RENAME, MOVE, COPY). O(1): the
    /// entry carries its accounted size, so nothing is measured again.
    pub fn put_entry(&mut self, key: &[u8], e: Entry, now: u64) -> Option<Entry> {
        let h = hash_key(key);
        self.expire_if_needed(h, key, now);
        let old = self.remove_entry(h, key);
        let k = Key::new(key);
        self.mem_add(entry_mem(key, &e));
        if e.expire_at != 0 {
            self.ttls.insert_new(h, k.clone(), ());
        }
        self.keys.insert_new(h, k, e);
        old
    }

    pub fn remove(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        let h = hash_key(key);
        if self.expire_if_needed(h, key, now) {
            return None;
        }
        self.remove_entry(h, key)
    }

    /// Set or clear (0) the TTL of a live key; false when the key does not exist.
    pub fn set_expire(&mut self, key: &[u8], at: u64, now: u64) -> bool {
        let h = hash_key(key);
        self.expire_if_needed(h, key, now);
        let Some((k, e)) = self.keys.get_key_value(h, key) else {
            return false;
        };
        let (had, k) = (e.expire_at != 0, k.clone());
        self.keys.get_mut(h, key).unwrap().expire_at = at;
        match (had, at != 0) {
            (false, true) => {
                self.ttls.insert(h, k, ());
                self.mem_add(ttl_mem(key.len()));
            }
            (true, false) => {
                self.ttls.remove(h, key);
                self.mem_sub(ttl_mem(key.len()));
            }
            _ => {}
        }
        true
    }

    pub fn touch(&mut self, key: &[u8], now: u64) -> bool {
        let h = hash_key(key);
        self.expire_if_needed(h, key, now);
        match self.keys.get_mut(h, key) {
            Some(e) => {
                let rand = next_rand(&mut self.rng);
                e.touch(now, &self.counters, rand);
                true
            }
            None => false,
        }
    }

    /// Visit one bucket of live entries at `cursor`; returns the next shard-local cursor.
    /// The expired entries met there for which `reap` holds are removed (SCAN removes those
    /// its pattern matches, as Redis's does; the others stay for DBSIZE to count).
    pub fn scan_step(
        &mut self,
        cursor: u64,
        now: u64,
        reap: impl Fn(&[u8]) -> bool,
        mut f: impl FnMut(&[u8], &Entry),
    ) -> u64 {
        let mut expired = Vec::new();
        let next = self.keys.scan_step(cursor, |k: &Key, e: &Entry| {
            if !is_expired(e, now) {
                f(k, e)
            } else if reap(k) {
                expired.push(k.clone());
            }
        });
        for k in expired {
            self.expire_if_needed(hash_key(&k), &k, now);
        }
        next
    }

    pub fn for_each_live(&self, now: u64, mut f: impl FnMut(&[u8], &Entry)) {
        for (k, e) in self.keys.iter() {
            if !is_expired(e, now) {
                f(k, e)
            }
        }
    }

    /// A random live key, removing expired ones it runs into (up to a bound, as Redis does,
    /// so a database of only expired keys cannot loop forever).
    pub fn random_key(&mut self, now: u64) -> Option<Bytes> {
        for _ in 0..100 {
            let rng = &mut self.rng;
            let picked = self
                .keys
                .random(|| next_rand(rng))
                .map(|(k, e)| (k.clone(), is_expired(e, now)));
            match picked {
                None => return None,
                Some((k, false)) => return Some(Bytes::copy_from_slice(&k)),
                Some((k, true)) => {
                    self.expire_if_needed(hash_key(&k), &k, now);
                }
            }
        }
        None
    }

    /// Bytes accounted for a live key (key, value, bookkeeping), for `MEMORY USAGE`.
    pub fn memory_of(&mut self, key: &[u8], now: u64) -> Option<usize> {
        self.get(key, now).map(|e| entry_mem(key, e))
    }

    pub(super) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// A random entry (only among keys with a TTL when `volatile`).
    pub(super) fn random_entry(&mut self, volatile: bool, rng: &mut u64) -> Option<(&Key, &Entry)> {
        if volatile {
            let (k, _) = self.ttls.random(|| next_rand(rng))?;
            let h = hash_key(k);
            let k = k.clone();
            self.keys.get_key_value(h, &k)
        } else {
            self.keys.random(|| next_rand(rng))
        }
    }

    /// One round of active expiry: test up to `samples` keys that have a TTL and remove the
    /// expired ones. Returns (sampled, expired).
    pub fn expire_sample(&mut self, samples: usize, now: u64) -> (usize, usize) {
        let n = samples.min(self.ttls.len());
        let mut expired = 0;
        for _ in 0..n {
            let rng = &mut self.rng;
            let Some((k, _)) = self.ttls.random(|| next_rand(rng)) else {
                break;
            };
            let k = k.clone();
            if self.expire_if_needed(hash_key(&k), &k, now) {
                expired += 1;
            }
        }
        (n, expired)
    }

    pub fn clear(&mut self) -> usize {
        let n = self.keys.len();
        let mut freed = 0;
        for (k, e) in self.keys.iter() {
            freed += entry_mem(k, e);
        }
        self.mem_sub(freed);
        self.keys.clear();
        self.ttls.clear();
        n
    }

    /// `clear`, with the keys freed on the lazyfree thread (each counted as an object).
    pub fn clear_async(&mut self) -> usize {
        let n = self.keys.len();
        let mut freed = 0;
        for (k, e) in self.keys.iter() {
            freed += entry_mem(k, e);
        }
        self.mem_sub(freed);
        let keys = std::mem::take(&mut self.keys);
        self.ttls.clear();
        if n > 0 {
            super::lazyfree::defer(&self.counters, Box::new(keys), n as u64);
        }
        n
    }

    /// `remove`, with a large value freed on the lazyfree thread (`UNLINK`); whether the
    /// key was there.
    pub fn unlink(&mut self, key: &[u8], now: u64) -> bool {
        match self.remove(key, now) {
            Some(e) => {
                super::lazyfree::free(&self.counters, e.value);
                true
            }
            None => false,
        }
    }
}

/// A live entry being changed in place (see `Shard::string_mut`).
pub struct StrMut<'a> {
    pub e: &'a mut Entry,
    before: usize,
    counters: &'a Counters,
}

impl Drop for StrMut<'_> {
    fn drop(&mut self) {
        if let Value::Str { .. } = self.e.value {
            self.e.mem = self.e.value.mem_size();
            let delta = self.e.mem as i64 - self.before as i64;
            if delta != 0 {
                self.counters
                    .used_memory
                    .fetch_add(delta, Ordering::Relaxed);
            }
        }
    }
}

/// One of the numbered databases.
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
}

impl Db {
    pub(super) fn new(counters: &Arc<Counters>, seed: u64) -> Db {
        let shards = (0..SHARDS)
            .map(|i| {
                Mutex::new(Shard::new(
                    counters.clone(),
                    seed.wrapping_add((i as u64).wrapping_mul(0x9E3779B97F4A7C15)),
                ))
            })
            .collect();
        Db { shards }
    }

    /// The shard index a key lives in.
    pub fn shard_index(key: &[u8]) -> usize {
        (hash_key(key) >> (64 - SHARD_BITS)) as usize
    }

    /// Lock the shard that holds `key`.
    pub fn lock(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        self.shards[Db::shard_index(key)].lock()
    }

    pub fn lock_shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock()
    }

    /// Shard `i`, if it can be locked within `wait`.
    pub fn try_lock_shard(
        &self,
        i: usize,
        wait: std::time::Duration,
    ) -> Option<MutexGuard<'_, Shard>> {
        if wait.is_zero() {
            self.shards[i].try_lock()
        } else {
            self.shards[i].try_lock_for(wait)
        }
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Lock every shard in index order (the global lock order), for operations on the whole
    /// database or on several keys at once.
    pub fn lock_all(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| s.lock()).collect()
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn expires_len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().expires_len()).sum()
    }
}

/// Scan cursors address (bucket cursor, shard): the low bits are the shard, so one `u64`
/// covers the whole database and a finished shard moves on to the next.
pub fn split_cursor(c: u64) -> (usize, u64) {
    ((c & (SHARDS as u64 - 1)) as usize, c >> SHARD_BITS)
}

pub fn join_cursor(shard: usize, inner: u64) -> u64 {
    (inner << SHARD_BITS) | shard as u64
}

mod invariants;
