//! The keyspace-event hook: every modification, deletion, expiration and eviction of a key
//! raises exactly one [`Event`], from wherever it happened (a command, a lazy or active
//! expiry, an eviction), while the key's shard is still locked.
//!
//! Consumers hang off [`Engine::raise`]:
//! - (a) the propagation sink: expired and evicted keys are logged as `DEL`, as Redis does,
//!   so a replay (which never expires or evicts on its own) ends with the same data;
//! - (b) WATCH invalidation (`engine::watch`), (c) waking clients blocked on a key
//!   (`engine::blocking`); (d) the `expired` and
//!   `evicted` keyspace notifications (`engine::notify`).
//!
//! Events of commands are raised by the dispatcher from the handler's effects, after the
//! command's records were propagated; events of expiry are raised before them (see
//! `LockSet::flush_expired`), since the expiry happened first.

use super::notify::{self, Ev};
use super::sink::Sink;
use super::Engine;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A command changed or created the key.
    Modified,
    /// A command deleted the key (by name, or by leaving its collection empty, or by
    /// renaming it away). Apart from waking blocked clients (a list or sorted set that went
    /// cannot serve a pop), consumers treat it as `Modified`.
    Deleted,
    /// The key's TTL passed and it was removed.
    Expired,
    /// The key was removed to get under `maxmemory`.
    Evicted,
    /// Every key of the database went at once (the event's key is empty).
    Flushed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub db: usize,
    pub key: Bytes,
    pub kind: EventKind,
    /// The client whose command made the change; 0 for the server (expiry, eviction).
    pub origin: u64,
}

/// A listener for tests and tools: sees every event as it is raised.
pub type Tap = Box<dyn Fn(&Event) + Send + Sync>;

/// The optional tap, behind a flag so the hot path pays one relaxed load when none is set.
#[derive(Default)]
pub struct Taps {
    on: AtomicBool,
    tap: parking_lot::RwLock<Option<Tap>>,
}

impl Taps {
    fn call(&self, ev: &Event) {
        if self.on.load(Ordering::Relaxed) {
            if let Some(t) = &*self.tap.read() {
                t(ev);
            }
        }
    }
}

impl Engine {
    /// The one hook every key event goes through. `sink` is the attached sink, if any (the
    /// caller looked it up once for a batch of events).
    pub fn raise(&self, ev: Event, sink: Option<&dyn Sink>) {
        if ev.kind != EventKind::Flushed {
            // (e) client-side caching: clients that may hold the key are told it changed.
            self.tracking_invalidate(&ev.key, ev.origin);
        }
        match ev.kind {
            EventKind::Modified => {
                self.watches.touch(ev.db, &ev.key, false);
                self.blocking.key_changed(ev.db, &ev.key);
            }
            EventKind::Deleted => {
                self.watches.touch(ev.db, &ev.key, false);
                self.blocking.key_deleted(ev.db, &ev.key);
            }
            EventKind::Flushed => {}
            EventKind::Expired | EventKind::Evicted => {
                let flags = self.notify_flags();
                if flags != 0 {
                    let named = if ev.kind == EventKind::Expired {
                        Ev::new(notify::EXPIRED, "expired")
                    } else {
                        Ev::new(notify::EVICTED, "evicted")
                    };
                    self.notify(flags, named, ev.db, &ev.key);
                }
                self.watches
                    .touch(ev.db, &ev.key, ev.kind == EventKind::Expired);
                if let Some(s) = sink {
                    s.append(ev.db, &[b"DEL", &ev.key]);
                }
            }
        }
        self.taps.call(&ev);
    }

    /// A whole database was emptied (`FLUSHDB`, `FLUSHALL`) or swapped with another: one
    /// event for the database, which WATCH will treat as touching every key it held.
    pub fn raise_db(&self, db: usize) {
        self.blocking.db_changed(db);
        self.taps.call(&Event {
            db,
            key: Bytes::new(),
            kind: EventKind::Flushed,
            origin: 0,
        });
    }

    /// True when something consumes the events of modified keys (today: a tap; WATCH,
    /// blocked clients and keyspace notifications will add to this), so commands record
    /// the keys they change.
    pub fn wants_key_events(&self) -> bool {
        self.taps.on.load(Ordering::Relaxed)
            || self.blocking.blocked_clients() > 0
            || self.watches.any()
            || self.tracking.any()
    }

    /// Install (or remove) a listener that sees every event.
    pub fn set_tap(&self, tap: Option<Tap>) {
        let on = tap.is_some();
        *self.taps.tap.write() = tap;
        self.taps.on.store(on, Ordering::Relaxed);
    }
}
