//! Client-side caching (`CLIENT TRACKING`): which clients may hold which keys, and the
//! invalidation messages they get when those keys change.
//!
//! As in Redis, a tracking client (default mode) has the keys of each read-only command it
//! runs remembered in one table, keyed by name whatever the database; the first change to
//! such a key sends every client in its entry an invalidation and forgets the entry. A
//! client in BCAST mode instead subscribes to key prefixes: keys changed under them are
//! gathered and sent once its command (or the server's expiry pass) is over, one message per
//! prefix. A flush sends every tracking client a null ("everything").
//!
//! Messages travel through the client's mailbox (`pubsub::Mailbox`), or the mailbox of the
//! client its messages are redirected to, so they reach the socket after the reply of the
//! command that caused them. In RESP3 they are `invalidate` pushes; a RESP2 client can only
//! get them redirected to a subscribed connection, as messages of `__redis__:invalidate`.
//!
//! The table holds at most `tracking-table-max-keys` keys (0: no limit): past it, keys are
//! forgotten (their clients invalidated) until it is back under.

use super::pubsub::{Mailbox, Message};
use super::Engine;
use crate::resp::{Protocol, ReplyBuf};
use bytes::Bytes;
use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The kinds of tracking messages in a mailbox (the connection writes them; see
/// `server::connection`).
pub const INVALIDATE_KIND: &str = "invalidate";
pub const REDIR_BROKEN_KIND: &str = "tracking-redir-broken";
/// The channel a redirected invalidation is published on.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// One tracking client's settings (`CLIENT TRACKING on …`).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Client id the messages go to (0: the client itself).
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    pub prefixes: Vec<Bytes>,
}

struct Tracker {
    opts: Options,
    /// The client's own mailbox (for its pushes, and for `tracking-redir-broken`).
    mailbox: Arc<Mailbox>,
    /// Its redirect target went away (`broken_redirect`, `R` in `CLIENT LIST`).
    broken: bool,
}

#[derive(Default)]
struct Inner {
    /// Key → clients that may cache it.
    keys: HashMap<Bytes, BTreeSet<u64>>,
    /// Client ids in `keys`, all keys together (`tracking_total_items`).
    items: u64,
    clients: HashMap<u64, Tracker>,
    /// BCAST prefix → its clients, and the keys changed under it since the last broadcast
    /// (with who changed each last, for NOLOOP).
    prefixes: BTreeMap<Bytes, (BTreeSet<u64>, BTreeMap<Bytes, u64>)>,
    /// Some prefix has keys waiting.
    pending: bool,
}

#[derive(Default)]
pub struct Tracking {
    /// Tracking clients; zero keeps every hook to one relaxed load.
    count: AtomicUsize,
    /// `tracking-table-max-keys`.
    pub max_keys: AtomicU64,
    inner: Mutex<Inner>,
}

/// A RESP array of `keys` (the same bytes in RESP2 and RESP3).
fn key_array<'a>(keys: impl ExactSizeIterator<Item = &'a Bytes>) -> Bytes {
    let keys: Vec<&[u8]> = keys.map(|k| &k[..]).collect();
    let mut b = Vec::new();
    crate::resp::parse::encode_request(&keys, &mut b);
    Bytes::from(b)
}

thread_local! {
    /// While a client's command evicts keys before it runs: that client's id, and the
    /// messages meant for its own connection, which go out before the command's reply.
    static DIRECT: RefCell<Option<(u64, Vec<Message>)>> = const { RefCell::new(None) };
}

/// Messages to client `id` are kept (not queued) until `direct_end`.
pub fn direct_begin(id: u64) {
    DIRECT.with(|d| *d.borrow_mut() = Some((id, Vec::new())));
}

/// The messages kept since `direct_begin`.
pub fn direct_end() -> Vec<Message> {
    DIRECT.with(|d| d.borrow_mut().take().map(|(_, v)| v).unwrap_or_default())
}

/// Queue `m` for the client of `mb`, or keep it if that client's command is evicting.
fn deliver(mb: &Mailbox, m: Message) {
    let kept = DIRECT.with(|d| match &mut *d.borrow_mut() {
        Some((id, kept)) if *id == mb.client_id => {
            kept.push(m);
            None
        }
        _ => Some(m),
    });
    if let Some(m) = kept {
        mb.deliver(m);
    }
}

/// Write a tracking message: a push in RESP3; in RESP2 only a redirected invalidation, to a
/// subscribed client, as a `__redis__:invalidate` message.
pub fn write(out: &mut ReplyBuf, m: &Message, proto: Protocol, subscribed: bool) {
    let resp3 = proto == Protocol::Resp3;
    if m.kind == REDIR_BROKEN_KIND {
        if resp3 {
            out.push(2);
            out.bulk(m.kind.as_bytes());
            let id = std::str::from_utf8(&m.payload)
                .ok()
                .and_then(|s| s.parse().ok());
            out.int(id.unwrap_or(0));
        }
        return;
    }
    let redirected = !m.channel.is_empty();
    if resp3 {
        out.push(2);
        out.bulk(m.kind.as_bytes());
    } else if redirected && subscribed {
        out.array(3);
        out.bulk(b"message");
        out.bulk(&m.channel);
    } else {
        return;
    }
    // The keys, already a RESP array; none is a flush: every key.
    if m.payload.is_empty() {
        out.null();
    } else {
        out.buf.extend_from_slice(&m.payload);
    }
}

impl Tracking {
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    /// The client's settings, if it tracks, and whether its redirect broke.
    pub fn options(&self, id: u64) -> Option<(Options, bool)> {
        if !self.any() {
            return None;
        }
        let inner = self.inner.lock();
        inner.clients.get(&id).map(|t| (t.opts.clone(), t.broken))
    }

    /// The prefix of `new` (or of `existing`) that collides with another, as Redis words it.
    pub fn prefix_collision(&self, id: u64, new: &[Bytes]) -> Option<String> {
        let overlap = |a: &[u8], b: &[u8]| {
            let n = a.len().min(b.len());
            a[..n] == b[..n]
        };
        let inner = self.inner.lock();
        let existing = inner.clients.get(&id).map(|t| t.opts.prefixes.clone());
        for (i, p) in new.iter().enumerate() {
            for e in existing.iter().flatten() {
                if overlap(e, p) {
                    return Some(format!(
                        "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                        String::from_utf8_lossy(p),
                        String::from_utf8_lossy(e)
                    ));
                }
            }
            for q in &new[i + 1..] {
                if overlap(p, q) {
                    return Some(format!(
                        "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                        String::from_utf8_lossy(p),
                        String::from_utf8_lossy(q)
                    ));
                }
            }
        }
        None
    }

    /// Turn tracking on (or change its options) for client `id`. BCAST prefixes add to those
    /// it has; BCAST without any is the empty prefix.
    pub fn enable(&self, id: u64, mailbox: Arc<Mailbox>, mut opts: Options) {
        let mut inner = self.inner.lock();
        let mut prefixes = inner
            .clients
            .get(&id)
            .map(|t| t.opts.prefixes.clone())
            .unwrap_or_default();
        if opts.bcast {
            if opts.prefixes.is_empty() && prefixes.is_empty() {
                opts.prefixes.push(Bytes::new());
            }
            for p in &opts.prefixes {
                if !prefixes.contains(p) {
                    prefixes.push(p.clone());
                }
                inner.prefixes.entry(p.clone()).or_default().0.insert(id);
            }
            prefixes.sort();
        } else {
            prefixes.clear();
        }
        opts.prefixes = prefixes;
        let fresh = inner
            .clients
            .insert(
                id,
                Tracker {
                    opts,
                    mailbox,
                    broken: false,
                },
            )
            .is_none();
        if fresh {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Turn tracking off for client `id` (its entries in the key table go lazily).
    pub fn disable(&self, id: u64) {
        if !self.any() {
            return;
        }
        let mut inner = self.inner.lock();
        let Some(t) = inner.clients.remove(&id) else {
            return;
        };
        self.count.fetch_sub(1, Ordering::Relaxed);
        for p in t.opts.prefixes {
            if let Some((clients, _)) = inner.prefixes.get_mut(&p) {
                clients.remove(&id);
                if clients.is_empty() {
                    inner.prefixes.remove(&p);
                }
            }
        }
    }

    /// Client `id` read `keys` (a read-only command): remember them, unless its mode says
    /// this command's keys are not to be (BCAST; OPTIN without `CLIENT CACHING yes`; OPTOUT
    /// after `CLIENT CACHING no`). Whether they were.
    fn remember<'a>(&self, id: u64, caching: bool, keys: impl Iterator<Item = &'a Bytes>) -> bool {
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let Some(t) = inner.clients.get(&id) else {
            return false;
        };
        let o = &t.opts;
        if o.bcast || (o.optin && !caching) || (o.optout && caching) {
            return false;
        }
        for k in keys {
            if inner.keys.entry(k.clone()).or_default().insert(id) {
                inner.items += 1;
            }
        }
        true
    }

    /// (keys, items, prefixes) for `INFO`.
    pub fn totals(&self) -> (usize, u64, usize) {
        let inner = self.inner.lock();
        (inner.keys.len(), inner.items, inner.prefixes.len())
    }

    pub fn clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

impl Engine {
    /// Where client `t`'s messages go: its own mailbox, or its redirect target's. None when
    /// the target is gone: the client is told (`tracking-redir-broken`) instead.
    fn tracking_target(&self, id: u64, t: &mut Tracker) -> Option<(Arc<Mailbox>, bool)> {
        if t.opts.redirect == 0 {
            return Some((t.mailbox.clone(), false));
        }
        let clients = self.clients.lock();
        let target = clients
            .get(&t.opts.redirect)
            .and_then(|c| c.push.lock().as_ref().and_then(|w| w.upgrade()));
        match target {
            Some(mb) => Some((mb, true)),
            None => {
                t.broken = true;
                // `R` in its `CLIENT LIST` flags.
                if let Some(me) = clients.get(&id) {
                    me.flags
                        .fetch_or(super::client::flag::TRACKING_BROKEN, Ordering::Relaxed);
                }
                deliver(
                    &t.mailbox,
                    Message {
                        kind: REDIR_BROKEN_KIND,
                        pattern: None,
                        channel: Bytes::new(),
                        payload: Bytes::from(t.opts.redirect.to_string()),
                    },
                );
                None
            }
        }
    }

    /// Send client `id` an invalidation: `keys` as a RESP array, or empty for "all keys".
    fn tracking_send(&self, id: u64, t: &mut Tracker, keys: Bytes) {
        if let Some((mb, redirected)) = self.tracking_target(id, t) {
            deliver(
                &mb,
                Message {
                    kind: INVALIDATE_KIND,
                    pattern: None,
                    channel: if redirected {
                        Bytes::from_static(CHANNEL)
                    } else {
                        Bytes::new()
                    },
                    payload: keys,
                },
            );
        }
    }

    /// Key `key` changed (`origin`: the client that changed it, 0 for the server): its
    /// trackers are invalidated and forgotten, and BCAST prefixes over it note it.
    #[inline]
    pub fn tracking_invalidate(&self, key: &Bytes, origin: u64) {
        if self.tracking.any() {
            self.tracking_invalidate_now(key, origin);
        }
    }

    #[cold]
    fn tracking_invalidate_now(&self, key: &Bytes, origin: u64) {
        let mut inner = self.tracking.inner.lock();
        let inner = &mut *inner;
        let mut noted = false;
        for (p, (_, changed)) in inner.prefixes.iter_mut() {
            if key.starts_with(p) {
                changed.insert(key.clone(), origin);
                noted = true;
            }
        }
        inner.pending |= noted;
        self.tracking_forget(inner, key, origin);
    }

    /// Drop `key` from the table, telling the clients that read it (not one that switched
    /// to BCAST since, nor `origin` itself in NOLOOP mode; 0 is the server, no client).
    fn tracking_forget(&self, inner: &mut Inner, key: &Bytes, origin: u64) {
        let Some(ids) = inner.keys.remove(key) else {
            return;
        };
        inner.items -= ids.len() as u64;
        let payload = key_array(std::iter::once(key));
        for id in ids {
            let Some(t) = inner.clients.get_mut(&id) else {
                continue;
            };
            if t.opts.bcast || (t.opts.noloop && id == origin) {
                continue;
            }
            self.tracking_send(id, t, payload.clone());
        }
    }

    /// Send the keys gathered under each BCAST prefix (after a command, or an expiry pass).
    #[inline]
    pub fn tracking_broadcast(&self) {
        if self.tracking.any() {
            self.tracking_broadcast_now();
        }
    }

    #[cold]
    fn tracking_broadcast_now(&self) {
        let mut inner = self.tracking.inner.lock();
        if !std::mem::take(&mut inner.pending) {
            return;
        }
        let inner = &mut *inner;
        for (clients, changed) in inner.prefixes.values_mut() {
            if changed.is_empty() {
                continue;
            }
            let all = key_array(changed.keys());
            for id in clients.iter() {
                let Some(t) = inner.clients.get_mut(id) else {
                    continue;
                };
                if t.opts.noloop {
                    let mine: Vec<&Bytes> = changed
                        .iter()
                        .filter(|(_, by)| *by != id)
                        .map(|(k, _)| k)
                        .collect();
                    if !mine.is_empty() {
                        self.tracking_send(*id, t, key_array(mine.into_iter()));
                    }
                } else {
                    self.tracking_send(*id, t, all.clone());
                }
            }
            changed.clear();
        }
    }

    /// A database was flushed: every tracking client is told all its keys went, and the
    /// table is emptied.
    pub fn tracking_flush(&self) {
        let mut inner = self.tracking.inner.lock();
        let inner = &mut *inner;
        inner.keys.clear();
        inner.items = 0;
        for (id, t) in inner.clients.iter_mut() {
            self.tracking_send(*id, t, Bytes::new());
        }
    }

    /// Keep the key table within `tracking-table-max-keys`, invalidating keys it forgets
    /// (as if they had changed; BCAST clients, who never read them, are not told).
    pub fn tracking_limit(&self) {
        let max = self.tracking.max_keys.load(Ordering::Relaxed) as usize;
        if max == 0 || !self.tracking.any() {
            return;
        }
        let mut inner = self.tracking.inner.lock();
        let inner = &mut *inner;
        let excess = inner.keys.len().saturating_sub(max);
        if excess == 0 {
            return;
        }
        // One pass picks them all: repeated first-key lookups in a thinning table would
        // each scan its empty slots.
        let victims: Vec<Bytes> = inner.keys.keys().take(excess).cloned().collect();
        for key in victims {
            self.tracking_forget(inner, &key, 0);
        }
    }
}

impl Engine {
    /// Client `id` ran a read-only command whose keys (in `args`, found by `cmd`'s key specs)
    /// it may now cache: remember them, unless its mode says this command's keys are not to
    /// be (BCAST; OPTIN without `CLIENT CACHING yes`; OPTOUT after `CLIENT CACHING no`).
    pub fn tracking_remember(
        &self,
        id: u64,
        caching: bool,
        cmd: &super::table::Cmd,
        args: &[Bytes],
    ) {
        let mut keys = Vec::new();
        cmd.key_args(args, &mut keys);
        self.tracking_remember_keys(id, caching, keys.into_iter());
    }

    /// `tracking_remember` with the keys already found.
    pub fn tracking_remember_keys<'a>(
        &self,
        id: u64,
        caching: bool,
        keys: impl Iterator<Item = &'a Bytes>,
    ) {
        if self.tracking.remember(id, caching, keys) {
            self.tracking_limit();
        }
    }
}
