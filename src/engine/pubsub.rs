//! Pub/sub: who listens to which channels, patterns and shard channels, and delivery.
//!
//! A subscribed client owns a [`Mailbox`]: publishers push messages into its unbounded queue
//! and its connection task writes them out in its own protocol (RESP2 arrays, RESP3 pushes).
//! Messages from one publisher arrive in publish order (one queue per subscriber, pushed
//! under the registry's lock). A subscriber that does not read is disconnected once its queue
//! holds more than [`OUTPUT_HARD_LIMIT`] bytes, or more than [`OUTPUT_SOFT_LIMIT`] for
//! [`OUTPUT_SOFT_SECONDS`] (Redis's default `client-output-buffer-limit pubsub 32mb 8mb 60`),
//! so it cannot grow the server's memory without bound.

use crate::store::glob::glob_match;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Bytes queued for one subscriber beyond which it is disconnected.
pub const OUTPUT_HARD_LIMIT: usize = 32 * 1024 * 1024;
/// Bytes queued beyond which a subscriber is disconnected if it stays above for
/// [`OUTPUT_SOFT_SECONDS`].
pub const OUTPUT_SOFT_LIMIT: usize = 8 * 1024 * 1024;
pub const OUTPUT_SOFT_SECONDS: u64 = 60;

/// Milliseconds on a monotonic clock (since first use), for the soft limit.
fn mono_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
        + 1
}

/// One delivered message.
#[derive(Debug)]
pub struct Message {
    /// `message`, `pmessage` or `smessage`.
    pub kind: &'static str,
    pub pattern: Option<Bytes>,
    pub channel: Bytes,
    pub payload: Bytes,
}

impl Message {
    fn size(&self) -> usize {
        self.channel.len() + self.payload.len() + self.pattern.as_ref().map_or(0, |p| p.len()) + 48
    }
}

/// A subscriber's queue, shared by the registry and the client.
pub struct Mailbox {
    pub client_id: u64,
    tx: mpsc::UnboundedSender<Message>,
    /// Bytes queued and not yet taken by the connection.
    pending: AtomicUsize,
    /// When the queue went over the soft limit (`mono_ms`; 0: it is under).
    soft_since: std::sync::atomic::AtomicU64,
    /// Set when the subscriber went over the limit (the connection then closes).
    on_overflow: Box<dyn Fn() + Send + Sync>,
}

impl Mailbox {
    pub fn new(
        client_id: u64,
        on_overflow: Box<dyn Fn() + Send + Sync>,
    ) -> (Arc<Mailbox>, mpsc::UnboundedReceiver<Message>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let m = Mailbox {
            client_id,
            tx,
            pending: AtomicUsize::new(0),
            soft_since: std::sync::atomic::AtomicU64::new(0),
            on_overflow,
        };
        (Arc::new(m), rx)
    }

    /// Queue `m`; false when the subscriber is gone or went over a limit (it is then
    /// disconnected and the message dropped).
    pub(crate) fn deliver(&self, m: Message) -> bool {
        let size = m.size();
        let pending = self.pending.fetch_add(size, Ordering::Relaxed) + size;
        if pending > OUTPUT_HARD_LIMIT || self.soft_exceeded(pending) {
            (self.on_overflow)();
            return false;
        }
        self.tx.send(m).is_ok()
    }

    /// Whether the queue has stayed over the soft limit for too long.
    fn soft_exceeded(&self, pending: usize) -> bool {
        if pending <= OUTPUT_SOFT_LIMIT {
            self.soft_since.store(0, Ordering::Relaxed);
            return false;
        }
        let now = mono_ms();
        match self
            .soft_since
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => false,
            Err(since) => now.saturating_sub(since) > OUTPUT_SOFT_SECONDS * 1000,
        }
    }

    /// The connection took a message of `m`'s size out of the queue.
    pub fn taken(&self, m: &Message) {
        self.pending.fetch_sub(m.size(), Ordering::Relaxed);
    }
}

type Subs = BTreeMap<u64, Arc<Mailbox>>;

#[derive(Default)]
struct Registry {
    channels: HashMap<Bytes, Subs>,
    patterns: HashMap<Bytes, Subs>,
    shard: HashMap<Bytes, Subs>,
    /// The patterns by their literal prefix (the bytes before the first glob character), so a
    /// publish tests only the patterns whose prefix starts its channel: with many patterns
    /// (`user:1:*`, `user:2:*`, …) a message costs a few lookups, not a match per pattern.
    by_prefix: HashMap<Bytes, Vec<Bytes>>,
}

/// The literal start of a glob pattern.
fn literal_prefix(pat: &Bytes) -> Bytes {
    let end = pat
        .iter()
        .position(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
        .unwrap_or(pat.len());
    pat.slice(..end)
}

impl Registry {
    /// The patterns that may match `channel` (their prefix starts it).
    fn candidates<'a>(&'a self, channel: &'a [u8]) -> impl Iterator<Item = &'a Bytes> + 'a {
        // Few distinct prefixes: test each; else look up each prefix of the channel.
        let few = self.by_prefix.len() <= channel.len() + 1;
        let scan = few.then(|| {
            self.by_prefix
                .iter()
                .filter(move |(p, _)| channel.starts_with(p))
                .flat_map(|(_, v)| v.iter())
        });
        let lookups = (!few).then(|| {
            (0..=channel.len())
                .filter_map(move |i| self.by_prefix.get(&channel[..i]))
                .flatten()
        });
        scan.into_iter()
            .flatten()
            .chain(lookups.into_iter().flatten())
    }
}

#[derive(Default)]
pub struct PubSub {
    reg: Mutex<Registry>,
}

/// Which namespace a subscription lives in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Space {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    fn map(reg: &mut Registry, s: Space) -> &mut HashMap<Bytes, Subs> {
        match s {
            Space::Channel => &mut reg.channels,
            Space::Pattern => &mut reg.patterns,
            Space::Shard => &mut reg.shard,
        }
    }

    pub fn subscribe(&self, s: Space, name: &Bytes, mb: &Arc<Mailbox>) {
        let mut reg = self.reg.lock();
        let m = PubSub::map(&mut reg, s);
        let new = !m.contains_key(name);
        m.entry(name.clone())
            .or_default()
            .insert(mb.client_id, mb.clone());
        if new && s == Space::Pattern {
            reg.by_prefix
                .entry(literal_prefix(name))
                .or_default()
                .push(name.clone());
        }
    }

    pub fn unsubscribe(&self, s: Space, name: &Bytes, client_id: u64) {
        let mut reg = self.reg.lock();
        let m = PubSub::map(&mut reg, s);
        let Some(subs) = m.get_mut(name) else { return };
        subs.remove(&client_id);
        if !subs.is_empty() {
            return;
        }
        m.remove(name);
        if s == Space::Pattern {
            let prefix = literal_prefix(name);
            if let Some(v) = reg.by_prefix.get_mut(&prefix) {
                v.retain(|p| p != name);
                if v.is_empty() {
                    reg.by_prefix.remove(&prefix);
                }
            }
        }
    }

    /// Deliver to the channel's subscribers and the matching patterns' (or, for shard
    /// channels, the shard subscribers); how many received it.
    pub fn publish(&self, shard: bool, channel: &Bytes, payload: &Bytes) -> usize {
        let reg = self.reg.lock();
        let mut n = 0;
        let (direct, kind) = if shard {
            (&reg.shard, "smessage")
        } else {
            (&reg.channels, "message")
        };
        if let Some(subs) = direct.get(channel) {
            for mb in subs.values() {
                n += mb.deliver(Message {
                    kind,
                    pattern: None,
                    channel: channel.clone(),
                    payload: payload.clone(),
                }) as usize;
            }
        }
        if !shard {
            for pat in reg.candidates(channel) {
                if glob_match(pat, channel, false) {
                    let Some(subs) = reg.patterns.get(pat) else {
                        continue;
                    };
                    for mb in subs.values() {
                        n += mb.deliver(Message {
                            kind: "pmessage",
                            pattern: Some(pat.clone()),
                            channel: channel.clone(),
                            payload: payload.clone(),
                        }) as usize;
                    }
                }
            }
        }
        n
    }

    /// Active channels (or shard channels) matching `pattern` (all without one).
    pub fn channels(&self, shard: bool, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let reg = self.reg.lock();
        let m = if shard { &reg.shard } else { &reg.channels };
        m.keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of `channel`.
    pub fn numsub(&self, shard: bool, channel: &[u8]) -> usize {
        let reg = self.reg.lock();
        let m = if shard { &reg.shard } else { &reg.channels };
        m.get(channel).map_or(0, |s| s.len())
    }

    /// Channels (not shard channels) with at least one subscriber (`INFO`'s `pubsub_channels`).
    pub fn channel_count(&self) -> usize {
        self.reg.lock().channels.len()
    }

    /// Shard channels with at least one subscriber (`pubsubshard_channels`).
    pub fn shard_channel_count(&self) -> usize {
        self.reg.lock().shard.len()
    }

    /// Patterns with at least one subscriber.
    pub fn numpat(&self) -> usize {
        self.reg.lock().patterns.len()
    }
}
