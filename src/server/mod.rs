//! The network server: shared state, the listener, one task per connection, shutdown.
//!
//! [`Shared`] is everything connections have in common (store, configuration, statistics,
//! the client registry). [`Session`] runs commands against it in-process, without a socket.

pub mod client;
pub mod connection;
pub mod http;
pub mod listener;
pub mod shutdown;
pub mod stats;

pub use client::{ClientInfo, ClientState};
pub use listener::run;
pub use stats::Stats;

use crate::command;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::resp::{Frame, Protocol, ReplyBuf};
use crate::store::Store;
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// State shared by every connection.
pub struct Shared {
    me: std::sync::Weak<Shared>,
    pub store: Arc<Store>,
    pub config: RwLock<Config>,
    pub stats: Stats,
    pub metrics: Metrics,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_client_id: AtomicU64,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    /// The port really bound (differs from the setting when it was 0).
    pub port: AtomicU64,
    pub shutdown: shutdown::Shutdown,
    /// Hot settings mirrored from `config` (read on every command).
    pub hot: Hot,
    pub slowlog: crate::command::introspect::SlowLog,
    /// The append-only file, while `appendonly` is on.
    aof: RwLock<Option<Arc<crate::aof::Aof>>>,
}

/// Settings read on hot paths, mirrored from `Config` whenever it changes.
pub struct Hot {
    pub requirepass: RwLock<Option<Vec<u8>>>,
    pub maxclients: AtomicU64,
    pub maxmemory: AtomicU64,
    pub policy: RwLock<crate::store::evict::Policy>,
    pub samples: AtomicU64,
    /// `slowlog-log-slower-than` (microseconds; negative = off) and `slowlog-max-len`.
    pub slowlog_threshold: std::sync::atomic::AtomicI64,
    pub slowlog_max: AtomicU64,
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        let databases = config.get_u64("databases") as usize;
        let store = Arc::new(Store::new(databases));
        Shared::with_store(config, store)
    }

    pub fn with_store(config: Config, store: Arc<Store>) -> Arc<Shared> {
        let started_unix_ms = store.now();
        let run_id = {
            let mut x = started_unix_ms ^ (std::process::id() as u64) << 20 ^ 0x9E3779B97F4A7C15;
            let mut s = String::new();
            for _ in 0..40 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(char::from_digit((x % 16) as u32, 16).unwrap());
            }
            s
        };
        let shared = Arc::new_cyclic(|me| Shared {
            me: me.clone(),
            store,
            config: RwLock::new(config),
            stats: Stats::default(),
            metrics: Metrics::new(),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            started: Instant::now(),
            started_unix_ms,
            run_id,
            port: AtomicU64::new(0),
            shutdown: shutdown::Shutdown::default(),
            hot: Hot {
                requirepass: RwLock::new(None),
                maxclients: AtomicU64::new(0),
                maxmemory: AtomicU64::new(0),
                policy: RwLock::new(crate::store::evict::Policy::NoEviction),
                samples: AtomicU64::new(5),
                slowlog_threshold: std::sync::atomic::AtomicI64::new(10_000),
                slowlog_max: AtomicU64::new(128),
            },
            aof: RwLock::new(None),
            slowlog: Default::default(),
        });
        shared.refresh_hot();
        shared
    }

    /// Re-read the hot settings after the configuration changed.
    pub fn refresh_hot(&self) {
        let c = self.config.read();
        *self.hot.policy.write() = crate::store::evict::Policy::parse(c.get("maxmemory-policy"));
        self.hot
            .samples
            .store(c.get_u64("maxmemory-samples"), Ordering::Relaxed);
        self.hot
            .slowlog_threshold
            .store(c.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
        self.hot
            .slowlog_max
            .store(c.get_u64("slowlog-max-len"), Ordering::Relaxed);
        let counters = self.store.counters();
        counters
            .lfu_log_factor
            .store(c.get_u64("lfu-log-factor") as u32, Ordering::Relaxed);
        counters
            .lfu_decay_time
            .store(c.get_u64("lfu-decay-time") as u32, Ordering::Relaxed);
        let pass = c.get("requirepass");
        *self.hot.requirepass.write() = if pass.is_empty() {
            None
        } else {
            Some(pass.as_bytes().to_vec())
        };
        self.hot
            .maxclients
            .store(c.get_u64("maxclients"), Ordering::Relaxed);
        self.hot
            .maxmemory
            .store(c.get_u64("maxmemory"), Ordering::Relaxed);
    }

    /// The `Arc` this state lives in (for work handed to other threads).
    pub fn self_arc(&self) -> Arc<Shared> {
        self.me
            .upgrade()
            .expect("Shared is only built inside an Arc")
    }

    pub fn aof(&self) -> Option<Arc<crate::aof::Aof>> {
        self.aof.read().clone()
    }

    pub fn set_aof(&self, aof: Option<Arc<crate::aof::Aof>>) {
        let on = aof.is_some();
        *self.aof.write() = aof;
        self.store
            .counters()
            .log_expired
            .store(on, Ordering::SeqCst);
        if !on {
            self.store.take_expired_log();
        }
    }

    /// Start a background rewrite when the AOF has grown past the `auto-aof-rewrite-*`
    /// thresholds.
    pub fn maybe_auto_rewrite(self: &Arc<Self>) {
        let Some(aof) = self.aof() else { return };
        let (pct, min) = {
            let c = self.config.read();
            (
                c.get_u64("auto-aof-rewrite-percentage"),
                c.get_u64("auto-aof-rewrite-min-size"),
            )
        };
        let size = aof.size.load(Ordering::Relaxed);
        let base = aof.base_size.load(Ordering::Relaxed).max(1);
        let growth = size.saturating_sub(base) * 100 / base;
        if pct > 0
            && size >= min
            && growth >= pct
            && !aof.rewrite_in_progress.load(Ordering::Relaxed)
        {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            crate::aof::rewrite::start(self.clone(), aof);
        }
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// Runs commands in-process, as one client would over a connection.
///
/// ```
/// use ferrokv::config::Config;
/// use ferrokv::resp::Frame;
/// use ferrokv::server::{Session, Shared};
///
/// let shared = Shared::new(Config::default());
/// let mut session = Session::new(shared);
/// assert_eq!(session.execute(&[&b"SET"[..], b"k", b"v"]), Frame::Simple("OK".into()));
/// assert_eq!(session.execute(&[&b"GET"[..], b"k"]), Frame::Bulk(b"v".to_vec()));
/// assert_eq!(session.execute(&[&b"INCR"[..], b"k"]),
///            Frame::Error("ERR value is not an integer or out of range".into()));
/// ```
pub struct Session {
    shared: Arc<Shared>,
    client: ClientState,
    out: ReplyBuf,
}

impl Session {
    pub fn new(shared: Arc<Shared>) -> Session {
        let info = ClientInfo::new(
            shared.next_client_id(),
            "in-process".into(),
            "in-process".into(),
            shared.store.now(),
        );
        let client = ClientState::new(Arc::new(info), shared.hot.requirepass.read().is_none());
        Session {
            shared,
            client,
            out: ReplyBuf::new(Protocol::Resp2),
        }
    }

    /// Run one command and decode its reply.
    pub fn execute(&mut self, args: &[&[u8]]) -> Frame {
        let args: Vec<bytes::Bytes> = args
            .iter()
            .map(|a| bytes::Bytes::copy_from_slice(a))
            .collect();
        self.out.buf.clear();
        let mut local = command::LocalStats::default();
        let now = self.shared.store.now();
        command::execute(
            &self.shared,
            &mut self.client,
            &mut self.out,
            &args,
            now,
            &mut local,
        );
        local.flush(&self.shared);
        Frame::parse(&self.out.buf)
            .map(|(f, _)| f)
            .unwrap_or(Frame::Null)
    }
}
