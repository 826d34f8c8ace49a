//! Sorted-set commands (so far ZADD and ZCARD; the rest of the family comes with the
//! collections issue). The sorted set itself is `store::zset`.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::num::parse_f64;
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
        let cur = exists.and_then(|z| z.score(member)).or_else(|| {
            plan.iter()
                .rev()
                .find(|(_, m)| *m == *member)
                .map(|(s, _)| *s)
        });
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
        ctx.changed(key);
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

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("zadd", -4, WRITE | DENYOOM | FAST, "sorted-set", zadd).keys(1, 1, 1).doc("Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0"),
    Cmd::new("zcard", 2, READONLY | FAST, "sorted-set", zcard).keys(1, 1, 1).doc("Returns the number of members in a sorted set.", "1.2.0"),
];
