//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP here, BITFIELD and BITFIELD_RO in
//! [`super::bitfield`]. They work on strings of any encoding (an `int` string is its decimal
//! bytes); a write leaves the string `raw`, as Redis's `dbUnshareStringValue` does. The bit
//! algorithms themselves are in `store::bits`.

use super::error;
use super::string::get_string;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::notify::{self, Ev};
use crate::engine::table::KeySpec;
use crate::engine::CmdError;
use crate::num::parse_i64;
use crate::store::bits::{self, BitOp};
use crate::store::{StrEnc, Value};
use bytes::Bytes;
use std::sync::atomic::Ordering;

pub(super) const BIT_OFFSET: CmdError =
    error::text("ERR bit offset is not an integer or out of range");
const BIT_VALUE: CmdError = error::text("ERR bit is not an integer or out of range");
const BIT_ARG: CmdError = error::text("ERR The bit argument must be 1 or 0.");
const NOT_ONE_KEY: CmdError = error::text("ERR BITOP NOT must be called with a single source key.");

/// Strings grown by a bit write below this size get twice the room they need; larger ones get
/// this much more (Redis's `SDS_MAX_PREALLOC`), so a bitmap built bit by bit does not
/// reallocate on every new byte, nor reserve double a huge string.
const MAX_PREALLOC: usize = 1024 * 1024;

// ---- helpers ---------------------------------------------------------------------------

/// A bit offset argument (Redis's `getBitOffsetFromArgument`). With `hash_bits` > 0 (BITFIELD)
/// `#n` means field n of that width: `n * hash_bits`, multiplied as Redis's C does (wrapping).
/// The limit: the offset's byte must lie below `proto-max-bulk-len` (512 MB, so offsets below
/// 2^32, by default); an AOF being loaded is obeyed whatever the limit, as Redis obeys its
/// master and its AOF.
pub(super) fn bit_offset(ctx: &Ctx, arg: &[u8], hash_bits: u32) -> Result<u64, CmdError> {
    let (hash, digits) = match arg.split_first() {
        Some((b'#', rest)) if hash_bits > 0 => (true, rest),
        _ => (false, arg),
    };
    let mut v = parse_i64(digits).ok_or(BIT_OFFSET)?;
    if hash {
        v = v.wrapping_mul(hash_bits as i64);
    }
    let max = ctx.engine.hot.proto_max_bulk_len.load(Ordering::Relaxed);
    if v < 0 || (!ctx.loading && (v as u64 >> 3) >= max) {
        return Err(BIT_OFFSET);
    }
    Ok(v as u64)
}

/// Zero-extend `data` to `len` bytes, reserving as Redis's `sdsgrowzero` does; true when it
/// grew.
fn grow_zeroed(data: &mut Vec<u8>, len: usize) -> bool {
    if data.len() >= len {
        return false;
    }
    if data.capacity() < len {
        let room = if len < MAX_PREALLOC {
            len * 2
        } else {
            len + MAX_PREALLOC
        };
        data.reserve_exact(room - data.len());
    }
    data.resize(len, 0);
    true
}

/// The string at `key` for a bit write (Redis's `lookupStringForBitCommand`): created, or
/// zero-extended, so that byte `byte` exists, and made `raw`. `f` gets its bytes and whether
/// the key was created or grew (a change by itself). WRONGTYPE for another type. The entry's
/// memory is measured again afterwards.
pub(super) fn write_bits<R>(
    ctx: &mut Ctx,
    key: &[u8],
    byte: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, CmdError> {
    let now = ctx.now;
    // The offset checks keep `byte` below `proto-max-bulk-len` (or what an AOF holds).
    let len = usize::try_from(byte)
        .ok()
        .and_then(|b| b.checked_add(1))
        .ok_or(error::STRING_TOO_LONG)?;
    let shard = ctx.keys.shard(ctx.client.db, key);
    if let Some(h) = shard.string_mut(key, now) {
        let Value::Str { data, enc } = &mut h.e.value else {
            return Err(error::WRONGTYPE);
        };
        *enc = StrEnc::Raw;
        let grew = grow_zeroed(data, len);
        return Ok(f(data, grew));
    }
    let mut data = vec![0; len];
    let r = f(&mut data, true);
    let value = Value::Str {
        data,
        enc: StrEnc::Raw,
    };
    shard.set(key, value, 0, now);
    Ok(r)
}

/// `BIT` or `BYTE`: whether a range counts bits.
fn range_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(error::SYNTAX)
    }
}

/// A start/end pair over a string of `len` bytes, counted in bits or bytes (negative from the
/// end, clamped to the string), as the inclusive bit range it covers; None when empty.
fn resolve(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { len as i64 * 8 } else { len as i64 };
    let from_end = |i: i64| if i < 0 { total + i } else { i };
    let start = from_end(start).max(0);
    let end = from_end(end).max(0).min(total - 1);
    if start > end {
        None
    } else if in_bits {
        Some((start as u64, end as u64))
    } else {
        Some((start as u64 * 8, end as u64 * 8 + 7))
    }
}

// ---- handlers --------------------------------------------------------------------------

/// `SETBIT key offset value`: replies with the bit's previous value. A change, growth or new
/// key counts as a write (event `setbit`, propagated as is); setting a bit to what it was
/// changes nothing.
fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let key = &args[1];
    let offset = bit_offset(ctx, &args[2], 0)?;
    let on = match parse_i64(&args[3]).ok_or(BIT_VALUE)? {
        0 => false,
        1 => true,
        _ => return Err(BIT_VALUE),
    };
    let (old, changed) = write_bits(ctx, key, offset >> 3, |data, grew| {
        let old = bits::set_bit(data, offset, on);
        (old, grew || old != on)
    })?;
    if changed {
        ctx.changed(key, Ev::string("setbit"));
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// `GETBIT key offset`
fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let offset = bit_offset(ctx, &args[2], 0)?;
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    let bit = get_string(shard, &args[1], now)?.is_some_and(|d| bits::get_bit(d, offset));
    ctx.out.int(bit as i64);
    Ok(())
}

/// `BITCOUNT key [start end [BYTE|BIT]]`: as in Redis, a missing key answers 0 (and a
/// wrong type fails) before the range is looked at.
fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    let Some(data) = get_string(shard, &args[1], now)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let range = match args.len() {
        2 => resolve(data.len(), 0, -1, false),
        4 | 5 => {
            let start = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
            let end = parse_i64(&args[3]).ok_or(error::NOT_INTEGER)?;
            // Both from the end and crossed: empty, whatever the unit says.
            if start < 0 && end < 0 && start > end {
                ctx.out.int(0);
                return Ok(());
            }
            let in_bits = match args.get(4) {
                Some(u) => range_unit(u)?,
                None => false,
            };
            resolve(data.len(), start, end, in_bits)
        }
        _ => return Err(error::SYNTAX),
    };
    let n = range.map_or(0, |(first, last)| bits::count_range(data, first, last));
    ctx.out.int(n as i64);
    Ok(())
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]`: the first bit set (or clear) in the range, or
/// -1. Looking for a clear bit without an explicit end treats the string as followed by
/// zeros, so it answers the bit just past the end when the range is all ones; with an end
/// given, -1.
fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let bit = match parse_i64(&args[2]).ok_or(error::NOT_INTEGER)? {
        0 => false,
        1 => true,
        _ => return Err(BIT_ARG),
    };
    let now = ctx.now;
    let shard = ctx.keys.shard(ctx.client.db, &args[1]);
    let Some(data) = get_string(shard, &args[1], now)? else {
        // A missing key is an endless run of zeros.
        ctx.out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let (range, end_given) = match args.len() {
        3 => (resolve(data.len(), 0, -1, false), false),
        4..=6 => {
            // Redis reads the start, then the unit, then the end.
            let start = parse_i64(&args[3]).ok_or(error::NOT_INTEGER)?;
            let in_bits = match args.get(5) {
                Some(u) => range_unit(u)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(e) => Some(parse_i64(e).ok_or(error::NOT_INTEGER)?),
                None => None,
            };
            let range = resolve(data.len(), start, end.unwrap_or(-1), in_bits);
            (range, end.is_some())
        }
        _ => return Err(error::SYNTAX),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match bits::find_bit(data, bit, first, last) {
            Some(p) => p as i64,
            None if !bit && !end_given => data.len() as i64 * 8,
            None => -1,
        },
    };
    ctx.out.int(pos);
    Ok(())
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`: stores the result (as long as the longest
/// source; missing sources are empty) in `destkey`, replacing it and its TTL (event `set`),
/// or deletes `destkey` when every source is empty (event `del`). Replies with the length.
fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let op = &args[1];
    let op = if is(op, "and") {
        BitOp::And
    } else if is(op, "or") {
        BitOp::Or
    } else if is(op, "xor") {
        BitOp::Xor
    } else if is(op, "not") {
        BitOp::Not
    } else {
        return Err(error::SYNTAX);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(NOT_ONE_KEY);
    }
    let (dest, sources) = (&args[2], &args[3..]);
    let (now, db) = (ctx.now, ctx.client.db);
    // First pass: types and lengths (one read lookup per source, as Redis counts them).
    let mut len = 0;
    for k in sources {
        let found = get_string(ctx.keys.shard(db, k), k, now)?;
        len = len.max(found.map_or(0, |d| d.len()));
    }
    let shard = ctx.keys.shard(db, dest);
    if len == 0 {
        if shard.remove(dest, now).is_some() {
            ctx.changed(dest, notify::DEL);
        }
        ctx.out.int(0);
        return Ok(());
    }
    // Second pass: fold each source into the result, a word at a time. One shard is
    // borrowed at a time, and the destination is written only once every source was read.
    let mut acc = Vec::new();
    for (i, k) in sources.iter().enumerate() {
        let data = match ctx.keys.shard(db, k).get(k, now) {
            Some(crate::store::Entry {
                value: Value::Str { data, .. },
                ..
            }) => &data[..],
            _ => &[],
        };
        if i == 0 {
            acc = bits::seed(op, data, len);
        } else {
            bits::fold(op, &mut acc, data);
        }
    }
    let value = Value::Str {
        data: acc,
        enc: StrEnc::Raw,
    };
    ctx.keys.shard(db, dest).set(dest, value, 0, now);
    ctx.changed(dest, Ev::string("set"));
    ctx.out.int(len as i64);
    Ok(())
}

/// BITOP's keys: the destination, then every source.
const BITOP_KEYS: &[KeySpec] = &[KeySpec::range(2, 2, 1), KeySpec::range(3, -1, 1)];

const W: u32 = WRITE | DENYOOM;

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("setbit", 4, W, "bitmap", setbit).keys(1, 1, 1).doc("Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "2.2.0"),
    Cmd::new("getbit", 3, READONLY | FAST, "bitmap", getbit).keys(1, 1, 1).doc("Returns a bit value by offset.", "2.2.0"),
    Cmd::new("bitcount", -2, READONLY, "bitmap", bitcount).keys(1, 1, 1).doc("Counts the number of set bits (population counting) in a string.", "2.6.0"),
    Cmd::new("bitpos", -3, READONLY, "bitmap", bitpos).keys(1, 1, 1).doc("Finds the first set (1) or clear (0) bit in a string.", "2.8.7"),
    Cmd::new("bitop", -4, W, "bitmap", bitop).key_specs(BITOP_KEYS).doc("Performs bitwise operations on multiple strings, and stores the result.", "2.6.0"),
    Cmd::new("bitfield", -2, W, "bitmap", super::bitfield::bitfield).keys(1, 1, 1).doc("Performs arbitrary bitfield integer operations on strings.", "3.2.0"),
    Cmd::new("bitfield_ro", -2, READONLY | FAST, "bitmap", super::bitfield::bitfield_ro).keys(1, 1, 1).doc("Performs arbitrary read-only bitfield integer operations on strings.", "6.0.0"),
];
