//! Introspection: `MEMORY` (byte-level accounting per key and overall) and `SLOWLOG`.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::num::parse_i64;
use bytes::Bytes;

// ---- MEMORY ----------------------------------------------------------------------------

/// `MEMORY USAGE key [SAMPLES count]`: the bytes accounted for the key (all of its value is
/// counted; SAMPLES is accepted for compatibility).
fn memory_usage(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match args.len() {
        3 => {}
        5 if is(&args[3], "samples") => match parse_i64(&args[4]) {
            None => return Err(error::NOT_INTEGER),
            Some(n) if n < 0 => return Err(error::SYNTAX),
            Some(_) => {}
        },
        _ => return Err(error::SYNTAX),
    }
    let now = ctx.now;
    match ctx.shard(&args[2]).memory_of(&args[2], now) {
        Some(n) => ctx.out.int(n as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `MEMORY STATS`: the common fields of Redis's report.
fn memory_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let store = ctx.engine.store.clone();
    let used = store.used_memory();
    let per_db: Vec<(usize, usize)> = (0..store.databases())
        .map(|d| (ctx.keys.dbsize(d), ctx.keys.expires(d)))
        .collect();
    let keys: usize = per_db.iter().map(|p| p.0).sum();
    let rss = super::server::rss_bytes();
    let dbs: Vec<(usize, usize, usize)> = (0..store.databases())
        .map(|d| (d, per_db[d].0, per_db[d].1))
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
    Ok(())
}

/// Below this much memory in use Redis's doctor declines to judge; so do we.
const DOCTOR_MIN_MEMORY: u64 = 5 * 1024 * 1024;

fn memory_doctor(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    if ctx.engine.store.used_memory() < DOCTOR_MIN_MEMORY {
        {
            ctx.out.verbatim(b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n");
            return Ok(());
        }
    }
    ctx.out.verbatim(b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.");
    Ok(())
}

fn memory_purge(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.ok();
    Ok(())
}

fn memory_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
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
    )
}

fn memory_malloc_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out
        .verbatim(b"Stats not supported for the current allocator");
    Ok(())
}

fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 3 {
        return Err(error::subcommand_syntax(args, "SLOWLOG"));
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => match parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => {
                return Err(error::text(
                    "ERR count should be greater than or equal to -1",
                ))
            }
        },
    };
    let log = &ctx.engine.slowlog;
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
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let n = ctx.engine.slowlog.entries.lock().len();
    ctx.out.int(n as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.engine.slowlog.entries.lock().clear();
    ctx.out.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
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
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

static MEMORY_SUBS: &[Cmd] = &[
    Cmd::new("usage", -3, READONLY, "server", memory_usage)
        .keys(2, 2, 1)
        .doc("Estimates the memory usage of a key.", "4.0.0"),
    Cmd::new("stats", 2, 0, "server", memory_stats)
        .scope(crate::engine::table::Scope::All)
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
