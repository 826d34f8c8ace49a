//! The first commands of the collection types: creating lists, sets, hashes and sorted sets
//! and reading their sizes. Their full families come with the data-structure issues; these
//! already behave as in Redis, so `TYPE`, `WRONGTYPE` and `OBJECT ENCODING` can be exercised.

use super::error;
use super::{flags::*, is, Cmd, Ctx};
use crate::num::parse_f64;
use crate::store::memory::alloc_size;
use crate::store::{Shard, Value};
use bytes::Bytes;
use std::collections::VecDeque;

/// Per-element bookkeeping bytes of the collection types (slot plus allocation header).
const ELEM_OVERHEAD: usize = 32;

fn elem(b: &[u8]) -> isize {
    (alloc_size(b.len()) + ELEM_OVERHEAD) as isize
}

/// Apply `f` to the collection at `key`, creating it with `empty` first when missing.
/// Returns None (after replying WRONGTYPE) when the key holds another type.
fn with_collection<R>(
    ctx: &mut Ctx,
    key: &[u8],
    empty: fn() -> Value,
    kind: fn(&Value) -> bool,
    f: impl FnOnce(&mut Value) -> (R, isize),
) -> Option<R> {
    let now = ctx.now;
    let mut shard = ctx.db().lock(key);
    match shard.get(key, now).map(|e| kind(&e.value)) {
        Some(false) => {
            drop(shard);
            ctx.error(error::WRONGTYPE);
            return None;
        }
        None => {
            shard.set(key, empty(), 0, now);
        }
        Some(true) => {}
    }
    let r = shard.update_sized(key, now, f);
    drop(shard);
    ctx.dirty(1);
    r
}

fn push(ctx: &mut Ctx, args: &[Bytes], left: bool) {
    let r = with_collection(
        ctx,
        &args[1],
        || Value::List(VecDeque::new()),
        |v| matches!(v, Value::List(_)),
        |v| {
            let Value::List(l) = v else {
                unreachable!("checked by kind")
            };
            let mut delta = 0;
            for a in &args[2..] {
                delta += elem(a);
                if left {
                    l.push_front(a.to_vec());
                } else {
                    l.push_back(a.to_vec());
                }
            }
            (l.len(), delta)
        },
    );
    if let Some(n) = r {
        ctx.out.int(n as i64);
    }
}

/// `LPUSH key element [element ...]`
fn lpush(ctx: &mut Ctx, args: &[Bytes]) {
    push(ctx, args, true)
}

/// `RPUSH key element [element ...]`
fn rpush(ctx: &mut Ctx, args: &[Bytes]) {
    push(ctx, args, false)
}

/// `SADD key member [member ...]`
fn sadd(ctx: &mut Ctx, args: &[Bytes]) {
    let r = with_collection(
        ctx,
        &args[1],
        || Value::Set(Box::default()),
        |v| matches!(v, Value::Set(_)),
        |v| {
            let Value::Set(s) = v else {
                unreachable!("checked by kind")
            };
            let mut added = 0;
            let mut delta = 0;
            for m in &args[2..] {
                if s.insert(m.to_vec()) {
                    added += 1;
                    delta += elem(m);
                }
            }
            (added, delta)
        },
    );
    if let Some(n) = r {
        ctx.out.int(n);
    }
}

/// `HSET key field value [field value ...]`
fn hset(ctx: &mut Ctx, args: &[Bytes]) {
    if args.len() % 2 == 1 {
        return ctx.error(&error::wrong_arity("hset"));
    }
    let r = with_collection(
        ctx,
        &args[1],
        || Value::Hash(Box::default()),
        |v| matches!(v, Value::Hash(_)),
        |v| {
            let Value::Hash(h) = v else {
                unreachable!("checked by kind")
            };
            let mut added = 0;
            let mut delta = 0;
            for p in args[2..].chunks(2) {
                match h.insert(p[0].to_vec(), p[1].to_vec()) {
                    None => {
                        added += 1;
                        delta += elem(&p[0]) + elem(&p[1]);
                    }
                    Some(old) => delta += elem(&p[1]) - elem(&old),
                }
            }
            (added, delta)
        },
    );
    if let Some(n) = r {
        ctx.out.int(n);
    }
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
fn zadd(ctx: &mut Ctx, args: &[Bytes]) {
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
        return ctx.error(error::SYNTAX);
    }
    if nx && xx {
        return ctx.error("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return ctx.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if incr && rest.len() > 2 {
        return ctx.error("ERR INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks(2) {
        match parse_f64(&p[0]) {
            Some(s) => pairs.push((s, &p[1])),
            None => return ctx.error(error::NOT_FLOAT),
        }
    }
    let now = ctx.now;
    let key = &args[1];
    {
        let mut shard = ctx.db().lock(key);
        let missing = match shard.get(key, now) {
            Some(e) if !matches!(e.value, Value::ZSet(_)) => {
                drop(shard);
                return ctx.error(error::WRONGTYPE);
            }
            Some(_) => false,
            None => true,
        };
        if missing {
            if xx {
                drop(shard);
                return if incr { ctx.out.null() } else { ctx.out.int(0) };
            }
            shard.set(key, Value::ZSet(Box::default()), 0, now);
        }
    }
    // (added, updated, last score or None when INCR did nothing, NaN)
    let result = {
        let mut shard = ctx.db().lock(key);
        zadd_apply(&mut shard, key, now, &pairs, (nx, xx, gt, lt, incr))
    };
    ctx.dirty(1);
    match result {
        Err(()) => ctx.error("ERR resulting score is not a number (NaN)"),
        Ok((added, updated, score)) => {
            if incr {
                match score {
                    Some(s) => ctx.out.double(s),
                    None => ctx.out.null(),
                }
            } else {
                ctx.out.int((added + if ch { updated } else { 0 }) as i64)
            }
        }
    }
}

type ZaddFlags = (bool, bool, bool, bool, bool);

fn zadd_apply(
    shard: &mut Shard,
    key: &[u8],
    now: u64,
    pairs: &[(f64, &Bytes)],
    f: ZaddFlags,
) -> Result<(usize, usize, Option<f64>), ()> {
    let (nx, xx, gt, lt, incr) = f;
    shard
        .update_sized(key, now, |v| {
            let Value::ZSet(z) = v else {
                return (Err(()), 0);
            };
            let (mut added, mut updated, mut last, mut delta) = (0, 0, None, 0isize);
            for (score, member) in pairs {
                let member = member.to_vec();
                match z.scores.get(&member).copied() {
                    Some(cur) => {
                        if nx {
                            continue;
                        }
                        let new = if incr { cur + score } else { *score };
                        if new.is_nan() {
                            return (Err(()), delta);
                        }
                        if (gt && new <= cur) || (lt && new >= cur) {
                            continue;
                        }
                        last = Some(new);
                        if new != cur {
                            z.insert(member, new);
                            updated += 1;
                        }
                    }
                    None => {
                        if xx {
                            continue;
                        }
                        delta += 2 * elem(&member) + 16;
                        z.insert(member, *score);
                        added += 1;
                        last = Some(*score);
                    }
                }
            }
            (Ok((added, updated, last)), delta)
        })
        .unwrap_or(Err(()))
}

fn size_of(ctx: &mut Ctx, args: &[Bytes], f: fn(&Value) -> Option<usize>) {
    let now = ctx.now;
    let mut shard = ctx.db().lock(&args[1]);
    match shard.get(&args[1], now).map(|e| f(&e.value)) {
        None => ctx.out.int(0),
        Some(Some(n)) => ctx.out.int(n as i64),
        Some(None) => ctx.out.error(error::WRONGTYPE),
    }
}

fn llen(ctx: &mut Ctx, args: &[Bytes]) {
    size_of(ctx, args, |v| {
        if let Value::List(l) = v {
            Some(l.len())
        } else {
            None
        }
    })
}
fn scard(ctx: &mut Ctx, args: &[Bytes]) {
    size_of(ctx, args, |v| {
        if let Value::Set(s) = v {
            Some(s.len())
        } else {
            None
        }
    })
}
fn hlen(ctx: &mut Ctx, args: &[Bytes]) {
    size_of(ctx, args, |v| {
        if let Value::Hash(h) = v {
            Some(h.len())
        } else {
            None
        }
    })
}
fn zcard(ctx: &mut Ctx, args: &[Bytes]) {
    size_of(ctx, args, |v| {
        if let Value::ZSet(z) = v {
            Some(z.scores.len())
        } else {
            None
        }
    })
}

const W: u32 = WRITE | DENYOOM | FAST;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("lpush", -3, W, "list", lpush).keys(1, 1, 1).doc("Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0"),
    Cmd::new("rpush", -3, W, "list", rpush).keys(1, 1, 1).doc("Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0"),
    Cmd::new("llen", 2, READONLY | FAST, "list", llen).keys(1, 1, 1).doc("Returns the length of a list.", "1.0.0"),
    Cmd::new("sadd", -3, W, "set", sadd).keys(1, 1, 1).doc("Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0"),
    Cmd::new("scard", 2, READONLY | FAST, "set", scard).keys(1, 1, 1).doc("Returns the number of members in a set.", "1.0.0"),
    Cmd::new("hset", -4, W, "hash", hset).keys(1, 1, 1).doc("Creates or modifies the value of a field in a hash.", "2.0.0"),
    Cmd::new("hlen", 2, READONLY | FAST, "hash", hlen).keys(1, 1, 1).doc("Returns the number of fields in a hash.", "2.0.0"),
    Cmd::new("zadd", -4, WRITE | DENYOOM | FAST, "sorted-set", zadd).keys(1, 1, 1).doc("Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0"),
    Cmd::new("zcard", 2, READONLY | FAST, "sorted-set", zcard).keys(1, 1, 1).doc("Returns the number of members in a sorted set.", "1.2.0"),
];
