//! Sorted-set combinations: ZUNION, ZINTER, ZDIFF (and their STORE forms), ZINTERCARD.

use super::error;
use super::zset_range::{int, reply_range};
use super::{is, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::CmdError;
use crate::num::{parse_f64, parse_i64};
use crate::store::value::ZSet;
use crate::store::Value;
use bytes::Bytes;

// ---- union, intersection, difference ----------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

/// A source of ZUNION & co: a sorted set, or a plain set (every score 1).
fn source(ctx: &mut Ctx, key: &[u8]) -> Result<Vec<(Vec<u8>, f64)>, CmdError> {
    let now = ctx.now;
    match ctx.keys.shard(ctx.client.db, key).get_read(key, now) {
        None => Ok(Vec::new()),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(z.iter().map(|(s, m)| (m.to_vec(), s)).collect()),
            Value::Set(st) => Ok(st.iter().map(|m| (m.to_vec(), 1.0)).collect()),
            _ => Err(error::WRONGTYPE),
        },
    }
}

/// ZUNION/ZINTER/ZDIFF and their STORE forms: `numkeys_at` is where numkeys is, `dst` the
/// destination key for the STORE forms.
fn set_op(
    ctx: &mut Ctx,
    args: &[Bytes],
    op: SetOp,
    numkeys_at: usize,
    dst: Option<&Bytes>,
) -> Outcome {
    let n = int(&args[numkeys_at])?;
    if n < 1 {
        let cmd = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        return Err(error::msg(format!(
            "ERR at least 1 input key is needed for '{cmd}' command"
        )));
    }
    let n = n as usize;
    let first = numkeys_at + 1;
    if n > args.len() - first {
        return Err(error::SYNTAX);
    }
    let keys = &args[first..first + n];
    // As Redis: the sources' types are checked before the options are parsed.
    let mut sources = Vec::with_capacity(n);
    for k in keys {
        sources.push(source(ctx, k)?);
    }
    let mut weights = vec![1.0; n];
    let mut aggregate = 0u8; // 0 sum, 1 min, 2 max
    let mut withscores = false;
    let mut j = first + n;
    while j < args.len() {
        let more = args.len() - j - 1;
        if op != SetOp::Diff && is(&args[j], "weights") && more >= n {
            for (i, w) in args[j + 1..j + 1 + n].iter().enumerate() {
                weights[i] = parse_f64(w).ok_or(error::text("ERR weight value is not a float"))?;
            }
            j += n;
        } else if op != SetOp::Diff && is(&args[j], "aggregate") && more >= 1 {
            let a = &args[j + 1];
            aggregate = if is(a, "sum") {
                0
            } else if is(a, "min") {
                1
            } else if is(a, "max") {
                2
            } else {
                return Err(error::SYNTAX);
            };
            j += 1;
        } else if dst.is_none() && is(&args[j], "withscores") {
            withscores = true;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    let combine = |acc: f64, v: f64| -> f64 {
        let r = match aggregate {
            0 => acc + v,
            1 => acc.min(v),
            _ => acc.max(v),
        };
        if r.is_nan() {
            0.0
        } else {
            r
        }
    };
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut acc: std::collections::HashMap<Vec<u8>, f64> = std::collections::HashMap::new();
    match op {
        SetOp::Union => {
            for (src, w) in sources.iter().zip(&weights) {
                for (m, s) in src {
                    let v = weighted(*s, *w);
                    acc.entry(m.clone())
                        .and_modify(|a| *a = combine(*a, v))
                        .or_insert(v);
                }
            }
        }
        SetOp::Inter => {
            let others: Vec<std::collections::HashMap<&[u8], f64>> = sources[1..]
                .iter()
                .map(|src| src.iter().map(|(m, s)| (&m[..], *s)).collect())
                .collect();
            for (m, s) in &sources[0] {
                let mut v = weighted(*s, weights[0]);
                let mut all = true;
                for (i, o) in others.iter().enumerate() {
                    match o.get(&m[..]) {
                        Some(x) => v = combine(v, weighted(*x, weights[i + 1])),
                        None => {
                            all = false;
                            break;
                        }
                    }
                }
                if all {
                    acc.insert(m.clone(), v);
                }
            }
        }
        SetOp::Diff => {
            let others: Vec<std::collections::HashSet<&[u8]>> = sources[1..]
                .iter()
                .map(|src| src.iter().map(|(m, _)| &m[..]).collect())
                .collect();
            for (m, s) in &sources[0] {
                if !others.iter().any(|o| o.contains(&m[..])) {
                    acc.insert(m.clone(), *s);
                }
            }
        }
    }
    let mut items: Vec<(f64, Vec<u8>)> = acc.into_iter().map(|(m, s)| (s, m)).collect();
    items.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    match dst {
        None => reply_range(ctx, &items, withscores),
        Some(d) => {
            let ev = Ev::zset(match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            });
            let n = store_zset(ctx, d, items, ev);
            ctx.out.int(n as i64);
        }
    }
    Ok(())
}

pub(super) fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    set_op(ctx, args, SetOp::Union, 1, None)
}
pub(super) fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    set_op(ctx, args, SetOp::Inter, 1, None)
}
pub(super) fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    set_op(ctx, args, SetOp::Diff, 1, None)
}
pub(super) fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    set_op(ctx, args, SetOp::Union, 2, Some(&args[1]))
}
pub(super) fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    set_op(ctx, args, SetOp::Inter, 2, Some(&args[1]))
}
pub(super) fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    set_op(ctx, args, SetOp::Diff, 2, Some(&args[1]))
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub(super) fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // numkeys is checked as for ZUNION & co (not as for SINTERCARD).
    let n = int(&args[1])?;
    if n < 1 {
        return Err(error::text(
            "ERR at least 1 input key is needed for 'zintercard' command",
        ));
    }
    let n = n as usize;
    if n > args.len() - 2 {
        return Err(error::SYNTAX);
    }
    let mut limit = 0usize;
    let mut j = 2 + n;
    while j < args.len() {
        if is(&args[j], "limit") && j + 1 < args.len() {
            match parse_i64(&args[j + 1]) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => return Err(error::text("ERR LIMIT can't be negative")),
            }
            j += 2;
        } else {
            return Err(error::SYNTAX);
        }
    }
    let mut sources = Vec::with_capacity(n);
    for k in &args[2..2 + n] {
        sources.push(source(ctx, k)?);
    }
    let others: Vec<std::collections::HashSet<&[u8]>> = sources[1..]
        .iter()
        .map(|src| src.iter().map(|(m, _)| &m[..]).collect())
        .collect();
    let mut count = 0;
    for (m, _) in &sources[0] {
        if others.iter().all(|o| o.contains(&m[..])) {
            count += 1;
            if limit != 0 && count >= limit {
                break;
            }
        }
    }
    ctx.out.int(count as i64);
    Ok(())
}

/// Replace `dst` with a sorted set of `items` (sorted, distinct members); no items deletes
/// it. Raises the change (named `ev`, or `del`) when anything changed; returns the number
/// stored.
pub(super) fn store_zset(ctx: &mut Ctx, dst: &Bytes, items: Vec<(f64, Vec<u8>)>, ev: Ev) -> usize {
    let now = ctx.now;
    let limits = ctx.engine.hot.limits.read().clone();
    let shard = ctx.keys.shard(ctx.client.db, dst);
    let existed = shard.remove(dst, now).is_some();
    if let Some((_, m0)) = items.first() {
        let mut z = ZSet::new(m0, &limits);
        for (s, m) in &items {
            z.insert(m, *s, &limits);
        }
        shard.set(dst, Value::ZSet(Box::new(z)), 0, now);
    }
    if !items.is_empty() {
        ctx.changed(dst, ev);
    } else if existed {
        ctx.changed(dst, notify::DEL);
    }
    items.len()
}
