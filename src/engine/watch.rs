//! WATCH: which clients watch which keys, and the flag that fails their `EXEC`.
//!
//! A client's watches are registered here per (db, key); the keyspace-event hook
//! (`Engine::raise`) marks every watcher of a changed key dirty, from any connection (the
//! watching one included), as Redis's `touchWatchedKey` does. `FLUSHDB`, `FLUSHALL` and
//! `SWAPDB` touch the watched keys that existed in the databases they emptied or swapped.
//! The hot path pays one relaxed load while nobody watches anything.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// One client's watch of one key.
struct Watcher {
    /// The client's flag: a watched key changed, its EXEC will fail.
    dirty: Arc<AtomicBool>,
    /// The key was already expired (not yet removed) when watched: its removal by expiry is
    /// no change (Redis's `watchedKey.expired`).
    expired: AtomicBool,
}

/// Watchers by (db, key).
type WatchMap = HashMap<(usize, Bytes), Vec<Arc<Watcher>>>;

#[derive(Default)]
pub struct Watches {
    /// Registered watches (fast check for "nobody watches").
    n: AtomicUsize,
    map: Mutex<WatchMap>,
}

impl Watches {
    pub fn any(&self) -> bool {
        self.n.load(Ordering::Relaxed) > 0
    }

    /// A key changed (`expired`: its TTL passed and it was removed).
    pub fn touch(&self, db: usize, key: &Bytes, expired: bool) {
        if !self.any() {
            return;
        }
        let map = self.map.lock();
        if let Some(ws) = map.get(&(db, key.clone())) {
            for w in ws {
                if expired && w.expired.swap(false, Ordering::Relaxed) {
                    continue;
                }
                w.dirty.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Touch every watched key of `db` for which `existed` is true (a flush or swap).
    pub fn touch_db(&self, db: usize, mut existed: impl FnMut(&[u8]) -> bool) {
        if !self.any() {
            return;
        }
        let map = self.map.lock();
        for ((d, key), ws) in map.iter() {
            if *d == db && existed(key) {
                ws.iter()
                    .for_each(|w| w.dirty.store(true, Ordering::Relaxed));
            }
        }
    }
}

/// The keys one client watches; dropping it (UNWATCH, EXEC, DISCARD, disconnect) removes
/// its registrations.
pub struct Watching {
    registry: Arc<Watches>,
    dirty: Arc<AtomicBool>,
    keys: Vec<(usize, Bytes, Arc<Watcher>)>,
}

impl Watching {
    pub fn new(registry: Arc<Watches>) -> Watching {
        Watching {
            registry,
            dirty: Arc::new(AtomicBool::new(false)),
            keys: Vec::new(),
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Relaxed)
    }

    /// Watch `key` of `db` (again: no change). `expired`: it is there but its TTL passed.
    pub fn add(&mut self, db: usize, key: &Bytes, expired: bool) {
        if self.keys.iter().any(|(d, k, _)| *d == db && k == key) {
            return;
        }
        let w = Arc::new(Watcher {
            dirty: self.dirty.clone(),
            expired: AtomicBool::new(expired),
        });
        self.registry
            .map
            .lock()
            .entry((db, key.clone()))
            .or_default()
            .push(w.clone());
        self.registry.n.fetch_add(1, Ordering::Relaxed);
        self.keys.push((db, key.clone(), w));
    }

    /// The watched keys that were live when watched, for EXEC's expiry check.
    pub fn live_when_watched(&self) -> impl Iterator<Item = (usize, &Bytes)> {
        self.keys
            .iter()
            .filter(|(_, _, w)| !w.expired.load(Ordering::Relaxed))
            .map(|(d, k, _)| (*d, k))
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut map = self.registry.map.lock();
        for (db, key, w) in self.keys.drain(..) {
            let id = (db, key);
            if let Some(ws) = map.get_mut(&id) {
                ws.retain(|x| !Arc::ptr_eq(x, &w));
                if ws.is_empty() {
                    map.remove(&id);
                }
            }
            self.registry.n.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
