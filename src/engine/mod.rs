//! The execution core: every command, from a connection, an embedded [`Session`] or an AOF
//! replay, runs through here.
//!
//! [`Engine`] owns what commands share: the store, the configuration (with its hot settings
//! mirrored as typed fields), statistics, the slow log, the client registry, the propagation
//! sink (the AOF today) and the persistence controls. The dispatcher ([`dispatch`]) looks a
//! command up in the table it was given, checks it, locks the shards of its keys (from the key
//! specs in the table) once and in order ([`locks`]), runs the handler with the locked view
//! ([`Ctx`]), and then, still holding the locks, propagates the effects the handler reported
//! and raises their keyspace events ([`events`]). A [`Batch`] runs a connection's pipelined
//! requests; the same runner serves [`Session`] and replay.
//!
//! The engine knows nothing of the network or of files: `server` and `aof` sit on top of it,
//! and the command families (in `command`) are handed to it as a table of data.

pub mod acl;
pub mod batch;
pub mod blocking;
pub mod client;
pub mod ctx;
pub mod errors;
pub mod events;
pub mod evict;
pub mod expire;
pub mod latency;
pub mod locks;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod pause;
pub mod pubsub;
pub mod redact;
pub mod script;
pub mod session;
pub mod shutdown;
pub mod sink;
pub mod slowlog;
pub mod stats;
pub mod table;
pub mod tracking;
pub mod watch;

pub use batch::Batch;
pub use client::{ClientInfo, ClientState};
pub use ctx::{CmdError, Ctx, Effects, ErrKind, Outcome};
pub use locks::LockSet;
pub use session::Session;
pub use sink::{Persistence, PersistenceInfo, Sink};
pub use stats::Stats;
pub use table::{flags, Cmd, Registry};

use crate::config::Config;
use crate::store::Store;
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// State shared by every client.
pub struct Engine {
    me: std::sync::Weak<Engine>,
    pub store: Arc<Store>,
    /// The command table this engine dispatches from.
    pub registry: &'static Registry,
    pub config: RwLock<Config>,
    pub stats: Stats,
    pub metrics: metrics::Metrics,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    next_client_id: AtomicU64,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    /// The port really bound (differs from the setting when it was 0).
    pub port: AtomicU64,
    pub shutdown: shutdown::Shutdown,
    /// Settings read on every command, mirrored from `config` as typed fields.
    pub hot: Hot,
    pub slowlog: slowlog::SlowLog,
    /// Where effects are propagated (the AOF), while one is attached.
    sink: RwLock<Option<Arc<dyn Sink>>>,
    /// Fast check for "a sink is attached", read once per batch.
    sink_on: AtomicBool,
    /// Write commands hold this shared while a sink is attached; a snapshot of the whole
    /// keyspace (AOF rewrite, `CONFIG SET appendonly yes`) takes it exclusively, so it sees no
    /// half-propagated command while reads go on.
    pub gate: RwLock<()>,
    /// Persistence controls (`BGREWRITEAOF`, `CONFIG SET appendonly`, `INFO persistence`).
    persistence: RwLock<Option<Arc<dyn Persistence>>>,
    listen: RwLock<Option<Arc<dyn sink::Listen>>>,
    /// Listeners of keyspace events (see `events`).
    taps: events::Taps,
    /// Clients blocked on keys.
    pub blocking: blocking::Blocking,
    /// Who WATCHes which keys.
    pub watches: Arc<watch::Watches>,
    /// Pub/sub subscriptions and delivery.
    pub pubsub: Arc<pubsub::PubSub>,
    /// `CLIENT PAUSE`.
    pub pause: pause::Pause,
    /// `MONITOR` clients.
    pub monitors: Arc<monitor::Monitors>,
    /// The latency monitor (`LATENCY`).
    pub latency: latency::Monitor,
    /// Client-side caching (`CLIENT TRACKING`).
    pub tracking: Arc<tracking::Tracking>,
    /// The Lua VM and script cache.
    pub scripts: script::Scripts,
    /// Users and their permissions.
    pub acl: acl::Acl,
    /// Lock sets growing below the shards they hold (a script reaching a lower database):
    /// while non-zero, a set spanning several databases that waits for a shard lets go of
    /// what it holds and starts again (see `LockSet::grow`).
    pub escalating: AtomicU64,
    /// Taken by a command that runs a script (or a transaction holding one) before its
    /// shards, so scripts run one at a time and in the lock order: only the holder grows a
    /// lock set, and no script holds shards while it waits for the VM another one holds.
    pub script_turn: parking_lot::Mutex<()>,
}

/// Settings read on hot paths, mirrored from `Config` whenever it changes, so no command
/// looks a setting up by name.
pub struct Hot {
    pub requirepass: RwLock<Option<Vec<u8>>>,
    pub maxclients: AtomicU64,
    pub maxmemory: AtomicU64,
    pub policy: RwLock<crate::store::evict::Policy>,
    pub samples: AtomicU64,
    /// `slowlog-log-slower-than` (microseconds; negative = off) and `slowlog-max-len`.
    pub slowlog_threshold: AtomicI64,
    pub slowlog_max: AtomicU64,
    /// `notify-keyspace-events` as flags (`engine::notify`).
    pub notify: AtomicU64,
    pub proto_max_bulk_len: AtomicU64,
    pub query_buffer_limit: AtomicU64,
    /// The `*-max-listpack-*` / `set-max-intset-entries` limits collections convert at.
    pub limits: RwLock<crate::store::value::EncodingLimits>,
    /// `min-replicas-to-write` and `min-replicas-max-lag` are both set: with no replicas,
    /// writes are refused (`errors::NOREPLICAS`).
    pub no_good_replicas: AtomicBool,
    /// `busy-reply-threshold` (`lua-time-limit`) in milliseconds; 0: never busy.
    pub busy_reply_threshold: AtomicU64,
    /// `lazyfree-lazy-user-del` (DEL frees as UNLINK) and `lazyfree-lazy-user-flush`
    /// (FLUSHALL/FLUSHDB without a mode are ASYNC).
    pub lazy_user_del: AtomicBool,
    pub lazy_user_flush: AtomicBool,
}

impl Engine {
    /// An engine over a new store sized by `config`, dispatching from `registry`.
    pub fn new(config: Config, registry: &'static Registry) -> Arc<Engine> {
        let databases = config.get_u64("databases") as usize;
        let store = Arc::new(Store::new(databases));
        Engine::with_store(config, store, registry)
    }

    pub fn with_store(
        config: Config,
        store: Arc<Store>,
        registry: &'static Registry,
    ) -> Arc<Engine> {
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
        let engine = Arc::new_cyclic(|me| Engine {
            me: me.clone(),
            store,
            registry,
            config: RwLock::new(config),
            stats: Stats::new(registry.cmds.len()),
            metrics: metrics::Metrics::new(),
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
                slowlog_threshold: AtomicI64::new(10_000),
                slowlog_max: AtomicU64::new(128),
                notify: AtomicU64::new(0),
                proto_max_bulk_len: AtomicU64::new(512 * 1024 * 1024),
                query_buffer_limit: AtomicU64::new(1024 * 1024 * 1024),
                limits: RwLock::new(Default::default()),
                no_good_replicas: AtomicBool::new(false),
                busy_reply_threshold: AtomicU64::new(5000),
                lazy_user_del: AtomicBool::new(false),
                lazy_user_flush: AtomicBool::new(false),
            },
            escalating: AtomicU64::new(0),
            script_turn: parking_lot::Mutex::new(()),
            slowlog: Default::default(),
            sink: RwLock::new(None),
            sink_on: AtomicBool::new(false),
            gate: RwLock::new(()),
            persistence: RwLock::new(None),
            listen: RwLock::new(None),
            taps: Default::default(),
            blocking: Default::default(),
            watches: Default::default(),
            pubsub: Default::default(),
            pause: Default::default(),
            monitors: Default::default(),
            tracking: Default::default(),
            latency: Default::default(),
            scripts: Default::default(),
            acl: acl::Acl::new(registry),
        });
        engine.refresh_hot();
        engine
    }

    /// Re-read the hot settings after the configuration changed.
    pub fn refresh_hot(&self) {
        let c = self.config.read();
        *self.hot.policy.write() = crate::store::evict::Policy::parse(c.get("maxmemory-policy"));
        let h = &self.hot;
        h.samples
            .store(c.get_u64("maxmemory-samples"), Ordering::Relaxed);
        h.slowlog_threshold
            .store(c.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
        h.slowlog_max
            .store(c.get_u64("slowlog-max-len"), Ordering::Relaxed);
        h.proto_max_bulk_len
            .store(c.get_u64("proto-max-bulk-len"), Ordering::Relaxed);
        h.query_buffer_limit
            .store(c.get_u64("client-query-buffer-limit"), Ordering::Relaxed);
        h.no_good_replicas.store(
            c.get_u64("min-replicas-to-write") > 0 && c.get_u64("min-replicas-max-lag") > 0,
            Ordering::Relaxed,
        );
        h.busy_reply_threshold
            .store(c.get_u64("busy-reply-threshold"), Ordering::Relaxed);
        self.latency
            .threshold
            .store(c.get_u64("latency-monitor-threshold"), Ordering::Relaxed);
        self.tracking
            .max_keys
            .store(c.get_u64("tracking-table-max-keys"), Ordering::Relaxed);
        h.lazy_user_del
            .store(c.get_bool("lazyfree-lazy-user-del"), Ordering::Relaxed);
        h.lazy_user_flush
            .store(c.get_bool("lazyfree-lazy-user-flush"), Ordering::Relaxed);
        let counters = self.store.counters();
        counters.lfu.store(
            c.get("maxmemory-policy").ends_with("lfu"),
            Ordering::Relaxed,
        );
        counters
            .lfu_log_factor
            .store(c.get_u64("lfu-log-factor") as u32, Ordering::Relaxed);
        counters
            .lfu_decay_time
            .store(c.get_u64("lfu-decay-time") as u32, Ordering::Relaxed);
        {
            let n = |k: &str| c.get_u64(k) as usize;
            *h.limits.write() = crate::store::value::EncodingLimits {
                hash_entries: n("hash-max-listpack-entries"),
                hash_value: n("hash-max-listpack-value"),
                set_intset: n("set-max-intset-entries"),
                zset_entries: n("zset-max-listpack-entries"),
                zset_value: n("zset-max-listpack-value"),
                stream_node_bytes: n("stream-node-max-bytes"),
                stream_node_entries: n("stream-node-max-entries"),
            };
        }
        let pass = c.get("requirepass");
        let pass = (!pass.is_empty()).then(|| pass.as_bytes().to_vec());
        let mut cur = h.requirepass.write();
        if *cur != pass {
            // As in Redis, setting requirepass sets the default user's only password.
            self.acl.set_requirepass(pass.as_deref());
            *cur = pass;
        }
        drop(cur);
        h.maxclients
            .store(c.get_u64("maxclients"), Ordering::Relaxed);
        h.maxmemory.store(c.get_u64("maxmemory"), Ordering::Relaxed);
        h.notify.store(
            notify::parse_flags(c.get("notify-keyspace-events")) as u64,
            Ordering::Relaxed,
        );
    }

    /// Start a graceful shutdown (`SHUTDOWN`, SIGINT, SIGTERM): the flag first, then every
    /// connection is woken to see it (one registered after the walk sees the flag when it
    /// first polls).
    pub fn shut_down(&self) {
        self.shutdown.trigger();
        for c in self.clients.lock().values() {
            c.wake_gone();
        }
    }

    /// The `Arc` this engine lives in (for work handed to other threads).
    pub fn self_arc(&self) -> Arc<Engine> {
        self.me
            .upgrade()
            .expect("Engine is only built inside an Arc")
    }

    /// The attached sink, if any.
    pub fn sink(&self) -> Option<Arc<dyn Sink>> {
        if !self.sink_on.load(Ordering::Acquire) {
            return None;
        }
        self.sink.read().clone()
    }

    /// Attach (or detach, with None) the sink effects are propagated to. The caller holds
    /// `gate` exclusively when records must not be missed or doubled around the switch.
    pub fn set_sink(&self, sink: Option<Arc<dyn Sink>>) {
        let on = sink.is_some();
        *self.sink.write() = sink;
        self.sink_on.store(on, Ordering::Release);
    }

    pub fn persistence(&self) -> Option<Arc<dyn Persistence>> {
        self.persistence.read().clone()
    }

    pub fn set_persistence(&self, p: Option<Arc<dyn Persistence>>) {
        *self.persistence.write() = p;
    }

    pub fn listen(&self) -> Option<Arc<dyn sink::Listen>> {
        self.listen.read().clone()
    }

    pub fn set_listen(&self, l: Option<Arc<dyn sink::Listen>>) {
        *self.listen.write() = l;
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Whether `key` is in database `db` now (expired or not), under its shard's lock.
    pub fn key_exists(&self, db: usize, key: &[u8]) -> bool {
        LockSet::one(self, db, crate::store::Db::shard_index(key))
            .shard(db, key)
            .contains_raw(key)
    }
}
