//! Ranges of a sorted set: by rank, score or lex, forward or reversed, with LIMIT; and the
//! commands built on them (ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, the
//! ZREMRANGEBY* family). A range resolves to a span of positions [lo, hi) in (score, member)
//! order, found by two rank searches, so counting is O(log n) and reading is O(log n + k).

use super::error;
use super::zset::{read, write};
use super::zset_ops::store_zset;
use super::{is, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::CmdError;
use crate::num::{c_strtod, parse_i64};
use crate::store::value::ZSet;
use bytes::Bytes;

/// One end of a score range: the value and whether it is excluded (`(1.5`).
#[derive(Clone, Copy)]
pub(super) struct ScoreBound(f64, bool);

/// As Redis, both forms are read with C's `strtod` (`num::c_strtod`): leading spaces are
/// skipped, "" and a bare `(` are 0, out-of-range values are ±inf or 0; NaN is refused.
pub(super) fn score_bound(a: &[u8]) -> Result<ScoreBound, CmdError> {
    let (rest, exclusive) = match a.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (a, false),
    };
    match c_strtod(rest) {
        Some((v, _)) if !v.is_nan() => Ok(ScoreBound(v, exclusive)),
        _ => Err(error::text("ERR min or max is not a float")),
    }
}

impl ScoreBound {
    pub(super) fn above_min(self, s: f64) -> bool {
        if self.1 {
            s > self.0
        } else {
            s >= self.0
        }
    }
    pub(super) fn below_max(self, s: f64) -> bool {
        if self.1 {
            s < self.0
        } else {
            s <= self.0
        }
    }
}

/// One end of a lex range: `-`, `+`, `[x` (inclusive) or `(x` (exclusive).
#[derive(Clone)]
pub(super) enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

pub(super) fn lex_bound(a: &[u8]) -> Result<LexBound, CmdError> {
    match a.first() {
        Some(b'-') if a.len() == 1 => Ok(LexBound::Min),
        Some(b'+') if a.len() == 1 => Ok(LexBound::Max),
        Some(b'[') => Ok(LexBound::Incl(a[1..].to_vec())),
        Some(b'(') => Ok(LexBound::Excl(a[1..].to_vec())),
        _ => Err(error::text("ERR min or max not valid string range item")),
    }
}

impl LexBound {
    pub(super) fn above_min(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(x) => m >= &x[..],
            LexBound::Excl(x) => m > &x[..],
        }
    }
    pub(super) fn below_max(&self, m: &[u8]) -> bool {
        match self {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m <= &x[..],
            LexBound::Excl(x) => m < &x[..],
        }
    }
}

/// What a range selects.
pub(super) enum Sel {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// The positions [lo, hi) a range covers in (score, member) order.
pub(super) fn span(z: &ZSet, sel: &Sel) -> (usize, usize) {
    let len = z.len();
    let (lo, hi) = match sel {
        Sel::Rank(start, stop) => {
            let n = len as i64;
            let s = if *start < 0 { n + start } else { *start }.max(0);
            let e = if *stop < 0 { n + stop } else { *stop }.min(n - 1);
            if s > e || s >= n {
                return (0, 0);
            }
            (s as usize, e as usize + 1)
        }
        Sel::Score(min, max) => (
            z.partition_point(|s, _| !min.above_min(s)),
            z.partition_point(|s, _| max.below_max(s)),
        ),
        Sel::Lex(min, max) => (
            z.partition_point(|_, m| !min.above_min(m)),
            z.partition_point(|_, m| max.below_max(m)),
        ),
    };
    (lo, hi.max(lo))
}

/// The positions [lo, hi) a range request selects, in the set's order (reversed for REV:
/// counted from the highest member), after LIMIT (an offset past the end or negative
/// selects nothing; a negative count means all).
fn bounds(z: &ZSet, sel: &Sel, rev: bool, limit: Option<(i64, i64)>) -> (usize, usize) {
    let (mut lo, mut hi) = span(z, sel);
    if rev && matches!(sel, Sel::Rank(..)) && hi > lo {
        // Ranks count from the highest member down.
        (lo, hi) = (z.len() - hi, z.len() - lo);
    }
    if let Some((off, count)) = limit {
        if off < 0 || off as u64 >= (hi - lo) as u64 {
            return (0, 0);
        }
        let off = off as usize;
        let take = if count < 0 {
            hi - lo - off
        } else {
            (count as u64).min((hi - lo - off) as u64) as usize
        };
        if rev {
            hi -= off;
            lo = hi - take;
        } else {
            lo += off;
            hi = lo + take;
        }
    }
    // The count of the reply header must be what `ZSet::range` yields.
    let hi = hi.min(z.len());
    (lo.min(hi), hi)
}

/// The members a range request selects, copied out (for a command that then writes).
pub(super) fn select(
    z: &ZSet,
    sel: &Sel,
    rev: bool,
    limit: Option<(i64, i64)>,
) -> Vec<(f64, Vec<u8>)> {
    let (lo, hi) = bounds(z, sel, rev, limit);
    z.range(lo, hi, rev).map(|(s, m)| (s, m.to_vec())).collect()
}

pub(super) fn reply_range(ctx: &mut Ctx, items: &[(f64, Vec<u8>)], withscores: bool) {
    let it = items.iter().map(|(s, m)| (*s, &m[..]));
    write_range(ctx.out, items.len(), it, withscores)
}

/// Write `n` members (with their scores when `withscores`) as a range reply.
fn write_range<'a>(
    out: &mut crate::resp::ReplyBuf,
    n: usize,
    items: impl Iterator<Item = (f64, &'a [u8])>,
    withscores: bool,
) {
    if withscores && out.resp3() {
        out.array(n);
        for (s, m) in items {
            out.array(2);
            out.bulk(m);
            out.double(s);
        }
    } else {
        out.array(if withscores { n * 2 } else { n });
        for (s, m) in items {
            out.bulk(m);
            if withscores {
                out.double(s);
            }
        }
    }
}

pub(super) fn int(a: &[u8]) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(error::NOT_INTEGER)
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// A parsed range request: `src min max` and the options after them.
struct Request {
    sel: Sel,
    rev: bool,
    withscores: bool,
    limit: Option<(i64, i64)>,
}

/// Parse `min max [options]` at `args[at..]`. `modern`: ZRANGE's own options (BYSCORE,
/// BYLEX, REV) are accepted; `store`: WITHSCORES is not (ZRANGESTORE).
fn parse(
    args: &[Bytes],
    at: usize,
    mut by: By,
    mut rev: bool,
    modern: bool,
    store: bool,
) -> Result<Request, CmdError> {
    let (mut withscores, mut limit) = (false, None);
    // Each of BYSCORE/BYLEX and REV may be given once (a second is a syntax error).
    let mut by_set = false;
    let mut j = at + 2;
    while j < args.len() {
        if !store && is(&args[j], "withscores") {
            withscores = true;
        } else if is(&args[j], "limit") && j + 2 < args.len() {
            limit = Some((int(&args[j + 1])?, int(&args[j + 2])?));
            j += 2;
        } else if modern && !by_set && is(&args[j], "byscore") {
            (by, by_set) = (By::Score, true);
        } else if modern && !by_set && is(&args[j], "bylex") {
            (by, by_set) = (By::Lex, true);
        } else if modern && !rev && is(&args[j], "rev") {
            rev = true;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    // As Redis: a count of -1 ("no limit") is accepted with a rank range.
    if by == By::Rank && limit.is_some_and(|(_, count)| count != -1) {
        return Err(error::text(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(error::text(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // With REV, the score and lex forms take the larger end first.
    let (a, b) = if rev && by != By::Rank {
        (&args[at + 1], &args[at])
    } else {
        (&args[at], &args[at + 1])
    };
    let sel = match by {
        By::Rank => Sel::Rank(int(a)?, int(b)?),
        By::Score => Sel::Score(score_bound(a)?, score_bound(b)?),
        By::Lex => Sel::Lex(lex_bound(a)?, lex_bound(b)?),
    };
    let limit = if by == By::Rank { None } else { limit };
    Ok(Request {
        sel,
        rev,
        withscores,
        limit,
    })
}

fn range_generic(ctx: &mut Ctx, args: &[Bytes], by: By, rev: bool, modern: bool) -> Outcome {
    let r = parse(args, 2, by, rev, modern, false)?;
    // Written straight from the set (no copy of the members): the reply buffer and the
    // locked keys are separate borrows of the context.
    match super::zset::read_in(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)? {
        Some(z) => {
            let (lo, hi) = bounds(z, &r.sel, r.rev, r.limit);
            write_range(ctx.out, hi - lo, z.range(lo, hi, r.rev), r.withscores);
        }
        None => ctx.out.array(0),
    }
    Ok(())
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub(super) fn zrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range_generic(ctx, args, By::Rank, false, true)
}
pub(super) fn zrevrange(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range_generic(ctx, args, By::Rank, true, false)
}
pub(super) fn zrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range_generic(ctx, args, By::Score, false, false)
}
pub(super) fn zrevrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range_generic(ctx, args, By::Score, true, false)
}
pub(super) fn zrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range_generic(ctx, args, By::Lex, false, false)
}
pub(super) fn zrevrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    range_generic(ctx, args, By::Lex, true, false)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`: the range
/// replaces `dst` (an empty range deletes it); logged as itself (it is deterministic).
pub(super) fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let r = parse(args, 3, By::Rank, false, true, true)?;
    let items = match read(ctx, &args[2])? {
        Some(z) => select(z, &r.sel, r.rev, r.limit),
        None => Vec::new(),
    };
    let n = store_zset(ctx, &args[1], items, Ev::zset("zrangestore"));
    ctx.out.int(n as i64);
    Ok(())
}

fn count(ctx: &mut Ctx, args: &[Bytes], sel: Sel) -> Outcome {
    let n = read(ctx, &args[1])?.map_or(0, |z| {
        let (lo, hi) = span(z, &sel);
        hi - lo
    });
    ctx.out.int(n as i64);
    Ok(())
}

/// `ZCOUNT key min max`
pub(super) fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let sel = Sel::Score(score_bound(&args[2])?, score_bound(&args[3])?);
    count(ctx, args, sel)
}

/// `ZLEXCOUNT key min max`
pub(super) fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let sel = Sel::Lex(lex_bound(&args[2])?, lex_bound(&args[3])?);
    count(ctx, args, sel)
}

fn remrange(ctx: &mut Ctx, args: &[Bytes], sel: Sel) -> Outcome {
    let ev = Ev::zset(match sel {
        Sel::Rank(..) => "zremrangebyrank",
        Sel::Score(..) => "zremrangebyscore",
        Sel::Lex(..) => "zremrangebylex",
    });
    let n = write(ctx, &args[1], |z| {
        let (lo, hi) = span(z, &sel);
        z.remove_span(lo, hi)
    })?
    .unwrap_or(0);
    if n > 0 {
        ctx.removed_from(&args[1], ev);
    }
    ctx.out.int(n as i64);
    Ok(())
}

/// `ZREMRANGEBYRANK key start stop`
pub(super) fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let sel = Sel::Rank(int(&args[2])?, int(&args[3])?);
    remrange(ctx, args, sel)
}
/// `ZREMRANGEBYSCORE key min max`
pub(super) fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let sel = Sel::Score(score_bound(&args[2])?, score_bound(&args[3])?);
    remrange(ctx, args, sel)
}
/// `ZREMRANGEBYLEX key min max`
pub(super) fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let sel = Sel::Lex(lex_bound(&args[2])?, lex_bound(&args[3])?);
    remrange(ctx, args, sel)
}
