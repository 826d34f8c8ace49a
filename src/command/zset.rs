//! Sorted-set commands: adding, scoring, ranking, popping (also blocking) and the command
//! table. Ranges live in `zset_range`, combinations of sets in `zset_ops`, random picks and
//! ZSCAN in `zset_random`; the sorted set itself is `store::zset`.

use super::error;
use super::zset_ops::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};
use super::zset_random::{zrandmember, zscan};
use super::zset_range::{
    reply_range, zcount, zlexcount, zrange, zrangebylex, zrangebyscore, zrangestore,
    zremrangebylex, zremrangebyrank, zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::table::KeySpec;
use crate::engine::{CmdError, LockSet};
use crate::num::{parse_f64, parse_i64};
use crate::store::value::ZSet;
use crate::store::Value;
use bytes::Bytes;

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            nx = true;
        } else if is(a, "xx") {
            xx = true;
        } else if is(a, "gt") {
            gt = true;
        } else if is(a, "lt") {
            lt = true;
        } else if is(a, "ch") {
            ch = true;
        } else if is(a, "incr") {
            incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || rest.len() % 2 == 1 {
        return Err(error::SYNTAX);
    }
    if nx && xx {
        return Err(error::text(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(error::text(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && rest.len() > 2 {
        return Err(error::text(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        pairs.push((parse_f64(&p[0]).ok_or(error::NOT_FLOAT)?, &p[1]));
    }
    let now = ctx.now;
    let key = &args[1];
    let limits = ctx.engine.hot.limits.read().clone();
    let shard = ctx.keys.shard(ctx.client.db, key);
    let exists = match shard.get_write(key, now) {
        Some(e) => match &e.value {
            Value::ZSet(z) => Some(z),
            _ => return Err(error::WRONGTYPE),
        },
        None => None,
    };
    // Work out every change first: a NaN result refuses the whole command before anything
    // changed (so nothing is propagated and the data is untouched).
    let mut plan: Vec<(f64, &Bytes)> = Vec::with_capacity(pairs.len());
    let (mut added, mut updated, mut last) = (0usize, 0usize, None);
    for (score, member) in &pairs {
        // A member named twice is compared with what this command made of it so far.
        let cur = plan
            .iter()
            .rev()
            .find(|(_, m)| *m == *member)
            .map(|(s, _)| *s)
            .or_else(|| exists.and_then(|z| z.score(member)));
        match cur {
            Some(cur) => {
                if nx {
                    continue;
                }
                let new = if incr { cur + score } else { *score };
                if new.is_nan() {
                    return Err(error::text("ERR resulting score is not a number (NaN)"));
                }
                if (gt && new <= cur) || (lt && new >= cur) {
                    continue;
                }
                last = Some(new);
                if new != cur {
                    updated += 1;
                    plan.push((new, member));
                }
            }
            None => {
                if xx {
                    continue;
                }
                added += 1;
                last = Some(*score);
                plan.push((*score, member));
            }
        }
    }
    if !plan.is_empty() {
        if exists.is_none() {
            shard.set(
                key,
                Value::ZSet(Box::new(ZSet::new(plan[0].1, &limits))),
                0,
                now,
            );
        }
        shard.update(key, now, |e| {
            if let Value::ZSet(z) = &mut e.value {
                for (score, member) in &plan {
                    z.insert(member, *score, &limits);
                }
            }
        });
        ctx.changed(key, Ev::zset(if incr { "zincr" } else { "zadd" }));
    }
    if incr {
        match last {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.int((added + if ch { updated } else { 0 }) as i64)
    }
    Ok(())
}

/// The sorted set at `key` for reading (a keyspace hit or miss).
pub(super) fn read_in<'s>(
    keys: &'s mut LockSet,
    db: usize,
    key: &[u8],
    now: u64,
) -> Result<Option<&'s ZSet>, CmdError> {
    super::read_as(keys, db, key, now)
}

macro_rules! read {
    ($ctx:expr, $key:expr) => {
        read_in(&mut *$ctx.keys, $ctx.client.db, $key, $ctx.now)
    };
}

/// The sorted set at `key` for reading, borrowing the whole context.
pub(super) fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c ZSet>, CmdError> {
    read_in(&mut *ctx.keys, ctx.client.db, key, ctx.now)
}

/// Change the sorted set at `key`; None when missing (the store deletes one left empty).
pub(super) fn write<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut ZSet) -> R,
) -> Result<Option<R>, CmdError> {
    super::write_as(&mut *ctx.keys, ctx.client.db, key, ctx.now, None, f)
}

/// `ZSCORE key member`
fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match read!(ctx, &args[1])?.and_then(|z| z.score(&args[2])) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member ...]`
fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let z = read!(ctx, &args[1])?;
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// `ZINCRBY key increment member`
fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let by = parse_f64(&args[2]).ok_or(error::NOT_FLOAT)?;
    let now = ctx.now;
    let limits = ctx.engine.hot.limits.read().clone();
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    let cur = match shard.get_write(&args[1], now) {
        None => None,
        Some(e) => match &e.value {
            Value::ZSet(z) => Some(z.score(&args[3])),
            _ => return Err(error::WRONGTYPE),
        },
    };
    let new = cur.flatten().unwrap_or(0.0) + by;
    if new.is_nan() {
        return Err(error::text("ERR resulting score is not a number (NaN)"));
    }
    if cur.is_none() {
        shard.set(
            &args[1],
            Value::ZSet(Box::new(ZSet::new(&args[3], &limits))),
            0,
            now,
        );
    }
    shard.update(&args[1], now, |e| {
        if let Value::ZSet(z) = &mut e.value {
            z.insert(&args[3], new, &limits);
        }
    });
    ctx.changed(&args[1], Ev::zset("zincr"));
    ctx.out.double(new);
    Ok(())
}

/// `ZREM key member [member ...]`
fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let n = write(ctx, &args[1], |z| {
        args[2..].iter().filter(|m| z.remove(m).is_some()).count()
    })?
    .unwrap_or(0);
    if n > 0 {
        ctx.removed_from(&args[1], Ev::zset("zrem"));
    }
    ctx.out.int(n as i64);
    Ok(())
}

fn rank_generic(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> Outcome {
    let r = read!(ctx, &args[1])?.and_then(|z| z.rank(&args[2]).map(|r| (r, z.len())));
    match r {
        Some((r, len)) => ctx.out.int(if rev { len - 1 - r } else { r } as i64),
        None => ctx.out.null(),
    }
    Ok(())
}
fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    rank_generic(ctx, args, false)
}
fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    rank_generic(ctx, args, true)
}

/// `ZPOPMIN key [count]` / `ZPOPMAX key [count]`
fn zpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Outcome {
    if args.len() > 3 {
        return Err(error::SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_i64(a) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err(error::text("ERR value is out of range, must be positive")),
        },
    };
    let popped = pop_from(ctx, &args[1], count.unwrap_or(1), max)?.unwrap_or_default();
    match count {
        // One pop: a flat [member, score] in both protocols.
        None => {
            ctx.out.array(popped.len() * 2);
            for (s, m) in &popped {
                ctx.out.bulk(m);
                ctx.out.double(*s);
            }
        }
        Some(_) => reply_range(ctx, &popped, true),
    }
    Ok(())
}
/// Members popped, with their scores.
type Popped = Vec<(f64, Vec<u8>)>;

/// Pop up to `count` members from the sorted set at `key` (lowest first unless `max`);
/// None when there is no sorted set there. Raises the change.
fn pop_from(
    ctx: &mut Ctx,
    key: &Bytes,
    count: usize,
    max: bool,
) -> Result<Option<Popped>, CmdError> {
    let popped = write(ctx, key, |z| {
        let n = count.min(z.len());
        let (lo, hi) = if max { (z.len() - n, z.len()) } else { (0, n) };
        let picked: Vec<(f64, Vec<u8>)> =
            z.range(lo, hi, max).map(|(s, m)| (s, m.to_vec())).collect();
        z.remove_span(lo, hi);
        picked
    })?;
    if popped.as_ref().is_some_and(|p| !p.is_empty()) {
        ctx.removed_from(key, Ev::zset(if max { "zpopmax" } else { "zpopmin" }));
    }
    Ok(popped)
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]` (and the engine of BZMPOP): pops from
/// the first non-empty sorted set; propagated as the ZPOPMIN/ZPOPMAX it amounted to. Returns
/// whether it popped (else it replied null).
fn zmpop_at(ctx: &mut Ctx, args: &[Bytes], numkeys_at: usize) -> Result<bool, CmdError> {
    let n = parse_i64(&args[numkeys_at])
        .filter(|n| *n > 0)
        .ok_or(error::text("ERR numkeys should be greater than 0"))? as usize;
    let at = numkeys_at + 1 + n;
    if at >= args.len() {
        return Err(error::SYNTAX);
    }
    let max = if is(&args[at], "max") {
        true
    } else if is(&args[at], "min") {
        false
    } else {
        return Err(error::SYNTAX);
    };
    let mut count = 1usize;
    match &args[at + 1..] {
        [] => {}
        [c, v] if is(c, "count") => match parse_i64(v) {
            Some(v) if v > 0 => count = v as usize,
            _ => return Err(error::text("ERR count should be greater than 0")),
        },
        _ => return Err(error::SYNTAX),
    }
    for key in &args[numkeys_at + 1..at] {
        let popped = match pop_from(ctx, key, count, max) {
            // Once blocked (BZMPOP), a key of another type is waited on, as Redis does.
            Err(e) if ctx.client.block_retry && e == error::WRONGTYPE => None,
            r => r?,
        };
        let Some(popped) = popped else { continue };
        let k = popped.len();
        ctx.log_as(|| {
            let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            vec![vec![cmd.to_vec(), key.to_vec(), k.to_string().into_bytes()]]
        });
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(k);
        for (s, m) in &popped {
            ctx.out.array(2);
            ctx.out.bulk(m);
            ctx.out.double(*s);
        }
        return Ok(true);
    }
    ctx.out.null_array();
    Ok(false)
}

fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    zmpop_at(ctx, args, 1).map(|_| ())
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`
fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let timeout = super::list::timeout_ms(&args[1])?;
    let mark = ctx.out.buf.len();
    if zmpop_at(ctx, args, 2)? {
        return Ok(());
    }
    ctx.out.buf.truncate(mark);
    let n = parse_i64(&args[2]).unwrap_or(0).max(0) as usize;
    super::list::block(ctx, &args[3..3 + n], timeout, true)
}

/// `BZPOPMIN key [key ...] timeout` / `BZPOPMAX`: [key, member, score] from the first
/// non-empty sorted set, or wait; served as the ZPOPMIN/ZPOPMAX it amounts to.
fn bzpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> Outcome {
    let timeout = super::list::timeout_ms(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    for key in keys {
        let popped = match pop_from(ctx, key, 1, max) {
            Ok(p) => p,
            // Once blocked, a key of another type is waited on, as Redis does.
            Err(e) if ctx.client.block_retry && e == error::WRONGTYPE => None,
            Err(e) => return Err(e),
        };
        let Some(popped) = popped else { continue };
        let (s, m) = &popped[0];
        ctx.log_as(|| {
            let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            vec![vec![cmd.to_vec(), key.to_vec()]]
        });
        ctx.out.array(3);
        ctx.out.bulk(key);
        ctx.out.bulk(m);
        ctx.out.double(*s);
        return Ok(());
    }
    super::list::block(ctx, keys, timeout, true)
}

fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bzpop(ctx, args, false)
}
fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bzpop(ctx, args, true)
}

fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    zpop(ctx, args, false)
}
fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    zpop(ctx, args, true)
}

fn size_of(ctx: &mut Ctx, args: &[Bytes], f: fn(&Value) -> Option<usize>) -> Outcome {
    let now = ctx.now;
    let n = match ctx.shard(&args[1]).get(&args[1], now).map(|e| f(&e.value)) {
        None => 0,
        Some(Some(n)) => n,
        Some(None) => return Err(error::WRONGTYPE),
    };
    ctx.out.int(n as i64);
    Ok(())
}

fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    size_of(ctx, args, |v| match v {
        Value::ZSet(z) => Some(z.len()),
        _ => None,
    })
}

/// ZUNIONSTORE & co: the destination, then `numkeys` sources.
const STORE_KEYS: &[KeySpec] = &[KeySpec::range(1, 1, 1), KeySpec::numkeys(2)];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("zadd", -4, WRITE | DENYOOM | FAST, "sorted-set", zadd).keys(1, 1, 1).doc("Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0"),
    Cmd::new("zrange", -4, READONLY, "sorted-set", zrange).keys(1, 1, 1).doc("Returns members in a sorted set within a range of indexes.", "1.2.0"),
    Cmd::new("zrangestore", -5, WRITE | DENYOOM, "sorted-set", zrangestore).keys(1, 2, 1).doc("Stores a range of members from sorted set in a key.", "6.2.0"),
    Cmd::new("zrevrange", -4, READONLY, "sorted-set", zrevrange).keys(1, 1, 1).doc("Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0"),
    Cmd::new("zrangebyscore", -4, READONLY, "sorted-set", zrangebyscore).keys(1, 1, 1).doc("Returns members in a sorted set within a range of scores.", "1.0.5"),
    Cmd::new("zrevrangebyscore", -4, READONLY, "sorted-set", zrevrangebyscore).keys(1, 1, 1).doc("Returns members in a sorted set within a range of scores in reverse order.", "2.2.0"),
    Cmd::new("zrangebylex", -4, READONLY, "sorted-set", zrangebylex).keys(1, 1, 1).doc("Returns members in a sorted set within a lexicographical range.", "2.8.9"),
    Cmd::new("zrevrangebylex", -4, READONLY, "sorted-set", zrevrangebylex).keys(1, 1, 1).doc("Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9"),
    Cmd::new("zscore", 3, READONLY | FAST, "sorted-set", zscore).keys(1, 1, 1).doc("Returns the score of a member in a sorted set.", "1.2.0"),
    Cmd::new("zmscore", -3, READONLY | FAST, "sorted-set", zmscore).keys(1, 1, 1).doc("Returns the score of one or more members in a sorted set.", "6.2.0"),
    Cmd::new("zincrby", 4, WRITE | DENYOOM | FAST, "sorted-set", zincrby).keys(1, 1, 1).doc("Increments the score of a member in a sorted set.", "1.2.0"),
    Cmd::new("zrem", -3, WRITE | FAST, "sorted-set", zrem).keys(1, 1, 1).doc("Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "1.2.0"),
    Cmd::new("zrank", 3, READONLY | FAST, "sorted-set", zrank).keys(1, 1, 1).doc("Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0"),
    Cmd::new("zrevrank", 3, READONLY | FAST, "sorted-set", zrevrank).keys(1, 1, 1).doc("Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0"),
    Cmd::new("zcount", 4, READONLY | FAST, "sorted-set", zcount).keys(1, 1, 1).doc("Returns the count of members in a sorted set that have scores within a range.", "2.0.0"),
    Cmd::new("zlexcount", 4, READONLY | FAST, "sorted-set", zlexcount).keys(1, 1, 1).doc("Returns the number of members in a sorted set within a lexicographical range.", "2.8.9"),
    Cmd::new("zpopmin", -2, WRITE | FAST, "sorted-set", zpopmin).keys(1, 1, 1).doc("Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0"),
    Cmd::new("zpopmax", -2, WRITE | FAST, "sorted-set", zpopmax).keys(1, 1, 1).doc("Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0"),
    Cmd::new("zremrangebyrank", 4, WRITE, "sorted-set", zremrangebyrank).keys(1, 1, 1).doc("Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "2.0.0"),
    Cmd::new("zremrangebyscore", 4, WRITE, "sorted-set", zremrangebyscore).keys(1, 1, 1).doc("Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "1.2.0"),
    Cmd::new("zremrangebylex", 4, WRITE, "sorted-set", zremrangebylex).keys(1, 1, 1).doc("Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "2.8.9"),
    Cmd::new("zunion", -3, READONLY, "sorted-set", zunion).key_specs(&[KeySpec::numkeys(1)]).doc("Returns the union of multiple sorted sets.", "6.2.0"),
    Cmd::new("zinter", -3, READONLY, "sorted-set", zinter).key_specs(&[KeySpec::numkeys(1)]).doc("Returns the intersect of multiple sorted sets.", "6.2.0"),
    Cmd::new("zdiff", -3, READONLY, "sorted-set", zdiff).key_specs(&[KeySpec::numkeys(1)]).doc("Returns the difference between multiple sorted sets.", "6.2.0"),
    Cmd::new("zunionstore", -4, WRITE | DENYOOM, "sorted-set", zunionstore).key_specs(STORE_KEYS).doc("Stores the union of multiple sorted sets in a key.", "2.0.0"),
    Cmd::new("zinterstore", -4, WRITE | DENYOOM, "sorted-set", zinterstore).key_specs(STORE_KEYS).doc("Stores the intersect of multiple sorted sets in a key.", "2.0.0"),
    Cmd::new("zdiffstore", -4, WRITE | DENYOOM, "sorted-set", zdiffstore).key_specs(STORE_KEYS).doc("Stores the difference of multiple sorted sets in a key.", "6.2.0"),
    Cmd::new("zintercard", -3, READONLY, "sorted-set", zintercard).key_specs(&[KeySpec::numkeys(1)]).doc("Returns the number of members of the intersect of multiple sorted sets.", "7.0.0"),
    Cmd::new("zmpop", -4, WRITE, "sorted-set", zmpop).key_specs(&[KeySpec::numkeys(1)]).doc("Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "7.0.0"),
    Cmd::new("bzmpop", -5, WRITE | BLOCKING, "sorted-set", bzmpop).key_specs(&[KeySpec::numkeys(2)]).doc("Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "7.0.0"),
    Cmd::new("bzpopmin", -3, WRITE | FAST | NOSCRIPT | BLOCKING, "sorted-set", bzpopmin).keys(1, -2, 1).doc("Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0"),
    Cmd::new("bzpopmax", -3, WRITE | FAST | NOSCRIPT | BLOCKING, "sorted-set", bzpopmax).keys(1, -2, 1).doc("Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0"),
    Cmd::new("zrandmember", -2, READONLY, "sorted-set", zrandmember).keys(1, 1, 1).doc("Returns one or more random members from a sorted set.", "6.2.0"),
    Cmd::new("zscan", -3, READONLY, "sorted-set", zscan).keys(1, 1, 1).doc("Iterates over members and scores of a sorted set.", "2.8.0"),
    Cmd::new("zcard", 2, READONLY | FAST, "sorted-set", zcard).keys(1, 1, 1).doc("Returns the number of members in a sorted set.", "1.2.0"),
];
