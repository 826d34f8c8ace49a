//! Generic key commands: existence, deletion, renaming, copying, iteration.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::table::Scope;
use crate::engine::CmdError;
use crate::num::parse_i64;
use crate::store::glob::glob_match;
use crate::store::keyspace::{join_cursor, split_cursor};
use crate::store::SHARDS;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// `DEL key [key ...]` and `UNLINK` (values are dropped right away either way; freeing is
/// cheap compared with Redis's, since nothing needs compaction).
/// `DEL key [key ...]`, and `UNLINK`: the latter (and DEL under `lazyfree-lazy-user-del`)
/// leaves large values to the lazyfree thread.
fn del(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let db = ctx.db();
    let lazy = args[0].eq_ignore_ascii_case(b"unlink")
        || ctx.engine.hot.lazy_user_del.load(Ordering::Relaxed);
    let mut n = 0;
    for k in &args[1..] {
        let shard = ctx.keys.shard(db, k);
        let gone = if lazy {
            shard.unlink(k, now)
        } else {
            shard.remove(k, now).is_some()
        };
        if gone {
            ctx.changed(k, notify::DEL);
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// `EXISTS key [key ...]`: a key named twice counts twice.
fn exists(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.keys.shard(db, k).exists(k, now))
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

/// `TOUCH key [key ...]`
fn touch(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.keys.shard(db, k).touch(k, now))
        .count();
    ctx.out.int(n as i64);
    Ok(())
}

/// `TYPE key`
fn type_(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let t = ctx
        .shard(&args[1])
        .get(&args[1], now)
        .map_or("none", |e| e.value.type_name());
    ctx.out.simple(t);
    Ok(())
}

/// `RENAME key newkey` / `RENAMENX key newkey`: the value moves with its TTL, in O(1).
fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> Outcome {
    let (src, dst) = (&args[1], &args[2]);
    let now = ctx.now;
    let db = ctx.db();
    if ctx.keys.shard(db, src).get_write(src, now).is_none() {
        return Err(error::NO_SUCH_KEY);
    }
    if src == dst {
        if nx {
            ctx.out.int(0)
        } else {
            ctx.out.ok()
        }
        return Ok(());
    }
    if nx && ctx.keys.shard(db, dst).exists(dst, now) {
        ctx.out.int(0);
        return Ok(());
    }
    let entry = ctx
        .keys
        .shard(db, src)
        .remove(src, now)
        .expect("checked above");
    ctx.keys.shard(db, dst).put_entry(dst, entry, now);
    ctx.changed(src, Ev::generic("rename_from"));
    ctx.changed(dst, Ev::generic("rename_to"));
    if nx {
        ctx.out.int(1)
    } else {
        ctx.out.ok()
    }
    Ok(())
}

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    rename_generic(ctx, args, true)
}

/// A database index argument as Redis reads it (an int), without the range check.
fn db_arg(arg: &[u8]) -> Option<i64> {
    parse_i64(arg).filter(|v| *v >= i32::MIN as i64 && *v <= i32::MAX as i64)
}

/// A database index argument (SELECT, MOVE, COPY … DB), with Redis's errors: Redis reads an
/// int, so a number beyond one is an error of its own before the range check.
pub fn db_index(ctx: &Ctx, arg: &[u8]) -> Result<usize, CmdError> {
    let id = parse_i64(arg).ok_or(error::NOT_INTEGER)?;
    if i32::try_from(id).is_err() {
        return Err(error::text(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    if id < 0 || id as usize >= ctx.engine.store.databases() {
        return Err(error::DB_RANGE);
    }
    Ok(id as usize)
}

/// The target database of `COPY … DB n` (for locking; errors are the handler's).
fn copy_target(args: &[Bytes]) -> Option<usize> {
    // The handler's own parsing loop: the last DB option wins.
    let mut target = None;
    let mut j = 3;
    while j < args.len() {
        if is(&args[j], "db") && j + 1 < args.len() {
            target = Some(db_arg(&args[j + 1]).and_then(|d| usize::try_from(d).ok())?);
            j += 1;
        } else if !is(&args[j], "replace") {
            break;
        }
        j += 1;
    }
    target
}

/// The target database of `MOVE key db` (for locking).
fn move_target(args: &[Bytes]) -> Option<usize> {
    db_arg(&args[2]).and_then(|d| usize::try_from(d).ok())
}

/// `COPY source destination [DB destination-db] [REPLACE]`
fn copy(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (src, dst) = (&args[1], &args[2]);
    let mut replace = false;
    let mut target = None;
    let mut j = 3;
    while j < args.len() {
        if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "db") && j + 1 < args.len() {
            // Checked as soon as it is read, before later options (as Redis does).
            target = Some(db_index(ctx, &args[j + 1])?);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let src_db = ctx.db();
    let dst_db = target.unwrap_or(src_db);
    if src_db == dst_db && src == dst {
        return Err(error::SAME_OBJECT);
    }
    let now = ctx.now;
    let Some(entry) = ctx
        .keys
        .shard(src_db, src)
        .get_write(src, now)
        .cloned()
        .map(|mut e| {
            // The copy is a new object: its access history starts afresh.
            e.freq = crate::store::keyspace::LFU_INIT;
            e
        })
    else {
        ctx.out.int(0);
        return Ok(());
    };
    let dshard = ctx.keys.shard(dst_db, dst);
    if dshard.exists(dst, now) && !replace {
        ctx.out.int(0);
        return Ok(());
    }
    dshard.put_entry(dst, entry, now);
    ctx.changed_in(dst_db, dst, Ev::generic("copy_to"));
    ctx.out.int(1);
    Ok(())
}

/// `MOVE key db`
fn move_(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let dst_db = db_index(ctx, &args[2])?;
    let src_db = ctx.db();
    if src_db == dst_db {
        return Err(error::SAME_OBJECT);
    }
    let now = ctx.now;
    if ctx.keys.shard(src_db, key).get_write(key, now).is_none()
        || ctx.keys.shard(dst_db, key).exists(key, now)
    {
        ctx.out.int(0);
        return Ok(());
    }
    let entry = ctx
        .keys
        .shard(src_db, key)
        .remove(key, now)
        .expect("checked above");
    ctx.keys.shard(dst_db, key).put_entry(key, entry, now);
    ctx.changed_in(src_db, key, Ev::generic("move_from"));
    ctx.changed_in(dst_db, key, Ev::generic("move_to"));
    ctx.out.int(1);
    Ok(())
}

/// `SWAPDB index1 index2`
fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let a = db_arg(&args[1]).ok_or(error::text("ERR invalid first DB index"))?;
    let b = db_arg(&args[2]).ok_or(error::text("ERR invalid second DB index"))?;
    let n = ctx.engine.store.databases() as i64;
    if a < 0 || b < 0 || a >= n || b >= n {
        return Err(error::DB_RANGE);
    }
    let (a, b) = (a as usize, b as usize);
    super::server::touch_watched(ctx, a, Some(b));
    super::server::touch_watched(ctx, b, Some(a));
    ctx.keys.swap_dbs(a, b);
    ctx.fx.dirty += 1;
    ctx.fx.rare().swapped = Some((a, b));
    ctx.out.ok();
    Ok(())
}

/// `KEYS pattern`
fn keys(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let pat = &args[1][..];
    let all = pat == b"*";
    let now = ctx.now;
    let db = ctx.db();
    let mut found: Vec<Bytes> = Vec::new();
    for i in 0..SHARDS {
        ctx.keys
            .shard_at(db, i)
            // Expired keys are skipped, not removed: Redis's KEYS only looks.
            .for_each_live(now, |k, _| {
                if all || glob_match(pat, k, false) {
                    found.push(Bytes::copy_from_slice(k));
                }
            });
    }
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// Parse a SCAN cursor like Redis's `strtoul` check: decimal, whole argument, no leading
/// space; a leading `-` wraps, as in C.
pub fn parse_cursor(a: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(a).ok()?;
    if s.is_empty() {
        return Some(0); // strtoul("") is 0 with nothing left over: Redis accepts it
    }
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: u64 = digits.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The options of SCAN, HSCAN, SSCAN and ZSCAN.
pub struct ScanOpts<'a> {
    pub count: usize,
    /// None for no pattern (or `*`).
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

/// Parse `[MATCH pattern] [COUNT count]` (and `[TYPE type]` for SCAN) from `args[from..]`,
/// with Redis's errors.
pub fn scan_options(
    args: &[Bytes],
    from: usize,
    allow_type: bool,
) -> Result<ScanOpts<'_>, CmdError> {
    let mut o = ScanOpts {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut j = from;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "count") && more {
            match parse_i64(&args[j + 1]) {
                None => return Err(error::NOT_INTEGER),
                Some(c) if c < 1 => return Err(error::SYNTAX),
                Some(c) => o.count = c as usize,
            }
        } else if is(&args[j], "match") && more {
            o.pattern = Some(&args[j + 1][..]).filter(|p| *p != b"*");
        } else if allow_type && is(&args[j], "type") && more {
            o.type_name = Some(&args[j + 1]);
        } else {
            return Err(error::SYNTAX);
        }
        j += 2;
    }
    Ok(o)
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
///
/// The cursor walks the shards in order and each shard's table in reverse-binary bucket
/// order (see `store::table`), so every key present for the whole scan is returned.
fn scan(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let cursor = parse_cursor(&args[1]).ok_or(error::text("ERR invalid cursor"))?;
    let ScanOpts {
        count,
        pattern,
        type_name,
    } = scan_options(args, 2, true)?;
    let count = count as i64;
    let now = ctx.now;
    let db = ctx.db();
    let (mut shard, mut inner) = split_cursor(cursor);
    // Expired keys the pattern matches are removed on the way, as Redis's SCAN does.
    let matches = |k: &[u8]| pattern.is_none_or(|p| glob_match(p, k, false));
    let mut keys: Vec<Bytes> = Vec::new();
    // Bound the buckets visited per call, as Redis does, so a sparse table cannot stall us.
    let mut budget = count.saturating_mul(10);
    let count = count as usize;
    let next = loop {
        {
            let g = ctx.keys.shard_at(db, shard);
            while budget > 0 && keys.len() < count {
                budget -= 1;
                inner = g.scan_step(inner, now, matches, |k, e| {
                    if !matches(k) {
                        return;
                    }
                    if type_name
                        .is_some_and(|t| !t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
                    {
                        return;
                    }
                    keys.push(Bytes::copy_from_slice(k));
                });
                if inner == 0 {
                    break;
                }
            }
        }
        if inner == 0 {
            shard += 1;
            if shard == SHARDS {
                break 0;
            }
        }
        if budget <= 0 || keys.len() >= count {
            break join_cursor(shard, inner);
        }
    };
    ctx.out.array(2);
    ctx.out.bulk(next.to_string().as_bytes());
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// `RANDOMKEY`
fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let db = ctx.db();
    // Pick a shard with probability proportional to its size, then a key within it.
    let sizes: Vec<usize> = (0..SHARDS)
        .map(|i| ctx.keys.shard_at(db, i).len())
        .collect();
    let total: usize = sizes.iter().sum();
    if total == 0 {
        ctx.out.null();
        return Ok(());
    }
    let mut seed =
        now ^ (ctx.client.info.id << 32) ^ (total as u64).wrapping_mul(0x9E3779B97F4A7C15);
    for _ in 0..SHARDS * 4 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut pick = (seed % total as u64) as usize;
        let mut idx = 0;
        while pick >= sizes[idx] {
            pick -= sizes[idx];
            idx += 1;
        }
        if let Some(k) = ctx.keys.shard_at(db, idx).random_key(now) {
            ctx.out.bulk(&k);
            return Ok(());
        }
    }
    ctx.out.null();
    Ok(())
}

/// `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key`
fn object_encoding(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    match ctx
        .shard(&args[2])
        .get(&args[2], now)
        .map(|e| e.value.encoding())
    {
        Some(enc) => ctx.out.bulk(enc.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

fn object_refcount(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    // Redis shares the integers 0..9999 between keys (refcount INT_MAX) unless an
    // LRU/LFU policy needs per-key access data.
    let shared_int = ctx.shard(&args[2]).get(&args[2], now).map(|e| {
        matches!(&e.value, crate::store::Value::Str { data, enc: crate::store::StrEnc::Int }
            if parse_i64(data).is_some_and(|n| (0..10000).contains(&n)))
    });
    // Redis stops sharing them when maxmemory is set with an LRU/LFU policy.
    let unshared = {
        let c = ctx.engine.config.read();
        let p = c.get("maxmemory-policy");
        c.get_u64("maxmemory") != 0 && (p.ends_with("lru") || p.ends_with("lfu"))
    };
    match shared_int {
        None => ctx.out.null(),
        Some(true) if !unshared => ctx.out.int(i32::MAX as i64),
        Some(_) => ctx.out.int(1),
    }
    Ok(())
}

fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.engine
        .config
        .read()
        .get("maxmemory-policy")
        .ends_with("lfu")
}

fn object_idletime(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let Some(access) = ctx.shard(&args[2]).get(&args[2], now).map(|e| e.access) else {
        ctx.out.null();
        return Ok(());
    };
    if lfu_policy(ctx) {
        return Err(error::text("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    ctx.out.int(((now / 1000) as i64 - access as i64).max(0));
    Ok(())
}

fn object_freq(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let decay = ctx
        .engine
        .store
        .counters()
        .lfu_decay_time
        .load(std::sync::atomic::Ordering::Relaxed);
    let Some(freq) = ctx
        .shard(&args[2])
        .get(&args[2], now)
        .map(|e| e.decayed_freq(now, decay))
    else {
        ctx.out.null();
        return Ok(());
    };
    if !lfu_policy(ctx) {
        return Err(error::text("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    ctx.out.int(freq as i64);
    Ok(())
}

fn object_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

static OBJECT_SUBS: &[Cmd] = &[
    Cmd::new("encoding", 3, READONLY, "generic", object_encoding)
        .keys(2, 2, 1)
        .doc("Returns the internal encoding of a Redis object.", "2.2.3"),
    Cmd::new("refcount", 3, READONLY, "generic", object_refcount)
        .keys(2, 2, 1)
        .doc("Returns the reference count of a value of a key.", "2.2.3"),
    Cmd::new("idletime", 3, READONLY, "generic", object_idletime)
        .keys(2, 2, 1)
        .doc(
            "Returns the time since the last access to a Redis object.",
            "2.2.3",
        ),
    Cmd::new("freq", 3, READONLY, "generic", object_freq)
        .keys(2, 2, 1)
        .doc(
            "Returns the logarithmic access frequency counter of a Redis object.",
            "4.0.0",
        ),
    Cmd::new("help", 2, LOADING | STALE, "generic", object_help).doc(
        "Returns helpful text about the different subcommands.",
        "6.2.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("del", -2, WRITE, "generic", del).keys(1, -1, 1).doc("Deletes one or more keys.", "1.0.0"),
    Cmd::new("unlink", -2, WRITE | FAST, "generic", del).keys(1, -1, 1).doc("Asynchronously deletes one or more keys.", "4.0.0"),
    Cmd::new("exists", -2, READONLY | FAST, "generic", exists).keys(1, -1, 1).doc("Determines whether one or more keys exist.", "1.0.0"),
    Cmd::new("touch", -2, READONLY | FAST, "generic", touch).keys(1, -1, 1).doc("Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1"),
    Cmd::new("type", 2, READONLY | FAST, "generic", type_).keys(1, 1, 1).doc("Determines the type of value stored at a key.", "1.0.0"),
    Cmd::new("rename", 3, WRITE, "generic", rename).keys(1, 2, 1).doc("Renames a key and overwrites the destination.", "1.0.0"),
    Cmd::new("renamenx", 3, WRITE | FAST, "generic", renamenx).keys(1, 2, 1).doc("Renames a key only when the target key name doesn't exist.", "1.0.0"),
    Cmd::new("copy", -3, WRITE | DENYOOM, "generic", copy).keys(1, 2, 1).scope(Scope::OtherDb(copy_target)).doc("Copies the value of a key to a new key.", "6.2.0"),
    Cmd::new("move", 3, WRITE | FAST, "generic", move_).keys(1, 1, 1).scope(Scope::OtherDb(move_target)).doc("Moves a key to another database.", "1.0.0"),
    Cmd::new("swapdb", 3, WRITE | FAST, "server", swapdb).scope(Scope::All).doc("Swaps two Redis databases.", "4.0.0"),
    Cmd::new("keys", 2, READONLY, "generic", keys).scope(Scope::Db).doc("Returns all key names that match a pattern.", "1.0.0"),
    Cmd::new("scan", -2, READONLY, "generic", scan).scope(Scope::Db).doc("Iterates over the key names in the database.", "2.8.0"),
    Cmd::new("randomkey", 1, READONLY, "generic", randomkey).scope(Scope::Db).doc("Returns a random key name from the database.", "1.0.0"),
    Cmd::new("object", -2, 0, "generic", container).subs(OBJECT_SUBS).doc("A container for object introspection commands.", "2.2.3"),
];
