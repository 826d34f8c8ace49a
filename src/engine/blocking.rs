//! Clients blocked on keys (`BLPOP`, `BLMOVE`, …).
//!
//! A blocking command that finds nothing to serve records the keys it waits on in its
//! effects and replies nothing; the batch runner then parks the client here, in a queue per
//! key, in the order clients blocked. A keyspace event on one of those keys wakes the first
//! client of its queue that is not already awake; that client runs its command again as a
//! fresh dispatch (under the locks of its keys). If it is served, its own change wakes the next
//! one; if not (another client took the element first), it waits again at the head of the
//! queue. Waiting costs nothing: the connection task sleeps on a `Notify` until woken, timed
//! out, unblocked (`CLIENT UNBLOCK`) or disconnected.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Why `CLIENT UNBLOCK` ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unblock {
    Timeout,
    Error,
}

/// One blocked client.
pub struct Waiter {
    pub client_id: u64,
    pub notify: Notify,
    /// Woken and not yet back in the queue's waiting state.
    woken: AtomicBool,
    pub unblocked: Mutex<Option<Unblock>>,
    keys: Vec<(usize, Bytes)>,
    /// Postponed by `CLIENT PAUSE` (no keys), rather than blocked by its command.
    paused: bool,
    /// Waits in XREAD/XREADGROUP, which a deleted stream concerns (a group reader is then
    /// answered); a pop cannot be served by a key that went.
    on_streams: bool,
}

/// The clients waiting on each (database, key), in the order they blocked.
type Queues = HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>;

#[derive(Default)]
pub struct Blocking {
    queues: Mutex<Queues>,
    by_client: Mutex<HashMap<u64, Arc<Waiter>>>,
    /// Clients blocked now (`INFO clients` `blocked_clients`); also a cheap "anyone?" check.
    count: AtomicUsize,
}

impl Blocking {
    pub fn blocked_clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Clients postponed by `CLIENT PAUSE` (parked on no key).
    pub fn paused_clients(&self) -> usize {
        self.by_client.lock().values().filter(|w| w.paused).count()
    }

    /// Park `client_id` on `keys` (database, key; none for `WAIT`), or as postponed by
    /// `CLIENT PAUSE` (`paused`); returns its waiter.
    /// `command` is the blocked command's name.
    pub fn block(
        &self,
        client_id: u64,
        command: &[u8],
        keys: Vec<(usize, Bytes)>,
        paused: bool,
    ) -> Arc<Waiter> {
        let w = Arc::new(Waiter {
            client_id,
            notify: Notify::new(),
            woken: AtomicBool::new(false),
            unblocked: Mutex::new(None),
            keys,
            paused,
            on_streams: command
                .first()
                .is_some_and(|c| c.eq_ignore_ascii_case(&b'x')),
        });
        let mut q = self.queues.lock();
        for k in &w.keys {
            q.entry(k.clone()).or_default().push_back(w.clone());
        }
        drop(q);
        self.by_client.lock().insert(client_id, w.clone());
        self.count.fetch_add(1, Ordering::Relaxed);
        w
    }

    /// The client is done waiting (served, timed out, unblocked or gone). A wake-up it
    /// received is passed on to the next client waiting on its keys that still exist
    /// (`exists`): it may have failed (a destination of the wrong type), gone away, or left
    /// elements behind. A key that went serves nobody: waking a waiter for it would only
    /// make it run its command again for nothing (once per pop, measured, when a list is
    /// emptied as fast as it is fed).
    pub fn finish(&self, w: &Arc<Waiter>, exists: impl Fn(usize, &[u8]) -> bool) {
        self.unblock(w);
        if w.woken.load(Ordering::Acquire) {
            for (db, k) in &w.keys {
                if exists(*db, k) {
                    self.key_changed(*db, k);
                }
            }
        }
    }

    /// Remove the client from the queues.
    pub fn unblock(&self, w: &Arc<Waiter>) {
        let mut q = self.queues.lock();
        for k in &w.keys {
            if let Some(queue) = q.get_mut(k) {
                queue.retain(|x| !Arc::ptr_eq(x, w));
                if queue.is_empty() {
                    q.remove(k);
                }
            }
        }
        drop(q);
        if self.by_client.lock().remove(&w.client_id).is_some() {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Tried again and not served: wait again (keeping its place in the queues).
    pub fn rearm(&self, w: &Waiter) {
        w.woken.store(false, Ordering::Release);
    }

    /// A key changed: wake the first client waiting on it, unless it is awake already (it
    /// passes the wake-up on when it is done, see `finish`). One awake client per key at a
    /// time keeps them served in the order they blocked, whichever order the runtime runs
    /// woken tasks in (the multi-threaded one runs the last woken first).
    pub fn key_changed(&self, db: usize, key: &Bytes) {
        self.wake_first(db, key, |_| true)
    }

    /// A command deleted the key: only stream readers have something to learn from that.
    pub fn key_deleted(&self, db: usize, key: &Bytes) {
        self.wake_first(db, key, |w| w.on_streams)
    }

    fn wake_first(&self, db: usize, key: &Bytes, concerned: impl Fn(&Waiter) -> bool) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let q = self.queues.lock();
        if let Some(queue) = q.get(&(db, key.clone())) {
            let first = queue.iter().find(|w| concerned(w));
            if let Some(w) = first.filter(|w| !w.woken.swap(true, Ordering::AcqRel)) {
                w.notify.notify_one();
            }
        }
    }

    /// Every waiter on a database that was flushed or swapped gets a look.
    pub fn db_changed(&self, db: usize) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        for w in self.by_client.lock().values() {
            if w.keys.iter().any(|(d, _)| *d == db) && !w.woken.swap(true, Ordering::AcqRel) {
                w.notify.notify_one();
            }
        }
    }

    /// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: true when the client was blocked.
    pub fn unblock_client(&self, id: u64, how: Unblock) -> bool {
        match self.by_client.lock().get(&id) {
            // A client postponed by CLIENT PAUSE is not blocked in this sense.
            Some(w) if !w.paused => {
                *w.unblocked.lock() = Some(how);
                w.notify.notify_one();
                true
            }
            _ => false,
        }
    }
}
