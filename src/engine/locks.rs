//! The locking model: one [`LockSet`] per command (or per transaction or script).
//!
//! Every shard of every database has a place in one global order, its slot
//! (`db * SHARDS + shard`). A lock set is taken once, in slot order, before anything runs;
//! nothing takes a shard lock while holding a set (eviction runs before the command's set is
//! taken). So two sets can never wait on each other, and whatever runs under a set sees and
//! changes its shards atomically: the reply, the data and the propagated records agree.
//!
//! Active expiry and eviction take their shards through lock sets too. When a set is
//! released, the keys its shards expired meanwhile become keyspace events (and AOF `DEL`s)
//! before the locks go, so their records are ordered with every other change to those keys.
//!
//! A transaction takes one set for every key it will touch (or [`LockSet::all`] when the keys
//! are not known in advance) and runs each of its commands on it: see `Batch::run_atomic`.
//! A script takes the shards of its declared keys and grows its set as its calls reach
//! others ([`LockSet::grow_slots`]): the one place a set takes shards after it is held, made
//! safe by having sets that wait let go while it does.

use super::events::{Event, EventKind};
use super::Engine;
use crate::store::{Db, Shard, SHARDS};
use bytes::Bytes;
use parking_lot::MutexGuard;
use smallvec::SmallVec;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Slots a command locks, kept inline for the common case (no allocation per command).
pub type Slots = SmallVec<[u32; 8]>;

/// A set of locked shards, in slot order.
pub struct LockSet<'s> {
    engine: &'s Engine,
    /// (slot, guard), sorted by slot; inline for a few keys.
    held: SmallVec<[(u32, MutexGuard<'s, Shard>); 4]>,
    /// A key argument whose slot is already known: (db, address, length, slot). The
    /// argument's bytes live, unchanged, for the whole command, so a lookup of the same
    /// bytes at the same address is the same key (one hash per key instead of two).
    hint: Option<(usize, usize, usize, u32)>,
    /// The held shards handed out since the expired keys were last flushed (their indices
    /// in `held`), so a flush looks at those alone, not at every shard of a whole-keyspace
    /// set; `None` once more than fit.
    touched: Option<SmallVec<[u16; 4]>>,
}

/// Most shards `LockSet::touched` lists before a flush looks at every held shard.
const TOUCHED_MAX: usize = 8;

/// How often a wait for a held shard asks whether to give up (`LockSet::new_unless`).
const STOP_POLL: Duration = Duration::from_millis(5);

/// How often a multi-database set waiting for a shard asks whether a script is growing
/// below it (the script waits that long at most for such a set to let go).
const YIELD_POLL: Duration = Duration::from_micros(200);

/// How long a set that let go for a growing script waits before it looks again.
const YIELD_WAIT: Duration = Duration::from_micros(200);

/// A shard's place in the global lock order.
pub fn slot(db: usize, key: &[u8]) -> u32 {
    (db * SHARDS + Db::shard_index(key)) as u32
}

impl<'s> LockSet<'s> {
    /// Lock the given slots (any order, duplicates allowed; sorted in place).
    pub fn new(engine: &'s Engine, slots: &mut [u32]) -> LockSet<'s> {
        let store = &*engine.store;
        let mut held = SmallVec::new();
        if let [s] = slots {
            let (db, shard) = (*s as usize / SHARDS, *s as usize % SHARDS);
            held.push((*s, store.db(db).lock_shard(shard)));
            return LockSet {
                engine,
                held,
                hint: None,
                touched: Some(SmallVec::new()),
            };
        }
        slots.sort_unstable();
        // It may have to let go for a growing script (see `grow_slots`).
        LockSet::lock_sorted_unless(engine, slots, &|| false).expect("a set that never gives up")
    }

    /// As `new`, but a wait for a held shard gives up (None, nothing held) once `stop` says
    /// so: a client queued behind a script that turns busy is answered `-BUSY` instead of
    /// keeping its thread until the script ends. Uncontended shards cost what `new` costs.
    pub fn new_unless(
        engine: &'s Engine,
        slots: &mut [u32],
        stop: &dyn Fn() -> bool,
    ) -> Option<LockSet<'s>> {
        slots.sort_unstable();
        LockSet::lock_sorted_unless(engine, slots, stop)
    }

    /// As `new_unless`, for slots already in order. A set of several shards that waits
    /// while a script grows below what it holds starts again (see `grow_slots`).
    fn lock_sorted_unless(
        engine: &'s Engine,
        slots: &[u32],
        stop: &dyn Fn() -> bool,
    ) -> Option<LockSet<'s>> {
        // A set of one shard never waits while it holds another: it need not let go.
        if slots.first() == slots.last() {
            return LockSet::try_lock_sorted(engine, slots, stop, STOP_POLL).ok();
        }
        let yields = || engine.escalating.load(Ordering::Acquire) > 0;
        loop {
            match LockSet::try_lock_sorted(engine, slots, &|| stop() || yields(), YIELD_POLL) {
                Ok(set) => return Some(set),
                Err(()) if stop() => return None,
                Err(()) => {
                    while yields() && !stop() {
                        std::thread::sleep(YIELD_WAIT);
                    }
                }
            }
        }
    }

    /// Lock `slots` (in order) unless `stop`, asked every `poll` while waiting for one, says
    /// to give up.
    fn try_lock_sorted(
        engine: &'s Engine,
        slots: &[u32],
        stop: &dyn Fn() -> bool,
        poll: Duration,
    ) -> Result<LockSet<'s>, ()> {
        let store = &*engine.store;
        let mut held: SmallVec<[(u32, MutexGuard<'s, Shard>); 4]> = SmallVec::new();
        held.reserve(slots.len());
        let mut last = None;
        for &s in slots.iter() {
            if last == Some(s) {
                continue;
            }
            last = Some(s);
            let db = store.db(s as usize / SHARDS);
            let shard = s as usize % SHARDS;
            let guard = match db.try_lock_shard(shard, Duration::ZERO) {
                Some(g) => g,
                None => loop {
                    if let Some(g) = db.try_lock_shard(shard, poll) {
                        break g;
                    }
                    if stop() {
                        return Err(());
                    }
                },
            };
            held.push((s, guard));
        }
        Ok(LockSet {
            engine,
            held,
            hint: None,
            touched: Some(SmallVec::new()),
        })
    }

    /// Whether every shard of database `db` is held.
    pub fn holds_db(&self, db: usize) -> bool {
        let first = (db * SHARDS) as u32;
        let at = match self.held.binary_search_by_key(&first, |(s, _)| *s) {
            Ok(i) => i,
            Err(_) => return false,
        };
        self.held
            .get(at + SHARDS - 1)
            .is_some_and(|(s, _)| *s == first + SHARDS as u32 - 1)
    }

    /// Add every shard of database `db` to a set already held (a script's call that needs
    /// the whole database), as `grow_slots` does.
    pub fn grow(&mut self, db: usize) {
        if self.holds_db(db) {
            return;
        }
        let mut slots: Slots = ((db * SHARDS) as u32..((db + 1) * SHARDS) as u32).collect();
        self.grow_slots(&mut slots);
    }

    /// Add `slots` (any order, duplicates allowed) to a set already held: a script takes
    /// the shards of its calls' keys as it runs. Shards above all those held are taken in
    /// order, as any set takes them. Shards below break the order, so while they are taken
    /// `Engine::escalating` makes every set that waits for a shard while it holds another
    /// let go and start again (see `lock_sorted_unless`). Only the holder of the script
    /// turn (`Engine::script_turn`) grows a set, so no two sets grow against each other.
    pub fn grow_slots(&mut self, slots: &mut [u32]) {
        slots.sort_unstable();
        let mut missing: Slots = SmallVec::new();
        for &s in slots.iter() {
            if missing.last() != Some(&s) && self.find(s).is_none() {
                missing.push(s);
            }
        }
        let Some(&lowest) = missing.first() else {
            return;
        };
        let store = &*self.engine.store;
        let below = self.held.last().is_some_and(|(t, _)| *t > lowest);
        if below {
            self.engine.escalating.fetch_add(1, Ordering::AcqRel);
        }
        for s in missing {
            let db = store.db(s as usize / SHARDS);
            let shard = s as usize % SHARDS;
            let guard = if below {
                loop {
                    if let Some(g) = db.try_lock_shard(shard, STOP_POLL) {
                        break g;
                    }
                }
            } else {
                db.lock_shard(shard)
            };
            let at = self.held.partition_point(|(h, _)| *h < s);
            self.held.insert(at, (s, guard));
        }
        if below {
            self.engine.escalating.fetch_sub(1, Ordering::AcqRel);
        }
        // Indices moved: a later flush looks at every held shard.
        self.touched = None;
    }

    /// Every database's shards (a script's call that needs the whole keyspace).
    pub fn grow_all(&mut self) {
        for db in 0..self.engine.store.databases() {
            self.grow(db);
        }
    }

    /// Every shard of every database, unless `stop` (see `new_unless`).
    pub fn all_unless(engine: &'s Engine, stop: &dyn Fn() -> bool) -> Option<LockSet<'s>> {
        let n = engine.store.databases() * SHARDS;
        // Already in slot order, without duplicates: no sort.
        let slots: Vec<u32> = (0..n as u32).collect();
        LockSet::lock_sorted_unless(engine, &slots, stop)
    }

    /// Remember that `key` (a command argument, alive and unchanged until the set is
    /// dropped) is in `slot` of database `db`.
    pub(crate) fn hint(&mut self, db: usize, key: &[u8], slot: u32) {
        self.hint = Some((db, key.as_ptr() as usize, key.len(), slot));
    }

    /// Nothing locked (commands that touch no keys).
    pub fn none(engine: &'s Engine) -> LockSet<'s> {
        LockSet {
            engine,
            held: SmallVec::new(),
            hint: None,
            touched: Some(SmallVec::new()),
        }
    }

    /// Every shard of database `db`.
    pub fn db(engine: &'s Engine, db: usize) -> LockSet<'s> {
        let mut slots: Vec<u32> = (0..SHARDS).map(|i| (db * SHARDS + i) as u32).collect();
        LockSet::new(engine, &mut slots)
    }

    /// Every shard of every database.
    pub fn all(engine: &'s Engine) -> LockSet<'s> {
        let n = engine.store.databases() * SHARDS;
        let mut slots: Vec<u32> = (0..n as u32).collect();
        LockSet::new(engine, &mut slots)
    }

    /// One shard.
    pub fn one(engine: &'s Engine, db: usize, shard: usize) -> LockSet<'s> {
        LockSet::new(engine, &mut [(db * SHARDS + shard) as u32])
    }

    /// Note that held shard `i` was handed out (see `touched`).
    fn touch(&mut self, i: usize) {
        if let Some(t) = &mut self.touched {
            if !t.contains(&(i as u16)) {
                if t.len() < TOUCHED_MAX {
                    t.push(i as u16);
                } else {
                    self.touched = None;
                }
            }
        }
    }

    fn find(&self, slot: u32) -> Option<usize> {
        // Sets are small (a command's keys) or complete (then the slot is the index).
        if self.held.len() <= 8 {
            self.held.iter().position(|(s, _)| *s == slot)
        } else {
            self.held.binary_search_by_key(&slot, |(s, _)| *s).ok()
        }
    }

    /// True when the shard of `key` in `db` is held.
    pub fn holds(&self, db: usize, key: &[u8]) -> bool {
        self.find(slot(db, key)).is_some()
    }

    /// The locked shard holding `key` in database `db`.
    ///
    /// # Panics
    /// When that shard is not in the set: the command's key specs missed a key it touches,
    /// a bug in the command table (every command is exercised by the spec scenarios).
    pub fn shard(&mut self, db: usize, key: &[u8]) -> &mut Shard {
        let s = match self.hint {
            Some((hdb, ptr, len, s))
                if hdb == db && ptr == key.as_ptr() as usize && len == key.len() =>
            {
                s
            }
            _ => slot(db, key),
        };
        match self.find(s) {
            Some(i) => {
                self.touch(i);
                &mut self.held[i].1
            }
            None => panic!(
                "shard {s} is not locked: the command table's key specs miss a key ({:?})",
                String::from_utf8_lossy(&key[..key.len().min(64)])
            ),
        }
    }

    /// Shard number `i` of database `db` (whole-database commands).
    pub fn shard_at(&mut self, db: usize, i: usize) -> &mut Shard {
        let s = (db * SHARDS + i) as u32;
        let at = self
            .find(s)
            .unwrap_or_else(|| panic!("shard {s} is not locked: the command's scope misses it"));
        self.touch(at);
        &mut self.held[at].1
    }

    /// Keys in database `db` (every shard of it must be held).
    pub fn dbsize(&mut self, db: usize) -> usize {
        (0..SHARDS).map(|i| self.shard_at(db, i).len()).sum()
    }

    /// Keys with a TTL in database `db` (every shard of it must be held).
    pub fn expires(&mut self, db: usize) -> usize {
        (0..SHARDS)
            .map(|i| self.shard_at(db, i).expires_len())
            .sum()
    }

    /// Exchange the contents of two databases (both must be held whole).
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        for i in 0..SHARDS {
            let x = self.find((a * SHARDS + i) as u32).expect("database locked");
            let y = self.find((b * SHARDS + i) as u32).expect("database locked");
            let (lo, hi) = (x.min(y), x.max(y));
            let (left, right) = self.held.split_at_mut(hi);
            left[lo].1.swap_data(&mut right[0].1);
        }
    }

    /// Raise the keyspace events of the keys the held shards expired, now, while their locks
    /// are held (the dispatcher calls this before propagating a command's own records).
    pub fn flush_expired(&mut self) {
        self.flush_expired_into(None)
    }

    /// As `flush_expired`; with `records`, the DELs are added there (in order, for a
    /// transaction that propagates as one block) instead of being appended at once.
    pub fn flush_expired_into(&mut self, mut records: Option<&mut super::batch::Records>) {
        let touched = self.touched.replace(SmallVec::new());
        let expired: SmallVec<[usize; 4]> = match touched {
            Some(t) => t
                .iter()
                .map(|&i| i as usize)
                .filter(|&i| self.held[i].1.has_expired())
                .collect(),
            None => (0..self.held.len())
                .filter(|&i| self.held[i].1.has_expired())
                .collect(),
        };
        if expired.is_empty() {
            return;
        }
        let sink = self.engine.sink();
        for i in expired {
            let (s, g) = &mut self.held[i];
            let db = *s as usize / SHARDS;
            for key in g.take_expired() {
                let to_sink = match records.as_deref_mut() {
                    Some(r) => {
                        if sink.is_some() {
                            r.push((db, vec![b"DEL".to_vec(), key.to_vec()]));
                        }
                        None
                    }
                    None => sink.as_deref(),
                };
                self.engine.raise(
                    Event {
                        db,
                        key: Bytes::copy_from_slice(&key),
                        kind: EventKind::Expired,
                        origin: 0,
                    },
                    to_sink,
                );
            }
        }
    }
}

impl Drop for LockSet<'_> {
    fn drop(&mut self) {
        self.flush_expired();
    }
}
