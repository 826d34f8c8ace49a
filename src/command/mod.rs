//! Commands: the table, dispatch, and one module per family.
//!
//! The command table is data: each [`Cmd`] names its arity (negative means "at least"),
//! flags, group and key positions, and its handler. [`execute`] looks the name up
//! (case-insensitively), resolves a subcommand for container commands (`CONFIG GET`), checks
//! arity and authentication, runs the handler and records statistics.
//!
//! Handlers parse their arguments, call store operations, and write their reply into the
//! connection's [`ReplyBuf`]; an error is a reply, never a panic or a closed connection.

pub mod connection;
pub mod error;
pub mod expire;
pub mod introspect;
pub mod keys;
pub mod server;
pub mod string;
pub mod types;

use crate::resp::ReplyBuf;
use crate::server::{ClientState, Shared};
use crate::store::{Db, Store};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Command flags (Redis's names, shown by `COMMAND INFO`).
pub mod flags {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1;
    /// Never modifies the keyspace.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory use: refused with `-OOM` when over `maxmemory` under `noeviction`.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Constant or logarithmic time.
    pub const FAST: u32 = 1 << 4;
    /// Allowed before `AUTH`.
    pub const NO_AUTH: u32 = 1 << 5;
    pub const NOSCRIPT: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const PUBSUB: u32 = 1 << 9;
    pub const BLOCKING: u32 = 1 << 10;
    pub const SENTINEL: u32 = 1 << 11;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (NO_AUTH, "no_auth"),
        (FAST, "fast"),
        (SENTINEL, "sentinel"),
    ];
}

pub type Handler = fn(&mut Ctx, &[Bytes]);

/// One entry of the command table.
pub struct Cmd {
    /// Lower-case name (`get`; a subcommand's own name, `get` under `config`).
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// Redis's group (`string`, `generic`, `connection`, `server`).
    pub group: &'static str,
    /// First key, last key (negative counts from the end), step; zeros when no keys.
    pub keys: (i32, i32, i32),
    pub handler: Handler,
    /// Subcommands, for container commands such as `CONFIG` and `CLIENT`.
    pub subs: &'static [Cmd],
    pub summary: &'static str,
    pub since: &'static str,
}

impl Cmd {
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        group: &'static str,
        handler: Handler,
    ) -> Cmd {
        Cmd {
            name,
            arity,
            flags,
            group,
            keys: (0, 0, 0),
            handler,
            subs: &[],
            summary: "",
            since: "1.0.0",
        }
    }
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Cmd {
        self.keys = (first, last, step);
        self
    }
    pub const fn subs(mut self, subs: &'static [Cmd]) -> Cmd {
        self.subs = subs;
        self
    }
    pub const fn doc(mut self, summary: &'static str, since: &'static str) -> Cmd {
        self.summary = summary;
        self.since = since;
        self
    }
}

/// Per-command counters for `INFO commandstats` and metrics.
#[derive(Default, Debug)]
pub struct CmdStats {
    pub calls: AtomicU64,
    pub nanos: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
}

/// The command table, indexed.
pub struct Registry {
    pub cmds: Vec<&'static Cmd>,
    /// `get`, or `config|get` for a subcommand.
    pub fullnames: Vec<String>,
    pub parent: Vec<Option<usize>>,
    pub stats: Vec<CmdStats>,
    top: HashMap<&'static [u8], usize, ahash::RandomState>,
    sub: HashMap<(usize, Vec<u8>), usize, ahash::RandomState>,
}

/// Every family's commands.
const FAMILIES: &[&[Cmd]] = &[
    string::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    connection::COMMANDS,
    server::COMMANDS,
    introspect::COMMANDS,
    types::COMMANDS,
];

pub fn registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        let mut r = Registry {
            cmds: Vec::new(),
            fullnames: Vec::new(),
            parent: Vec::new(),
            stats: Vec::new(),
            top: HashMap::default(),
            sub: HashMap::default(),
        };
        for family in FAMILIES {
            for cmd in family.iter() {
                let i = r.cmds.len();
                r.cmds.push(cmd);
                r.fullnames.push(cmd.name.to_string());
                r.parent.push(None);
                r.stats.push(CmdStats::default());
                r.top.insert(cmd.name.as_bytes(), i);
                for sub in cmd.subs {
                    let j = r.cmds.len();
                    r.cmds.push(sub);
                    r.fullnames.push(format!("{}|{}", cmd.name, sub.name));
                    r.parent.push(Some(i));
                    r.stats.push(CmdStats::default());
                    r.sub.insert((i, sub.name.as_bytes().to_vec()), j);
                }
            }
        }
        r
    })
}

/// Commands longer than this cannot exist, so lookups need no allocation.
const MAX_NAME: usize = 32;

impl Registry {
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.top.get(&*lower).copied()
    }

    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        self.sub.get(&(parent, name.to_ascii_lowercase())).copied()
    }

    /// Top-level command indices, in table order.
    pub fn top_level(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.cmds.len()).filter(|&i| self.parent[i].is_none())
    }
}

/// Everything a handler may touch while it runs.
pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub client: &'a mut ClientState,
    pub out: &'a mut ReplyBuf,
    /// One clock reading per command (Unix ms), used for every expiry decision it makes.
    pub now: u64,
    /// Changes this command made (0 = nothing to log).
    pub changes: u64,
    /// The records to log instead of the command as received (see `aof` for the forms).
    pub log_as: Option<Vec<Vec<Vec<u8>>>>,
}

impl<'a> Ctx<'a> {
    pub fn store(&self) -> &'a Store {
        &self.shared.store
    }
    pub fn db(&self) -> &'a Db {
        self.shared.store.db(self.client.db)
    }
    pub fn error(&mut self, msg: &str) {
        self.out.error(msg);
    }
    /// Count a change to the keyspace.
    pub fn dirty(&mut self, n: u64) {
        self.changes += n;
        self.shared.stats.changes.fetch_add(n, Ordering::Relaxed);
    }

    /// Log this command as `records` (its deterministic effect) rather than as received.
    pub fn log_as(&mut self, records: Vec<Vec<Vec<u8>>>) {
        self.log_as = Some(records);
    }
}

/// Statistics a connection gathers while it runs a batch of requests, added to the shared
/// counters once per batch: with two cores pipelining into shared atomics, per-command
/// updates would make the counters' cache lines bounce between cores.
pub struct LocalStats {
    /// Per command: calls, nanoseconds, failed, rejected.
    per_cmd: Vec<[u64; 4]>,
    touched: Vec<usize>,
    unknown: u64,
    /// End of the previous command (or the batch start): the next command's start time, so
    /// each command costs one clock reading.
    mark: Instant,
    latency: Vec<(usize, Duration)>,
    /// Sequence number of the last AOF record this batch appended (0 = none): replies wait
    /// for it under `appendfsync always`.
    pub aof_seq: u64,
}

impl Default for LocalStats {
    fn default() -> Self {
        LocalStats {
            per_cmd: vec![[0; 4]; registry().cmds.len()],
            touched: Vec::new(),
            unknown: 0,
            mark: Instant::now(),
            latency: Vec::new(),
            aof_seq: 0,
        }
    }
}

impl LocalStats {
    /// A batch starts now (after the read that brought its requests).
    pub fn begin(&mut self) {
        self.mark = Instant::now();
    }

    fn bump(&mut self, idx: usize, field: usize, n: u64) {
        if self.per_cmd[idx] == [0; 4] {
            self.touched.push(idx);
        }
        self.per_cmd[idx][field] += n;
    }

    /// Add everything gathered to the shared counters.
    pub fn flush(&mut self, shared: &Shared) {
        let reg = registry();
        for &i in &self.touched {
            let [calls, nanos, failed, rejected] = std::mem::take(&mut self.per_cmd[i]);
            let st = &reg.stats[i];
            if calls > 0 {
                st.calls.fetch_add(calls, Ordering::Relaxed);
                st.nanos.fetch_add(nanos, Ordering::Relaxed);
            }
            if failed > 0 {
                st.failed.fetch_add(failed, Ordering::Relaxed);
            }
            if rejected > 0 {
                st.rejected.fetch_add(rejected, Ordering::Relaxed);
            }
        }
        self.touched.clear();
        if self.unknown > 0 {
            shared
                .metrics
                .command_unknown(std::mem::take(&mut self.unknown));
        }
        shared.metrics.commands_done(&self.latency);
        self.latency.clear();
    }
}

/// Run one request (`args[0]` is the command name) and write its reply into `out`.
/// `now` is the clock reading (Unix ms) for the batch the request arrived in.
pub fn execute(
    shared: &Shared,
    client: &mut ClientState,
    out: &mut ReplyBuf,
    args: &[Bytes],
    now: u64,
    local: &mut LocalStats,
) {
    let reg = registry();
    out.proto = client.proto;
    let errors_before = out.errors;
    let Some(mut idx) = reg.lookup(&args[0]) else {
        out.error(&error::unknown_command(args));
        count_error(shared, out);
        local.unknown += 1;
        return;
    };
    let parent = reg.cmds[idx];
    if !parent.subs.is_empty() && args.len() >= 2 {
        match reg.lookup_sub(idx, &args[1]) {
            Some(s) => idx = s,
            None => {
                out.error(&error::unknown_subcommand(&args[1], parent.name));
                local.bump(idx, 3, 1);
                count_error(shared, out);
                return;
            }
        }
    }
    let cmd = reg.cmds[idx];
    let argc = args.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        out.error(&error::wrong_arity(&reg.fullnames[idx]));
        local.bump(idx, 3, 1);
        count_error(shared, out);
        return;
    }
    if !client.authenticated && cmd.flags & flags::NO_AUTH == 0 {
        out.error(error::NOAUTH);
        local.bump(idx, 3, 1);
        count_error(shared, out);
        return;
    }
    // Over maxmemory, keys are evicted before any command runs (as in Redis); evictions are
    // logged, so they also need the AOF ordering.
    let over = over_maxmemory(shared);
    let aof = if cmd.flags & flags::WRITE != 0 || over {
        shared.aof()
    } else {
        None
    };
    if let (Some(a), true) = (&aof, cmd.flags & flags::WRITE != 0) {
        if let Some(e) = a.error.lock().clone() {
            out.error(&format!("MISCONF Errors writing to the AOF file: {e}"));
            local.bump(idx, 3, 1);
            count_error(shared, out);
            return;
        }
    }
    // While the AOF is on, write commands run one at a time so records are appended in the
    // order the data changed.
    let order = aof.as_ref().map(|a| a.order.lock());
    if over && !make_room(shared, aof.as_deref(), now) && cmd.flags & flags::DENYOOM != 0 {
        drop(order);
        out.error(error::OOM);
        local.bump(idx, 3, 1);
        count_error(shared, out);
        return;
    }
    let mut ctx = Ctx {
        shared,
        client,
        out,
        now,
        changes: 0,
        log_as: None,
    };
    (cmd.handler)(&mut ctx, args);
    if let Some(a) = &aof {
        log_expired(shared, a);
    }
    if let (Some(a), true) = (&aof, ctx.changes > 0) {
        let db = ctx.client.db;
        let seq = match ctx.log_as.take() {
            Some(records) => records
                .iter()
                .map(|r| a.append(db, &r.iter().map(|x| &x[..]).collect::<Vec<_>>()))
                .max()
                .unwrap_or(0),
            None => a.append(db, &args.iter().map(|x| &x[..]).collect::<Vec<_>>()),
        };
        local.aof_seq = local.aof_seq.max(seq);
    }
    drop(order);
    let end = Instant::now();
    let elapsed = end.saturating_duration_since(local.mark);
    local.mark = end;
    local.bump(idx, 0, 1);
    local.bump(idx, 1, elapsed.as_nanos() as u64);
    let threshold = shared.hot.slowlog_threshold.load(Ordering::Relaxed);
    let micros = elapsed.as_micros() as u64;
    if threshold >= 0 && micros >= threshold as u64 {
        let info = &client.info;
        let name = info.name.lock().clone();
        let max = shared.hot.slowlog_max.load(Ordering::Relaxed) as usize;
        shared
            .slowlog
            .record(args, micros, now, &info.addr, &name, max);
    }
    local.latency.push((idx, elapsed));
    if out.errors != errors_before {
        local.bump(idx, 2, 1);
        count_error(shared, out);
    }
}

/// Append the queued expirations as `DEL` records (the caller holds the AOF ordering lock,
/// so they land before any later change to the same keys).
pub fn log_expired(shared: &Shared, aof: &crate::aof::Aof) {
    for (db, key) in shared.store.take_expired_log() {
        aof.append(db, &[b"DEL", &key]);
    }
}

/// Most keys evicted for one command, so a huge overshoot cannot stall a client for long.
pub const MAX_EVICTIONS_PER_COMMAND: usize = 10_000;

fn over_maxmemory(shared: &Shared) -> bool {
    let max = shared.hot.maxmemory.load(Ordering::Relaxed);
    max != 0 && shared.store.used_memory() > max
}

/// Evict keys while used memory is over `maxmemory`; false when it stays over (nothing more
/// can be evicted). Evictions are logged to the AOF as `DEL`.
pub fn make_room(shared: &Shared, aof: Option<&crate::aof::Aof>, now: u64) -> bool {
    let max = shared.hot.maxmemory.load(Ordering::Relaxed);
    if max == 0 || shared.store.used_memory() <= max {
        return true;
    }
    let policy = *shared.hot.policy.read();
    let samples = shared.hot.samples.load(Ordering::Relaxed) as usize;
    let mut seed = now ^ shared.store.used_memory().rotate_left(17);
    for _ in 0..MAX_EVICTIONS_PER_COMMAND {
        if shared.store.used_memory() <= max {
            return true;
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        match shared.store.evict_one(policy, samples, seed) {
            Some((db, key)) => {
                if let Some(a) = aof {
                    a.append(db, &[b"DEL", &key]);
                }
            }
            None => return false,
        }
    }
    shared.store.used_memory() <= max
}

fn count_error(shared: &Shared, out: &ReplyBuf) {
    shared.stats.error_replies.fetch_add(1, Ordering::Relaxed);
    if let Some(p) = &out.last_error_prefix {
        shared.metrics.error(p);
    }
}

/// Lower-case copy of an option argument, for comparisons like `eq_ignore_ascii_case`.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
