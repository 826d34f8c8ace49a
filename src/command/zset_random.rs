//! Sorted-set reads that do not follow the order: ZRANDMEMBER and ZSCAN.

use super::error;
use super::hash::{random_count, rng};
use super::keys::{parse_cursor, scan_options};
use super::zset::{read, read_in};
use super::{is, Ctx, Outcome};
use crate::num::fmt_double;
use crate::store::glob::glob_match;
use bytes::Bytes;

/// `ZRANDMEMBER key [count [WITHSCORES]]`: with a positive count, distinct members (at most
/// the whole set); with a negative one, exactly -count picks with repeats.
pub(super) fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 4 || (args.len() == 4 && !is(&args[3], "withscores")) {
        // Redis parses the count before the syntax check.
        if let Some(a) = args.get(2) {
            random_count(a, false)?;
        }
        return Err(error::SYNTAX);
    }
    let withscores = args.len() == 4;
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(random_count(a, withscores)?),
    };
    let mut next = rng(ctx);
    let resp3 = ctx.out.resp3();
    let out = &mut *ctx.out;
    let Some(z) = read_in(&mut *ctx.keys, ctx.client.db, &args[1], ctx.now)? else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let Some(count) = count else {
        match z.random(&mut next) {
            Some((m, _)) => out.bulk(m),
            None => out.null(),
        }
        return Ok(());
    };
    let n = if count < 0 {
        count.unsigned_abs() as usize
    } else {
        (count as usize).min(z.len())
    };
    out.array(if withscores && !resp3 { n * 2 } else { n });
    // Written as they are picked: a reply of -count repeated members can be long.
    let mut emit = |m: &[u8], s: f64| {
        if withscores && resp3 {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    if count < 0 {
        for _ in 0..n {
            if let Some((m, s)) = z.random(&mut next) {
                emit(m, s);
            }
        }
    } else if n == z.len() {
        // Redis walks the whole set from the highest member down.
        z.iter_rev().for_each(|(s, m)| emit(m, s));
    } else {
        // Distinct members: a partial Fisher-Yates shuffle.
        let mut all: Vec<(&[u8], f64)> = z.iter().map(|(s, m)| (m, s)).collect();
        for i in 0..n {
            let j = i + (next() % (all.len() - i) as u64) as usize;
            all.swap(i, j);
            emit(all[i].0, all[i].1);
        }
    }
    Ok(())
}

/// A score as Redis's listpack holds it (`d2string`, then stored as an integer when it reads
/// as one, so -0 becomes 0): integers within ±2^62 in full, the rest as `%.17g`. ZSCAN of a
/// listpack replies these stored strings.
fn listpack_score(s: f64) -> String {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if s.is_finite() && (-LIMIT..=LIMIT).contains(&s) && s.fract() == 0.0 {
        format!("{}", s as i64)
    } else {
        fmt_double(s)
    }
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`: member and score pairs, scores as bulk
/// strings in both protocols.
pub(super) fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // As in Redis: the cursor is checked first, then the key, then the options.
    let cursor = parse_cursor(&args[2]).ok_or(error::text("ERR invalid cursor"))?;
    let Some(z) = read(ctx, &args[1])? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let opts = scan_options(args, 3, false)?;
    let (count, pattern) = (opts.count as i64, opts.pattern);
    let listpack = z.encoding() == "listpack";
    let mut found: Vec<(Vec<u8>, String)> = Vec::new();
    let mut cur = cursor;
    // Bound the buckets visited per call, as Redis does.
    let mut budget = count.saturating_mul(10);
    loop {
        cur = z.scan_step(cur, |m, s| {
            if pattern.is_none_or(|p| glob_match(p, m, false)) {
                let s = if listpack {
                    listpack_score(s)
                } else {
                    fmt_double(s)
                };
                found.push((m.to_vec(), s));
            }
        });
        budget -= 1;
        if cur == 0 || found.len() >= count as usize || budget <= 0 {
            break;
        }
    }
    ctx.out.array(2);
    ctx.out.bulk(cur.to_string().as_bytes());
    ctx.out.array(found.len() * 2);
    for (m, s) in &found {
        ctx.out.bulk(m);
        ctx.out.bulk(s.as_bytes());
    }
    Ok(())
}
