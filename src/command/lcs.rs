//! LCS: the longest common subsequence of two strings, as Redis 7.0 computes it (the
//! dynamic-programming table, then one walk back from its corner), so the string, its length
//! and the matched ranges are exactly Redis's, including which of several equally long
//! subsequences is chosen.

use super::error;
use super::string::get_string;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::CmdError;
use crate::num::parse_i64;
use crate::store::{Entry, Value};
use bytes::Bytes;
use std::sync::atomic::Ordering;

const NOT_STRINGS: CmdError = error::text("ERR The specified keys must contain string values");

/// One matched range: `[a_start, a_end]` in the first string, `[b_start, b_end]` in the
/// second, and its length.
struct Match {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

/// What the walk back produces: the subsequence and the ranges kept by `min_len`.
struct Walk {
    lcs: Vec<u8>,
    matches: Vec<Match>,
}

/// The table of LCS lengths of every pair of prefixes, `(a.len()+1) × (b.len()+1)`, row by
/// row (Redis's layout). None when it cannot be allocated.
fn table(a: &[u8], b: &[u8]) -> Option<Vec<u32>> {
    let w = b.len() + 1;
    let cells = (a.len() + 1).checked_mul(w)?;
    let mut t: Vec<u32> = Vec::new();
    t.try_reserve_exact(cells).ok()?;
    t.resize(cells, 0);
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    Some(t)
}

/// Walk back from the table's corner: a match takes the character and steps diagonally; a
/// mismatch steps towards the larger neighbour (`j` on a tie). Contiguous matches form a
/// range, emitted once it ends (or reaches the start of either string).
fn walk(a: &[u8], b: &[u8], t: &[u32], min_len: u64) -> Walk {
    let w = b.len() + 1;
    let alen = a.len() as u32;
    let mut idx = t[a.len() * w + b.len()] as usize;
    let mut lcs = vec![0u8; idx];
    let mut matches = Vec::new();
    // `a_start == alen` means no range is open.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0u32, 0u32, 0u32);
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            lcs[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end) = (i as u32 - 1, i as u32 - 1);
                (b_start, b_end) = (j as u32 - 1, j as u32 - 1);
            } else if a_start == i as u32 && b_start == j as u32 {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let len = a_end.wrapping_sub(a_start).wrapping_add(1);
            if min_len == 0 || u64::from(len) >= min_len {
                matches.push(Match {
                    a: (a_start, a_end),
                    b: (b_start, b_end),
                    len,
                });
            }
            a_start = alen;
        }
    }
    Walk { lcs, matches }
}

/// A copy of the string at `key` (empty when missing), without counting a keyspace hit.
fn string_at(ctx: &mut Ctx, key: &[u8]) -> Vec<u8> {
    let now = ctx.now;
    match ctx.shard(key).get(key, now) {
        Some(Entry {
            value: Value::Str { data, .. },
            ..
        }) => data.clone(),
        _ => Vec::new(),
    }
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`
fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // Both keys are looked up before either type is judged, as Redis does.
    let now = ctx.now;
    let alen = get_string(ctx.shard(&args[1]), &args[1], now).map(|v| v.map_or(0, Vec::len));
    let blen = get_string(ctx.shard(&args[2]), &args[2], now).map(|v| v.map_or(0, Vec::len));
    let (Ok(alen), Ok(blen)) = (alen, blen) else {
        return Err(NOT_STRINGS);
    };

    let (mut getlen, mut getidx, mut withmatchlen, mut min_len) = (false, false, false, 0u64);
    let mut j = 3;
    while j < args.len() {
        let o = &args[j];
        if is(o, "idx") {
            getidx = true;
        } else if is(o, "len") {
            getlen = true;
        } else if is(o, "withmatchlen") {
            withmatchlen = true;
        } else if is(o, "minmatchlen") && j + 1 < args.len() {
            min_len = parse_i64(&args[j + 1]).ok_or(error::NOT_INTEGER)?.max(0) as u64;
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(error::text(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    // Lengths are kept in 32 bits, as in Redis.
    if alen as u64 >= u64::from(u32::MAX - 1) || blen as u64 >= u64::from(u32::MAX - 1) {
        return Err(error::text("ERR String too long for LCS"));
    }
    // The table is transient memory Redis bounds by proto-max-bulk-len (512 MB by default,
    // i.e. about 11585 × 11585 bytes of input).
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    let max = ctx.engine.hot.proto_max_bulk_len.load(Ordering::Relaxed);
    if cells.saturating_mul(4) > max {
        return Err(error::text(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    // Only now, with the table known to be affordable, copy the first string (the second is
    // read in place; both may live in one shard). These lookups count no second hit.
    let a = string_at(ctx, &args[1]);
    let shard = ctx.shard(&args[2]);
    let b: &[u8] = match shard.get(&args[2], now) {
        Some(Entry {
            value: Value::Str { data, .. },
            ..
        }) => data,
        _ => &[],
    };
    let t = table(&a, b).ok_or(error::text(
        "ERR Insufficient memory, failed allocating transient memory for LCS",
    ))?;
    let len = t[t.len() - 1];
    if getlen {
        ctx.out.int(i64::from(len));
        return Ok(());
    }
    let walked = walk(&a, b, &t, min_len);
    if !getidx {
        ctx.out.bulk(&walked.lcs);
        return Ok(());
    }
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(walked.matches.len());
    for m in &walked.matches {
        ctx.out.array(2 + withmatchlen as usize);
        ctx.out.array(2);
        ctx.out.int(i64::from(m.a.0));
        ctx.out.int(i64::from(m.a.1));
        ctx.out.array(2);
        ctx.out.int(i64::from(m.b.0));
        ctx.out.int(i64::from(m.b.1));
        if withmatchlen {
            ctx.out.int(i64::from(m.len));
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(i64::from(len));
    Ok(())
}

pub static COMMANDS: &[Cmd] = &[Cmd::new("lcs", -3, READONLY, "string", lcs)
    .keys(1, 2, 1)
    .doc("Find longest common substring", "7.0.0")];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lcs_of(a: &[u8], b: &[u8]) -> Vec<u8> {
        walk(a, b, &table(a, b).unwrap(), 0).lcs
    }

    /// Whether `s` is a subsequence of `of`.
    fn is_subsequence(s: &[u8], of: &[u8]) -> bool {
        let mut it = of.iter();
        s.iter().all(|c| it.any(|x| x == c))
    }

    /// The LCS length by brute force over the subsets of `a` (small inputs only).
    fn naive_len(a: &[u8], b: &[u8]) -> usize {
        (0u32..1 << a.len())
            .filter_map(|mask| {
                let s: Vec<u8> = (0..a.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| a[i])
                    .collect();
                is_subsequence(&s, b).then_some(s.len())
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn redis_doc_example() {
        assert_eq!(lcs_of(b"ohmytext", b"mynewtext"), b"mytext");
        let (a, b) = (b"ohmytext", b"mynewtext");
        let w = walk(a, b, &table(a, b).unwrap(), 0);
        let ranges: Vec<_> = w.matches.iter().map(|m| (m.a, m.b, m.len)).collect();
        assert_eq!(ranges, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
    }

    proptest! {
        #[test]
        fn finds_a_longest_common_subsequence(a in proptest::collection::vec(0u8..3, 0..10),
                                              b in proptest::collection::vec(0u8..3, 0..10)) {
            let s = lcs_of(&a, &b);
            prop_assert!(is_subsequence(&s, &a) && is_subsequence(&s, &b));
            prop_assert_eq!(s.len(), naive_len(&a, &b));
        }
    }
}
