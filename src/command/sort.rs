//! SORT and SORT_RO: the elements of a list, set or sorted set, ordered numerically or
//! lexicographically, by themselves or by keys named after them (`BY weight_*`,
//! `BY h_*->field`), with `LIMIT`, `GET` patterns and `STORE` (a list). BY and GET read keys
//! no key spec names, so both commands lock their whole database (`Scope::Db`).

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::table::{Begin, Find, KeySpec, Scope};
use crate::engine::CmdError;
use crate::num::parse_i64;
use crate::store::value::List;
use crate::store::Value;
use bytes::Bytes;
use std::cmp::Ordering;

struct Opts {
    desc: bool,
    alpha: bool,
    limit: (i64, i64),
    by: Option<Bytes>,
    /// BY names no key (no `*`): nothing is sorted.
    dontsort: bool,
    gets: Vec<Bytes>,
    store: Option<Bytes>,
}

fn parse(args: &[Bytes], readonly: bool) -> Result<Opts, CmdError> {
    let mut o = Opts {
        desc: false,
        alpha: false,
        limit: (0, -1),
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            let start = parse_i64(&args[j + 1]).ok_or(error::NOT_INTEGER)?;
            let count = parse_i64(&args[j + 2]).ok_or(error::NOT_INTEGER)?;
            o.limit = (start, count);
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(args[j + 1].clone());
            j += 1;
        } else if is(a, "by") && left >= 1 {
            o.dontsort = !args[j + 1].contains(&b'*');
            o.by = Some(args[j + 1].clone());
            j += 1;
        } else if is(a, "get") && left >= 1 {
            o.gets.push(args[j + 1].clone());
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// What a BY or GET pattern names for element `e`: `#` is the element itself; `key*` a
/// string key; `key*->field` a hash field. None when the key is missing or of another type,
/// or the pattern has no `*`.
fn lookup(ctx: &mut Ctx, pattern: &[u8], e: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(e.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let rest = &pattern[star + 1..];
    let (post, field) = match rest.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < rest.len() => (&rest[..i], Some(&rest[i + 2..])),
        _ => (rest, None),
    };
    let key = [&pattern[..star], e, post].concat();
    let (db, now) = (ctx.client.db, ctx.now);
    let entry = ctx.keys.shard(db, &key).get_read(&key, now)?;
    match (&entry.value, field) {
        (Value::Str { data, .. }, None) => Some(data.clone()),
        (Value::Hash(h), Some(f)) => h.get(f).map(|v| v.to_vec()),
        _ => None,
    }
}

/// A value as C code sees it: up to its first NUL.
fn c_str(v: &[u8]) -> &[u8] {
    v.iter().position(|&b| b == 0).map_or(v, |i| &v[..i])
}

/// A weight as Redis reads it: C's `strtod` on the value as a C string (see
/// `num::c_strtod`), neither NaN nor out of range.
fn weight(s: &[u8]) -> Option<f64> {
    crate::num::c_strtod(s)
        .filter(|(v, erange)| !erange && !v.is_nan())
        .map(|(v, _)| v)
}

fn sort_generic(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> Outcome {
    let mut o = parse(args, readonly)?;
    let (db, now) = (ctx.client.db, ctx.now);
    let elems: Vec<Vec<u8>> = match ctx.keys.shard(db, &args[1]).get_read(&args[1], now) {
        None => Vec::new(),
        Some(e) => match &e.value {
            Value::List(l) => l.iter().map(|v| v.to_vec()).collect(),
            Value::Set(s) => {
                // An unsorted set would store (or reach a script) in an arbitrary order:
                // sort it, as Redis does.
                if o.dontsort && (o.store.is_some() || ctx.script) {
                    (o.dontsort, o.alpha, o.by) = (false, true, None);
                }
                s.iter().map(|m| m.to_vec()).collect()
            }
            Value::ZSet(z) => z.iter().map(|(_, m)| m.to_vec()).collect(),
            _ => return Err(error::WRONGTYPE),
        },
    };
    let shard = ctx.keys.shard(db, &args[1]);
    let kind = shard.get(&args[1], now).map(|e| e.value.type_name());
    let is_zset_or_list = matches!(kind, Some("list" | "zset"));
    if kind == Some("zset") {
        // As Redis, which converts a sorted set for SORT (SORT_RO too) whatever follows.
        shard.update(&args[1], now, |e| {
            if let Value::ZSet(z) = &mut e.value {
                z.to_skiplist();
            }
        });
    }
    let n = elems.len() as i64;
    let start = o.limit.0.clamp(0, n);
    let count = o.limit.1.clamp(-1, n);
    let (mut start, mut end) = (start, if count < 0 { n - 1 } else { start + count - 1 });
    if start >= n {
        (start, end) = (n - 1, n - 2);
    }
    end = end.min(n - 1);
    let mut order: Vec<Vec<u8>> = elems;
    if o.dontsort {
        // Native order, reversed for DESC (lists and sorted sets; a set as it iterates).
        if o.desc && is_zset_or_list {
            order.reverse();
        }
    } else {
        // Weights first (BY keys are read once per element), then one sort.
        let mut keyed: Vec<(Vec<u8>, Option<Vec<u8>>, f64)> = Vec::with_capacity(order.len());
        for e in order {
            let by = match &o.by {
                Some(p) => lookup(ctx, p, &e),
                None => Some(e.clone()),
            };
            let score = if o.alpha {
                0.0
            } else {
                match &by {
                    Some(v) => weight(v).ok_or(error::text(
                        "ERR One or more scores can't be converted into double",
                    ))?,
                    None => 0.0,
                }
            };
            keyed.push((e, by, score));
        }
        let by_pattern = o.by.is_some();
        // Redis compares with `strcoll` (C strings: up to a NUL) unless it stores the result.
        let binary = o.store.is_some();
        let alpha_cmp = |x: &[u8], y: &[u8]| {
            if binary {
                x.cmp(y)
            } else {
                c_str(x).cmp(c_str(y))
            }
        };
        keyed.sort_by(|a, b| {
            let c = if !o.alpha {
                a.2.partial_cmp(&b.2)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.0.cmp(&b.0))
            } else if by_pattern {
                // A missing BY key sorts first.
                match (&a.1, &b.1) {
                    (Some(x), Some(y)) => alpha_cmp(x, y),
                    (x, y) => x.is_some().cmp(&y.is_some()),
                }
            } else {
                alpha_cmp(&a.0, &b.0)
            };
            if o.desc {
                c.reverse()
            } else {
                c
            }
        });
        order = keyed.into_iter().map(|k| k.0).collect();
    }
    let picked: &[Vec<u8>] = if end >= start && start >= 0 {
        &order[start as usize..=end as usize]
    } else {
        &[]
    };
    // GET patterns, per element (a missing one is nil, or "" when stored).
    let mut rows: Vec<Option<Vec<u8>>> = Vec::new();
    for e in picked {
        if o.gets.is_empty() {
            rows.push(Some(e.clone()));
        }
        for g in &o.gets {
            let v = lookup(ctx, g, e);
            rows.push(v);
        }
    }
    match o.store {
        None => {
            ctx.out.array(rows.len());
            for r in &rows {
                match r {
                    Some(v) => ctx.out.bulk(v),
                    None => ctx.out.null(),
                }
            }
        }
        Some(dst) => {
            let shard = ctx.keys.shard(db, &dst);
            if rows.is_empty() {
                if shard.remove(&dst, now).is_some() {
                    ctx.changed(&dst, notify::DEL);
                }
            } else {
                let mut l = List::default();
                for r in &rows {
                    l.push_back(r.as_deref().unwrap_or(b""));
                }
                shard.set(&dst, Value::List(Box::new(l)), 0, now);
                ctx.changed(&dst, Ev::list("sortstore"));
            }
            ctx.out.int(rows.len() as i64);
        }
    }
    Ok(())
}

fn sort(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    sort_generic(ctx, args, false)
}
fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    sort_generic(ctx, args, true)
}

/// The sorted key, and the key after the last STORE (a STORE given twice stores to the last).
const SORT_KEYS: &[KeySpec] = &[
    KeySpec::range(1, 1, 1),
    KeySpec {
        begin: Begin::Keyword {
            word: "store",
            from: -2,
        },
        find: Find::Range {
            last: 0,
            step: 1,
            limit: 0,
        },
    },
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("sort", -2, WRITE | DENYOOM, "generic", sort)
        .key_specs(SORT_KEYS)
        .scope(Scope::Db)
        .doc(
            "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
            "1.0.0",
        ),
    Cmd::new("sort_ro", -2, READONLY | MOVABLEKEYS, "generic", sort_ro)
        .keys(1, 1, 1)
        .scope(Scope::Db)
        .doc(
            "Returns the sorted elements of a list, a set, or a sorted set.",
            "7.0.0",
        ),
];
