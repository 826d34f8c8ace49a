//! Introspection: `MEMORY` (byte-level accounting per key and overall) and `SLOWLOG`.

use super::error;
use super::{flags::*, is, Cmd, Ctx};
use crate::num::parse_i64;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

// ---- MEMORY ----------------------------------------------------------------------------

/// `MEMORY USAGE key [SAMPLES count]`: the bytes accounted for the key (all of its value is
/// counted; SAMPLES is accepted for compatibility).
fn memory_usage(ctx: &mut Ctx, args: &[Bytes]) {
    match args.len() {
        3 => {}
        5 if is(&args[3], "samples") => match parse_i64(&args[4]) {
            None => return ctx.error(error::NOT_INTEGER),
            Some(n) if n < 0 => return ctx.error(error::SYNTAX),
            Some(_) => {}
        },
        _ => return ctx.error(error::SYNTAX),
    }
    let now = ctx.now;
    match ctx.db().lock(&args[2]).memory_of(&args[2], now) {
        Some(n) => ctx.out.int(n as i64),
        None => ctx.out.null(),
    }
}

/// `MEMORY STATS`: the common fields of Redis's report.
fn memory_stats(ctx: &mut Ctx, _args: &[Bytes]) {
    let store = ctx.store();
    let used = store.used_memory();
    let keys: usize = (0..store.databases()).map(|d| store.dbsize(d)).sum();
    let rss = super::server::rss_bytes();
    let dbs: Vec<(usize, usize, usize)> = (0..store.databases())
        .map(|d| (d, store.dbsize(d), store.db(d).expires_len()))
        .filter(|(_, n, _)| *n > 0)
        .collect();
    let out = &mut *ctx.out;
    out.map(14 + dbs.len());
    let int = |out: &mut crate::resp::ReplyBuf, k: &str, v: i64| {
        out.bulk(k.as_bytes());
        out.int(v);
    };
    int(out, "peak.allocated", used as i64);
    int(out, "total.allocated", used as i64);
    int(
        out,
        "startup.allocated",
        crate::store::STARTUP_ALLOCATED as i64,
    );
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", 0);
    int(out, "aof.buffer", 0);
    for (d, n, e) in &dbs {
        out.bulk(format!("db.{d}").as_bytes());
        out.map(2);
        out.bulk(b"overhead.hashtable.main");
        out.int((*n * crate::store::table::NODE_OVERHEAD) as i64);
        out.bulk(b"overhead.hashtable.expires");
        out.int((*e * crate::store::table::NODE_OVERHEAD) as i64);
    }
    int(out, "keys.count", keys as i64);
    int(
        out,
        "keys.bytes-per-key",
        (used as usize).checked_div(keys).unwrap_or(0) as i64,
    );
    int(out, "dataset.bytes", used as i64);
    out.bulk(b"dataset.percentage");
    out.double(100.0);
    out.bulk(b"peak.percentage");
    out.double(100.0);
    int(out, "allocator.resident", rss as i64);
    out.bulk(b"fragmentation");
    out.double(if used > 0 {
        rss as f64 / used as f64
    } else {
        1.0
    });
}

/// Below this much memory in use Redis's doctor declines to judge; so do we.
const DOCTOR_MIN_MEMORY: u64 = 5 * 1024 * 1024;

fn memory_doctor(ctx: &mut Ctx, _args: &[Bytes]) {
    if ctx.store().used_memory() < DOCTOR_MIN_MEMORY {
        return ctx.out.verbatim(b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n");
    }
    ctx.out.verbatim(b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.");
}

fn memory_purge(ctx: &mut Ctx, _args: &[Bytes]) {
    ctx.out.ok();
}

fn memory_help(ctx: &mut Ctx, _args: &[Bytes]) {
    super::server::help(
        ctx,
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
}

fn memory_malloc_stats(ctx: &mut Ctx, _args: &[Bytes]) {
    ctx.out
        .verbatim(b"Stats not supported for the current allocator");
}

// ---- SLOWLOG ---------------------------------------------------------------------------

/// Arguments kept per slow log entry, and bytes kept per argument (as in Redis).
pub const SLOWLOG_MAX_ARGC: usize = 32;
pub const SLOWLOG_MAX_ARGLEN: usize = 128;

pub struct SlowEntry {
    id: u64,
    time: u64,
    micros: u64,
    args: Vec<Vec<u8>>,
    addr: String,
    name: Vec<u8>,
}

/// The slow log: the most recent commands slower than `slowlog-log-slower-than`.
#[derive(Default)]
pub struct SlowLog {
    entries: Mutex<VecDeque<SlowEntry>>,
    next_id: AtomicU64,
}

impl SlowLog {
    /// Record a command that took `micros`; `max` is `slowlog-max-len`.
    pub fn record(
        &self,
        args: &[Bytes],
        micros: u64,
        now_ms: u64,
        addr: &str,
        name: &[u8],
        max: usize,
    ) {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let shown = args.len().min(SLOWLOG_MAX_ARGC);
        for (i, a) in args[..shown].iter().enumerate() {
            if i == SLOWLOG_MAX_ARGC - 1 && args.len() > SLOWLOG_MAX_ARGC {
                kept.push(
                    format!("... ({} more arguments)", args.len() - SLOWLOG_MAX_ARGC + 1)
                        .into_bytes(),
                );
                break;
            }
            if a.len() > SLOWLOG_MAX_ARGLEN {
                let mut v = a[..SLOWLOG_MAX_ARGLEN].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARGLEN).as_bytes(),
                );
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        let entry = SlowEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time: now_ms / 1000,
            micros,
            args: kept,
            addr: addr.to_string(),
            name: name.to_vec(),
        };
        let mut e = self.entries.lock();
        e.push_front(entry);
        e.truncate(max);
    }
}

fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) {
    if args.len() > 3 {
        let name = String::from_utf8_lossy(&args[1]).into_owned();
        return ctx.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{name}'. Try SLOWLOG HELP."
        ));
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => match parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => return ctx.error("ERR count should be greater than or equal to -1"),
        },
    };
    let log = &ctx.shared.slowlog;
    let entries = log.entries.lock();
    let n = entries.len().min(count);
    let out = &mut *ctx.out;
    out.array(n);
    for e in entries.iter().take(n) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time as i64);
        out.int(e.micros as i64);
        out.array(e.args.len());
        for a in &e.args {
            out.bulk(a);
        }
        out.bulk(e.addr.as_bytes());
        out.bulk(&e.name);
    }
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) {
    let n = ctx.shared.slowlog.entries.lock().len();
    ctx.out.int(n as i64);
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) {
    ctx.shared.slowlog.entries.lock().clear();
    ctx.out.ok();
}

fn slowlog_help(ctx: &mut Ctx, _args: &[Bytes]) {
    super::server::help(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) {}

static MEMORY_SUBS: &[Cmd] = &[
    Cmd::new("usage", -3, READONLY, "server", memory_usage)
        .keys(2, 2, 1)
        .doc("Estimates the memory usage of a key.", "4.0.0"),
    Cmd::new("stats", 2, 0, "server", memory_stats)
        .doc("Returns details about memory usage.", "4.0.0"),
    Cmd::new("doctor", 2, 0, "server", memory_doctor)
        .doc("Outputs a memory problems report.", "4.0.0"),
    Cmd::new("purge", 2, 0, "server", memory_purge)
        .doc("Asks the allocator to release memory.", "4.0.0"),
    Cmd::new("malloc-stats", 2, 0, "server", memory_malloc_stats)
        .doc("Returns the allocator statistics.", "4.0.0"),
    Cmd::new("help", 2, LOADING | STALE, "server", memory_help).doc(
        "Returns helpful text about the different subcommands.",
        "4.0.0",
    ),
];

static SLOWLOG_SUBS: &[Cmd] = &[
    Cmd::new("get", -2, ADMIN | LOADING | STALE, "server", slowlog_get)
        .doc("Returns the slow log's entries.", "2.2.12"),
    Cmd::new("len", 2, ADMIN | LOADING | STALE, "server", slowlog_len)
        .doc("Returns the number of entries in the slow log.", "2.2.12"),
    Cmd::new("reset", 2, ADMIN | LOADING | STALE, "server", slowlog_reset)
        .doc("Clears all entries from the slow log.", "2.2.12"),
    Cmd::new("help", 2, LOADING | STALE, "server", slowlog_help)
        .doc("Show helpful text about the different subcommands", "6.2.0"),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("memory", -2, 0, "server", container)
        .subs(MEMORY_SUBS)
        .doc("A container for memory diagnostics commands.", "4.0.0"),
    Cmd::new("slowlog", -2, 0, "server", container)
        .subs(SLOWLOG_SUBS)
        .doc("A container for slow log commands.", "2.2.12"),
];
