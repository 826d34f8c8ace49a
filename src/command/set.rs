//! Set commands. The set itself (encodings, memory) is `store::set`.

use super::error;
use super::hash::rng;
use super::keys::parse_cursor;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::table::KeySpec;
use crate::engine::{CmdError, LockSet};
use crate::num::parse_i64;
use crate::store::glob::glob_match;
use crate::store::value::Set;
use crate::store::Value;
use bytes::Bytes;

// ---- helpers ---------------------------------------------------------------------------

/// The set at `key` for reading (a keyspace hit or miss).
fn read<'s>(
    keys: &'s mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s Set>, CmdError> {
    super::read_as(keys, db, key, now)
}

macro_rules! read {
    ($ctx:expr, $key:expr) => {
        read(&mut *$ctx.keys, $ctx.client.db, $key, $ctx.now)
    };
}

/// Change the set at `key` with `f`; None when it is missing (the store deletes a set left
/// empty).
fn write<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Set) -> R,
) -> Result<Option<R>, CmdError> {
    super::write_as(&mut *ctx.keys, ctx.client.db, key, ctx.now, None, f)
}

/// Replace whatever is at `key` with `set` (deleting `key` when `set` is empty), as the
/// `*STORE` commands do (notified as `ev`, or `del`). Returns the size stored.
fn store(ctx: &mut Ctx, key: &Bytes, set: Set, ev: Ev) -> usize {
    let now = ctx.now;
    let n = set.len();
    let shard = ctx.keys.shard(ctx.client.db, key);
    let existed = shard.remove(key, now).is_some();
    if n > 0 {
        shard.set(key, Value::Set(Box::new(set)), 0, now);
    }
    if n > 0 {
        ctx.changed(key, ev);
    } else if existed {
        ctx.changed(key, notify::DEL);
    }
    n
}

/// Reply with a set's members (a RESP3 set).
fn reply_members(ctx: &mut Ctx, s: &Set) {
    ctx.out.set(s.len());
    for m in s.iter() {
        ctx.out.bulk(&m);
    }
}

/// The sets at `keys`, in order: None for missing keys; WRONGTYPE as soon as a key holds
/// another type.
fn sets_of(
    ctx: &mut Ctx,
    keys: &[Bytes],
    _stop_at_missing: bool,
) -> Result<Vec<Option<Set>>, CmdError> {
    keys.iter().map(|k| Ok(read!(ctx, k)?.cloned())).collect()
}

fn limits(ctx: &Ctx) -> crate::store::value::EncodingLimits {
    ctx.engine.hot.limits.read().clone()
}

/// The intersection of `sets` (all present), built as Redis builds a stored result.
fn intersect(ctx: &Ctx, sets: &[&Set]) -> Set {
    let l = limits(ctx);
    let mut order: Vec<&Set> = sets.to_vec();
    order.sort_by_key(|s| s.len());
    let mut out = Set::intset();
    for m in order[0].iter() {
        if order[1..].iter().all(|s| s.contains(&m)) {
            out.insert(&m, &l);
        }
    }
    out
}

// ---- handlers --------------------------------------------------------------------------

/// `SADD key member [member ...]`
fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let l = limits(ctx);
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    match shard
        .get_write(&args[1], now)
        .map(|e| matches!(e.value, Value::Set(_)))
    {
        Some(false) => return Err(error::WRONGTYPE),
        None => {
            shard.set(&args[1], Value::Set(Box::new(Set::new(&args[2]))), 0, now);
        }
        Some(true) => {}
    }
    let added = shard
        .update(&args[1], now, |e| match &mut e.value {
            Value::Set(s) => args[2..].iter().filter(|m| s.insert(m, &l)).count(),
            _ => 0,
        })
        .unwrap_or(0);
    if added > 0 {
        ctx.changed(&args[1], Ev::set("sadd"));
    }
    ctx.out.int(added as i64);
    Ok(())
}

/// `SREM key member [member ...]`: a set left empty is deleted.
fn srem(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = write(ctx, &args[1], |s| {
        args[2..].iter().filter(|m| s.remove(m)).count()
    })?
    .unwrap_or(0);
    if n > 0 {
        ctx.removed_from(&args[1], Ev::set("srem"));
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `SMEMBERS key`
fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match read!(ctx, &args[1])? {
        Some(s) => {
            ctx.out.set(s.len());
            for m in s.iter() {
                ctx.out.bulk(&m);
            }
        }
        None => ctx.out.set(0),
    }
    Ok(())
}

/// `SISMEMBER key member`
fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let found = read!(ctx, &args[1])?.is_some_and(|s| s.contains(&args[2]));
    ctx.out.int(found as i64);
    Ok(())
}

/// `SMISMEMBER key member [member ...]`
fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let s = read!(ctx, &args[1])?;
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        ctx.out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// `SCARD key`
fn scard(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = read!(ctx, &args[1])?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// `SPOP key [count]`: propagated as the `SREM` of what it popped (or `DEL` when it took all).
fn spop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Err(error::text("ERR value is out of range, must be positive")),
        },
    };
    let mut next = rng(ctx);
    let key = &args[1];
    let Some(size) = read!(ctx, key)?.map(|s| s.len() as u64) else {
        match count {
            None => ctx.out.null(),
            Some(_) => ctx.out.set(0),
        }
        return Ok(());
    };
    let want = count.unwrap_or(1).min(size);
    if count == Some(0) {
        ctx.out.set(0);
        return Ok(());
    }
    let popped: Vec<Vec<u8>> = if want == size {
        let all: Vec<Vec<u8>> = read!(ctx, key)?
            .map(|s| s.iter().map(|m| m.to_vec()).collect())
            .unwrap_or_default();
        let now = ctx.now;
        ctx.keys.shard(ctx.client.db, key).remove(key, now);
        all
    } else {
        write(ctx, key, |s| {
            (0..want)
                .filter_map(|_| {
                    let m = s.random(&mut next)?;
                    s.remove(&m);
                    Some(m)
                })
                .collect()
        })?
        .unwrap_or_default()
    };
    let whole = want == size;
    ctx.removed_from(key, Ev::set("spop"));
    ctx.log_as(|| {
        if whole {
            vec![vec![b"DEL".to_vec(), key.to_vec()]]
        } else {
            let mut r = vec![b"SREM".to_vec(), key.to_vec()];
            r.extend(popped.iter().cloned());
            vec![r]
        }
    });
    match count {
        None => ctx.out.bulk(&popped[0]),
        Some(_) => {
            ctx.out.set(popped.len());
            for m in &popped {
                ctx.out.bulk(m);
            }
        }
    }
    Ok(())
}

/// `SRANDMEMBER key [count]`
fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(super::hash::random_count(a, false)?),
    };
    let mut next = rng(ctx);
    let out = &mut *ctx.out;
    let Some(s) = read(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)? else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let Some(count) = count else {
        match s.random(&mut next) {
            Some(m) => out.bulk(&m),
            None => out.null(),
        }
        return Ok(());
    };
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        out.array(n);
        for _ in 0..n {
            if let Some(m) = s.random(&mut next) {
                out.bulk(&m);
            }
        }
    } else if count as usize >= s.len() {
        out.array(s.len());
        for m in s.iter() {
            out.bulk(&m);
        }
    } else {
        let n = count as usize;
        let mut all: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
        out.array(n);
        for i in 0..n {
            let j = i + (next() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
            out.bulk(&all[i]);
        }
    }
    Ok(())
}

/// `SMOVE source destination member`
fn smove(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (src, dst, m) = (&args[1], &args[2], &args[3]);
    let now = ctx.now;
    let db = ctx.client.db;
    let src_kind = ctx
        .keys
        .shard(db, src)
        .get_write(src, now)
        .map(|e| matches!(e.value, Value::Set(_)));
    let dst_kind = ctx
        .keys
        .shard(db, dst)
        .get_write(dst, now)
        .map(|e| matches!(e.value, Value::Set(_)));
    let Some(src_ok) = src_kind else {
        ctx.out.int(0);
        return Ok(());
    };
    if !src_ok || dst_kind == Some(false) {
        return Err(error::WRONGTYPE);
    }
    if src == dst {
        let found = read!(ctx, src)?.is_some_and(|s| s.contains(m));
        ctx.out.int(found as i64);
        return Ok(());
    }
    if !write(ctx, src, |s| s.remove(m))?.unwrap_or(false) {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.removed_from(src, Ev::set("srem"));
    let l = limits(ctx);
    let shard = ctx.keys.shard(db, dst);
    if dst_kind.is_none() {
        shard.set(dst, Value::Set(Box::new(Set::new(m))), 0, now);
    }
    let added = shard.update(dst, now, |e| match &mut e.value {
        Value::Set(s) => s.insert(m, &l),
        _ => false,
    });
    // The destination changed only if it did not hold the member already.
    if added == Some(true) {
        ctx.changed(dst, Ev::set("sadd"));
    }
    ctx.out.int(1);
    Ok(())
}

/// `SINTER key [key ...]` and `SINTERSTORE destination key [key ...]`
fn sinter_generic(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&Bytes>) -> Outcome {
    // Every key's type is checked, even after a missing one (as Redis 7.0 does).
    let sets = sets_of(ctx, keys, false)?;
    let result = if sets.iter().any(|s| s.is_none()) {
        Set::intset()
    } else {
        let refs: Vec<&Set> = sets.iter().flatten().collect();
        intersect(ctx, &refs)
    };
    match dst {
        Some(d) => {
            let n = store(ctx, d, result, Ev::set("sinterstore"));
            ctx.out.int(n as i64);
        }
        None => reply_members(ctx, &result),
    }
    Ok(())
}

fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    sinter_generic(ctx, &args[1..], None)
}

fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    sinter_generic(ctx, &args[2..], Some(&args[1]))
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let numkeys = parse_i64(&args[1])
        .filter(|n| *n > 0)
        .ok_or(error::text("ERR numkeys should be greater than 0"))?;
    let numkeys = numkeys as usize;
    if numkeys > args.len() - 2 {
        return Err(error::text(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < args.len() {
        if is(&args[j], "limit") && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => return Err(error::text("ERR LIMIT can't be negative")),
            }
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let sets = sets_of(ctx, &args[2..2 + numkeys], false)?;
    if sets.iter().any(|s| s.is_none()) {
        ctx.out.int(0);
        return Ok(());
    }
    let mut refs: Vec<&Set> = sets.iter().flatten().collect();
    refs.sort_by_key(|s| s.len());
    let mut n = 0;
    for m in refs[0].iter() {
        if refs[1..].iter().all(|s| s.contains(&m)) {
            n += 1;
            if limit != 0 && n >= limit {
                break;
            }
        }
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `SUNION`/`SDIFF` (and their `STORE` forms): missing keys are empty sets.
fn union_diff(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&Bytes>, diff: bool) -> Outcome {
    let sets = sets_of(ctx, keys, false)?;
    let l = limits(ctx);
    let mut result = Set::intset();
    if diff {
        if let Some(first) = &sets[0] {
            for m in first.iter() {
                if !sets[1..].iter().flatten().any(|s| s.contains(&m)) {
                    result.insert(&m, &l);
                }
            }
        }
    } else {
        for s in sets.iter().flatten() {
            for m in s.iter() {
                result.insert(&m, &l);
            }
        }
    }
    match dst {
        Some(d) => {
            let ev = Ev::set(if diff { "sdiffstore" } else { "sunionstore" });
            let n = store(ctx, d, result, ev);
            ctx.out.int(n as i64);
        }
        None => reply_members(ctx, &result),
    }
    Ok(())
}

fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    union_diff(ctx, &args[1..], None, false)
}
fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    union_diff(ctx, &args[2..], Some(&args[1]), false)
}
fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    union_diff(ctx, &args[1..], None, true)
}
fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    union_diff(ctx, &args[2..], Some(&args[1]), true)
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let cursor = parse_cursor(&args[2]).ok_or(error::text("ERR invalid cursor"))?;
    let Some(s) = read!(ctx, &args[1])? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let opts = super::keys::scan_options(args, 3, false)?;
    let (count, pattern) = (opts.count as i64, opts.pattern);
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut cur = cursor;
    let mut budget = count.saturating_mul(10);
    loop {
        cur = s.scan_step(cur, |m| {
            if pattern.is_none_or(|p| glob_match(p, m, false)) {
                found.push(m.to_vec());
            }
        });
        budget -= 1;
        if cur == 0 || found.len() >= count as usize || budget <= 0 {
            break;
        }
    }
    ctx.out.array(2);
    ctx.out.bulk(cur.to_string().as_bytes());
    ctx.out.array(found.len());
    for m in &found {
        ctx.out.bulk(m);
    }
    Ok(())
}

const W: u32 = WRITE | DENYOOM | FAST;
const R: u32 = READONLY | FAST;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("sadd", -3, W, "set", sadd).keys(1, 1, 1).doc("Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0"),
    Cmd::new("srem", -3, WRITE | FAST, "set", srem).keys(1, 1, 1).doc("Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0"),
    Cmd::new("smembers", 2, READONLY, "set", smembers).keys(1, 1, 1).doc("Returns all members of a set.", "1.0.0"),
    Cmd::new("sismember", 3, R, "set", sismember).keys(1, 1, 1).doc("Determines whether a member belongs to a set.", "1.0.0"),
    Cmd::new("smismember", -3, R, "set", smismember).keys(1, 1, 1).doc("Determines whether multiple members belong to a set.", "6.2.0"),
    Cmd::new("scard", 2, R, "set", scard).keys(1, 1, 1).doc("Returns the number of members in a set.", "1.0.0"),
    Cmd::new("spop", -2, WRITE | FAST, "set", spop).keys(1, 1, 1).doc("Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0"),
    Cmd::new("srandmember", -2, READONLY, "set", srandmember).keys(1, 1, 1).doc("Get one or multiple random members from a set", "1.0.0"),
    Cmd::new("smove", 4, WRITE | FAST, "set", smove).keys(1, 2, 1).doc("Moves a member from one set to another.", "1.0.0"),
    Cmd::new("sinter", -2, READONLY, "set", sinter).keys(1, -1, 1).doc("Returns the intersect of multiple sets.", "1.0.0"),
    Cmd::new("sintercard", -3, READONLY, "set", sintercard).key_specs(&[KeySpec::numkeys(1)]).doc("Returns the number of members of the intersect of multiple sets.", "7.0.0"),
    Cmd::new("sinterstore", -3, WRITE | DENYOOM, "set", sinterstore).keys(1, -1, 1).doc("Stores the intersect of multiple sets in a key.", "1.0.0"),
    Cmd::new("sunion", -2, READONLY, "set", sunion).keys(1, -1, 1).doc("Returns the union of multiple sets.", "1.0.0"),
    Cmd::new("sunionstore", -3, WRITE | DENYOOM, "set", sunionstore).keys(1, -1, 1).doc("Stores the union of multiple sets in a key.", "1.0.0"),
    Cmd::new("sdiff", -2, READONLY, "set", sdiff).keys(1, -1, 1).doc("Returns the difference of multiple sets.", "1.0.0"),
    Cmd::new("sdiffstore", -3, WRITE | DENYOOM, "set", sdiffstore).keys(1, -1, 1).doc("Stores the difference of multiple sets in a key.", "1.0.0"),
    Cmd::new("sscan", -3, READONLY, "set", sscan).keys(1, 1, 1).doc("Iterates over members of a set.", "2.8.0"),
];
