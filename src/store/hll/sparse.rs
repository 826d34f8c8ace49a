//! The sparse encoding: the registers as runs, in three opcodes.
//!
//! ```text
//! 00xxxxxx           ZERO:  1 to 64 registers at 0 (length xxxxxx + 1)
//! 01xxxxxx yyyyyyyy  XZERO: 1 to 16384 registers at 0 (length xxxxxxyyyyyyyy + 1)
//! 1vvvvvxx           VAL:   1 to 4 registers at 1 to 32 (value vvvvv + 1, length xx + 1)
//! ```
//!
//! A valid body covers exactly 2^14 registers. Updates follow Redis's `hllSparseSet` step by
//! step (split the opcode holding the register, then merge equal neighbouring VALs), so the
//! bytes are Redis's own after any sequence of adds.
//!
//! Redis reads the second byte of an XZERO cut off at the end of the value as the string's
//! terminating zero; [`at`] does the same, so a corrupt value decodes as it does there. One
//! difference remains: when Redis splits such a cut-off XZERO, the last byte of the new
//! opcodes lands on the terminator and is read back by the next update, where we read 0.
//! Only a hand-made value ending in half an XZERO can tell.

use super::{dense, invalidate, to_dense, Corrupt, HDR_SIZE, REGISTERS};

/// The largest value a VAL opcode holds: a higher register needs the dense encoding.
const VAL_MAX_VALUE: u8 = 32;
/// The longest run a VAL opcode holds.
const VAL_MAX_LEN: usize = 4;
/// The longest run a ZERO opcode holds (longer ones are XZERO).
const ZERO_MAX_LEN: usize = 64;
/// The longest run an XZERO opcode holds.
const XZERO_MAX_LEN: usize = 16384;
/// How many opcodes after the changed one's predecessor are looked at for merges.
const MERGE_SCAN: usize = 5;

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}
fn xzero_len(b: u8, b2: u8) -> usize {
    (((b & 0x3f) as usize) << 8 | b2 as usize) + 1
}
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
fn val_len(b: u8) -> usize {
    (b & 3) as usize + 1
}
/// A VAL opcode; `value` is 1..=32 and `len` 1..=4.
fn val_op(value: u8, len: usize) -> u8 {
    0x80 | (value - 1) << 2 | (len - 1) as u8
}

/// The byte at `i`, or the terminating zero Redis's strings have past their end.
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

/// Push the opcode(s) for a run of `n` zero registers, XZERO runs as long as possible.
pub(super) fn push_zeros(v: &mut Vec<u8>, mut n: usize) {
    while n > 0 {
        let run = n.min(XZERO_MAX_LEN);
        v.extend_from_slice(&xzero_op(run));
        n -= run;
    }
}

fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [(l >> 8) as u8 | 0x40, (l & 0xff) as u8]
}

/// One zero run (ZERO or XZERO, by its length) into `seq`; returns the bytes written.
fn zero_run(seq: &mut [u8], len: usize) -> usize {
    if len > ZERO_MAX_LEN {
        seq[..2].copy_from_slice(&xzero_op(len));
        2
    } else {
        seq[0] = (len - 1) as u8;
        1
    }
}

/// One opcode: its register value (0 for ZERO/XZERO), run length and size in bytes.
fn op(s: &[u8], p: usize) -> (u8, usize, usize) {
    let b = s[p];
    if is_zero(b) {
        (0, zero_len(b), 1)
    } else if is_xzero(b) {
        (0, xzero_len(b, at(s, p + 1)), 2)
    } else {
        (val_value(b), val_len(b), 1)
    }
}

/// Call `f(first, value, len)` for every VAL run of `body`, in order, and check that the
/// runs cover exactly every register. A run reaching past the last register makes the value
/// corrupt on the spot: `f` only sees runs inside `0..REGISTERS`. (Redis 7.0.15 as released
/// checked only VAL runs and stopped without an error; the fix for CVE-2025-32023, which the
/// Redis builds we compare with carry, checks every run, as here.)
pub(super) fn for_each_run(
    body: &[u8],
    mut f: impl FnMut(usize, u8, usize),
) -> Result<(), Corrupt> {
    let (mut p, mut idx) = (0, 0);
    while p < body.len() {
        let (value, len, size) = op(body, p);
        if idx + len > REGISTERS {
            return Err(Corrupt);
        }
        if value != 0 {
            f(idx, value, len);
        }
        idx += len;
        p += size;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Count the registers of `body` by value into `histo`.
pub(super) fn histogram(body: &[u8], histo: &mut [u64; 64]) -> Result<(), Corrupt> {
    let (mut p, mut idx) = (0, 0usize);
    while p < body.len() {
        let (value, len, size) = op(body, p);
        histo[value as usize] += len as u64;
        idx += len;
        p += size;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// `PFDEBUG DECODE`: the opcodes as text (`z:len`, `Z:len`, `v:value,len`).
pub fn decode(hll: &[u8]) -> String {
    let body = &hll[HDR_SIZE..];
    let mut out = Vec::new();
    let mut p = 0;
    while p < body.len() {
        let (value, len, size) = op(body, p);
        out.push(match (value, size) {
            (0, 1) => format!("z:{len}"),
            (0, _) => format!("Z:{len}"),
            _ => format!("v:{value},{len}"),
        });
        p += size;
    }
    out.join(" ")
}

/// Raise register `index` of the sparse HLL `s` to `count` (Redis's `hllSparseSet`): true
/// when it changed (the cache is then marked stale). Promotes to dense when `count` does not
/// fit a VAL opcode or the value would grow past `sparse_max` bytes.
pub(super) fn set(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: find the opcode covering `index`, and the one before it.
    let end = s.len();
    let (mut p, mut first, mut span) = (HDR_SIZE, 0usize, 0usize);
    let mut prev = None;
    while p < end {
        let (_, len, size) = op(s, p);
        span = len;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += size;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = s[p];
    let (value, runlen, oldlen) = op(s, p);
    let next = (p + oldlen < end).then_some(p + oldlen);

    // Step 2: the cases that change the opcode in place.
    if is_val(b) {
        if value >= count {
            return Ok(false);
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            return Ok(merge_vals(s, prev));
        }
    }
    if is_zero(b) && runlen == 1 {
        s[p] = val_op(count, 1);
        return Ok(merge_vals(s, prev));
    }

    // Otherwise the opcode is split in up to three (at most 5 bytes: XZERO VAL XZERO).
    let mut seq = [0u8; 5];
    let mut n = 0;
    let last = first + span - 1;
    if value == 0 {
        if index != first {
            n += zero_run(&mut seq[n..], index - first);
        }
        seq[n] = val_op(count, 1);
        n += 1;
        if index != last {
            n += zero_run(&mut seq[n..], last - index);
        }
    } else {
        if index != first {
            seq[n] = val_op(value, index - first);
            n += 1;
        }
        seq[n] = val_op(count, 1);
        n += 1;
        if index != last {
            seq[n] = val_op(value, last - index);
            n += 1;
        }
    }

    // Step 3: put the new sequence in place of the old opcode, unless the value would then
    // outgrow the sparse limit.
    let delta = n as isize - oldlen as isize;
    if delta > 0 && end + delta as usize > sparse_max {
        return promote(s, index, count);
    }
    let new_len = end.wrapping_add_signed(delta);
    if delta > 0 {
        s.resize(new_len, 0);
    }
    if let Some(nx) = next {
        s.copy_within(nx..end, nx.wrapping_add_signed(delta));
    }
    s.truncate(new_len);
    // Bytes that would land past the new end (only for an XZERO cut off at the end of a
    // corrupt value) fall outside the string, as they do in Redis.
    let fit = n.min(new_len - p);
    s[p..p + fit].copy_from_slice(&seq[..fit]);
    Ok(merge_vals(s, prev))
}

/// Step 4 of a sparse update: merge neighbouring VAL opcodes of equal value whose runs fit one
/// opcode, scanning a few opcodes from the changed one's predecessor; then mark the cache
/// stale. Always true (the register changed).
fn merge_vals(s: &mut Vec<u8>, prev: Option<usize>) -> bool {
    let mut p = prev.unwrap_or(HDR_SIZE);
    let mut scan = MERGE_SCAN;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let b = s[p];
        if is_xzero(b) {
            p += 2;
            continue;
        }
        if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < s.len() && is_val(s[p + 1]) {
            let b2 = s[p + 1];
            let len = val_len(b) + val_len(b2);
            if val_value(b) == val_value(b2) && len <= VAL_MAX_LEN {
                s[p + 1] = val_op(val_value(b), len);
                s.remove(p);
                // Stay on the merged opcode: it may merge with the next one too.
                continue;
            }
        }
        p += 1;
    }
    invalidate(s);
    true
}

/// Convert to dense, then set the register there (it always grows: a register needs an
/// update whenever the sparse path promotes).
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(s)?;
    Ok(dense::raise(&mut s[HDR_SIZE..], index, count))
}
