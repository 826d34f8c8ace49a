//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits at any bit offset of a string
//! (their rows are in [`super::bitmap`]'s table). Every operation is parsed and checked
//! before anything is read or written, so a bad one fails the whole command unchanged.

use super::bitmap::{bit_offset, write_bits};
use super::error;
use super::string::get_string;
use super::{is, Ctx, Outcome};
use crate::engine::notify::Ev;
use crate::engine::CmdError;
use crate::num::parse_i64;
use crate::store::bits::{self, Overflow};
use bytes::Bytes;

const BAD_TYPE: CmdError = error::text(
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
);
const BAD_OVERFLOW: CmdError = error::text("ERR Invalid OVERFLOW type specified");
const RO_WRITE: CmdError = error::text("ERR BITFIELD_RO only supports the GET subcommand");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

/// One GET, SET or INCRBY, with the OVERFLOW mode in force where it appeared.
struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// The value to SET or the increment (0 for GET).
    arg: i64,
    overflow: Overflow,
}

/// A field type, `i1`..`i64` or `u1`..`u63` (a u64 could not be replied as a RESP integer).
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let (signed, width) = match arg.split_first() {
        Some((b'i', w)) => (true, w),
        Some((b'u', w)) => (false, w),
        _ => return Err(BAD_TYPE),
    };
    match parse_i64(width) {
        Some(n @ 1..=64) if signed || n <= 63 => Ok((signed, n as u32)),
        _ => Err(BAD_TYPE),
    }
}

/// The operations, in order, and the highest bit a SET or INCRBY writes (None: only GETs).
/// Errors come in Redis's order: each subcommand's name and argument count, its type, its
/// offset, then its value.
fn parse_ops(ctx: &Ctx, args: &[Bytes]) -> Result<(Vec<Op>, Option<u64>), CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < args.len() {
        let (sub, left) = (&args[j][..], args.len() - j - 1);
        let kind = if is(sub, "get") && left >= 2 {
            Kind::Get
        } else if is(sub, "set") && left >= 3 {
            Kind::Set
        } else if is(sub, "incrby") && left >= 3 {
            Kind::IncrBy
        } else if is(sub, "overflow") && left >= 1 {
            let mode = &args[j + 1];
            overflow = if is(mode, "wrap") {
                Overflow::Wrap
            } else if is(mode, "sat") {
                Overflow::Sat
            } else if is(mode, "fail") {
                Overflow::Fail
            } else {
                return Err(BAD_OVERFLOW);
            };
            j += 2;
            continue;
        } else {
            return Err(error::SYNTAX);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], bits)?;
        let mut arg = 0;
        if kind != Kind::Get {
            let last = offset + bits as u64 - 1;
            highest = Some(highest.map_or(last, |h| h.max(last)));
            arg = parse_i64(&args[j + 3]).ok_or(error::NOT_INTEGER)?;
        }
        ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            arg,
            overflow,
        });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok((ops, highest))
}

/// A field's value as the reply gives it (sign-extended for `i` types).
fn read(data: &[u8], op: &Op) -> i64 {
    let v = bits::get_field(data, op.offset, op.bits);
    if op.signed {
        bits::sign_extend(v, op.bits)
    } else {
        v as i64
    }
}

/// Run a SET or INCRBY on `data` (which covers the field): its reply (null when it overflowed
/// under FAIL, and then nothing is written) and whether the field changed.
fn write(data: &mut [u8], op: &Op) -> (Option<i64>, bool) {
    let old = read(data, op);
    let new = match (op.signed, op.kind) {
        (true, Kind::IncrBy) => bits::add_signed(old, op.arg, op.bits, op.overflow),
        (true, _) => bits::add_signed(op.arg, 0, op.bits, op.overflow),
        (false, Kind::IncrBy) => {
            bits::add_unsigned(old as u64, op.arg, op.bits, op.overflow).map(|v| v as i64)
        }
        (false, _) => bits::add_unsigned(op.arg as u64, 0, op.bits, op.overflow).map(|v| v as i64),
    };
    let Some(new) = new else {
        return (None, false);
    };
    bits::set_field(data, op.offset, op.bits, new as u64);
    let reply = if op.kind == Kind::IncrBy { new } else { old };
    (Some(reply), new != old)
}

/// `BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value |
/// INCRBY type offset increment] ...`: one reply per GET, SET (the old value) and INCRBY (the
/// new value). Writes grow the string to the highest field written; a command that changed
/// some field counts one change per field, raises `setbit` once and is propagated as it is.
pub(super) fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bitfield_generic(ctx, args, false)
}

/// `BITFIELD_RO key [GET type offset ...]`
pub(super) fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx, args: &[Bytes], read_only: bool) -> Outcome {
    let key = &args[1];
    let (ops, highest) = parse_ops(ctx, args)?;
    let Some(highest) = highest else {
        // Only GETs: a read, on the string as it is (zeros past its end, or no key).
        let now = ctx.now;
        let shard = ctx.keys.shard(ctx.client.db, key);
        let data = get_string(shard, key, now)?.map_or(&[][..], |d| &d[..]);
        ctx.out.array(ops.len());
        for op in &ops {
            ctx.out.int(read(data, op));
        }
        return Ok(());
    };
    if read_only {
        return Err(RO_WRITE);
    }
    let (replies, changes, grew) = write_bits(ctx, key, highest >> 3, |data, grew| {
        let mut changes = 0u64;
        let replies: Vec<Option<i64>> = (ops.iter())
            .map(|op| match op.kind {
                Kind::Get => Some(read(data, op)),
                _ => {
                    let (reply, changed) = write(data, op);
                    // A key just created or grown counts every write that went through.
                    changes += (reply.is_some() && (changed || grew)) as u64;
                    reply
                }
            })
            .collect();
        (replies, changes, grew)
    })?;
    if changes > 0 {
        ctx.changed(key, Ev::string("setbit"));
        ctx.fx.dirty += changes - 1;
    } else if grew {
        // Every write failed (OVERFLOW FAIL) but the key was created or grown anyway, as in
        // Redis. Redis neither counts nor propagates that, which leaves its AOF without the
        // key; we propagate the command (which replays to the same bytes), with no event.
        ctx.fx.dirty += 1;
    }
    ctx.out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => ctx.out.int(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}
