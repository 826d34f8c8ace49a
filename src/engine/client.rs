//! What the server knows about each client: the registry entry others can see
//! (`CLIENT LIST`, `CLIENT KILL`) and the connection's private state.

use crate::resp::Protocol;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// The part of a client visible to other connections.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created_ms: u64,
    pub name: Mutex<Vec<u8>>,
    pub lib_name: Mutex<Vec<u8>>,
    pub lib_ver: Mutex<Vec<u8>>,
    pub db: AtomicUsize,
    pub resp: AtomicUsize,
    pub last_cmd: Mutex<String>,
    pub last_interaction_ms: AtomicU64,
    /// Set by `CLIENT KILL`; the connection closes when it sees it.
    pub killed: AtomicBool,
    pub kill_notify: Notify,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, now_ms: u64) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            name: Mutex::new(Vec::new()),
            lib_name: Mutex::new(Vec::new()),
            lib_ver: Mutex::new(Vec::new()),
            db: AtomicUsize::new(0),
            resp: AtomicUsize::new(2),
            last_cmd: Mutex::new("NULL".into()),
            last_interaction_ms: AtomicU64::new(now_ms),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        }
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_notify.notify_one();
    }

    /// One `CLIENT LIST` / `CLIENT INFO` line (without the newline), in Redis's field order.
    pub fn describe(&self, now_ms: u64) -> String {
        let age = now_ms.saturating_sub(self.created_ms) / 1000;
        let idle = now_ms.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000;
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={age} idle={idle} flags=N db={} sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=1024 events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            String::from_utf8_lossy(&self.name.lock()),
            self.db.load(Ordering::Relaxed),
            self.last_cmd.lock(),
            self.resp.load(Ordering::Relaxed),
            String::from_utf8_lossy(&self.lib_name.lock()),
            String::from_utf8_lossy(&self.lib_ver.lock()),
        )
    }
}

/// A connection's own state, touched only by its task.
pub struct ClientState {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub proto: Protocol,
    pub authenticated: bool,
    /// Close the connection after the current replies are written (`QUIT`, a kill).
    pub close: bool,
    /// The command runs again after a wake-up while blocked (a key of the wrong type is then
    /// waited on, as Redis does, instead of failing).
    pub block_retry: bool,
    /// Inside `MULTI`: the commands queued so far.
    pub multi: Option<Vec<Vec<bytes::Bytes>>>,
    /// A command was refused while queueing: `EXEC` answers `EXECABORT`.
    pub multi_aborted: bool,
    /// The keys this client WATCHes.
    pub watching: Option<super::watch::Watching>,
    /// Channels, patterns and shard channels this client is subscribed to.
    pub sub: Option<Box<Subscriptions>>,
    /// `CLIENT REPLY`: whether replies are sent.
    pub reply: ReplyMode,
}

/// `CLIENT REPLY ON|OFF|SKIP`. Pub/sub pushes (messages and (un)subscribe confirmations) are
/// sent whatever the mode, as in Redis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// `CLIENT REPLY SKIP` was just run: the next command's reply is dropped.
    SkipNext,
    /// This command's reply is dropped.
    Skip,
}

/// A subscribed client's side of pub/sub; dropping it (RESET, disconnect) unsubscribes all.
pub struct Subscriptions {
    pub registry: Arc<super::pubsub::PubSub>,
    pub mailbox: Arc<super::pubsub::Mailbox>,
    /// The queue's receiving end, until the connection takes it.
    pub rx: Option<tokio::sync::mpsc::UnboundedReceiver<super::pubsub::Message>>,
    pub channels: std::collections::BTreeSet<bytes::Bytes>,
    pub patterns: std::collections::BTreeSet<bytes::Bytes>,
    pub shard: std::collections::BTreeSet<bytes::Bytes>,
}

impl Subscriptions {
    /// Channels plus patterns (what SUBSCRIBE and PSUBSCRIBE replies count).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
    pub fn is_empty(&self) -> bool {
        self.count() == 0 && self.shard.is_empty()
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        use super::pubsub::Space;
        let id = self.mailbox.client_id;
        for c in &self.channels {
            self.registry.unsubscribe(Space::Channel, c, id);
        }
        for p in &self.patterns {
            self.registry.unsubscribe(Space::Pattern, p, id);
        }
        for c in &self.shard {
            self.registry.unsubscribe(Space::Shard, c, id);
        }
    }
}

impl ClientState {
    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> ClientState {
        ClientState {
            info,
            db: 0,
            proto: Protocol::Resp2,
            authenticated,
            close: false,
            block_retry: false,
            multi: None,
            multi_aborted: false,
            watching: None,
            sub: None,
            reply: ReplyMode::On,
        }
    }
}
