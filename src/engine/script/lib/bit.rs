//! `bit`: LuaBitOp 1.0 (Redis's `deps/lua/src/lua_bit.c`), bitwise operations on 32 bits.
//!
//! Every argument becomes a 32-bit integer the way LuaBitOp does it on doubles: add
//! 2^52 + 2^51 and keep the low 32 bits of the result's representation (so 2^32 + 1 is 1,
//! -1 is 0xffffffff and 1.5 rounds to 2, half to even). Numeric strings count as numbers.
//! Results are signed 32-bit values returned as Lua numbers. Shift counts use their low 5
//! bits. A non-number argument fails with `bad argument #n to 'f' (number expected, got …)`;
//! `band`/`bor`/`bxor` read their arguments from the last one down, so with several bad
//! ones the last is reported, as in LuaBitOp.

use super::{lib_fn, to_number, type_err, LibResult};
use mlua::{Lua, MultiValue, Table, Value};

/// An argument as LuaBitOp's `barg` converts it.
fn barg(args: &[Value], i: usize) -> LibResult<u32> {
    match args.get(i - 1).and_then(to_number) {
        Some(n) => Ok(tobit(n)),
        None => Err(type_err(args, i, "number")),
    }
}

/// The low 32 bits of `n + 2^52 + 2^51` (rounds to an integer, wraps modulo 2^32).
fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

fn ret(b: u32) -> LibResult<MultiValue> {
    Ok(MultiValue::from_vec(vec![Value::Number(b as i32 as f64)]))
}

/// `band`/`bor`/`bxor`: the first argument combined with the others, read last to first.
fn fold(args: &[Value], op: fn(u32, u32) -> u32) -> LibResult<MultiValue> {
    let mut b = barg(args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, barg(args, i)?);
    }
    ret(b)
}

/// `lshift`/`rshift`/`arshift`/`rol`/`ror`: the value and a count taken modulo 32.
fn shift(args: &[Value], op: fn(u32, u32) -> u32) -> LibResult<MultiValue> {
    let b = barg(args, 1)?;
    let n = barg(args, 2)? & 31;
    ret(op(b, n))
}

/// `tohex(x [, n])`: the low `|n|` hex digits (8 by default, at most 8), in upper case when
/// `n` is negative.
fn tohex(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    let mut b = barg(args, 1)?;
    let mut n = if args.len() < 2 {
        8
    } else {
        barg(args, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        n = n.wrapping_neg();
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    // -(-2^31) overflows in C; Redis's build then treats it as more than 8.
    if !(0..=8).contains(&n) {
        n = 8;
    }
    let mut out = vec![0u8; n as usize];
    for c in out.iter_mut().rev() {
        *c = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(out)?,
    )]))
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("tobit", lib_fn(lua, |_, a| ret(barg(&a, 1)?))?)?;
    t.raw_set("bnot", lib_fn(lua, |_, a| ret(!barg(&a, 1)?))?)?;
    t.raw_set("band", lib_fn(lua, |_, a| fold(&a, |x, y| x & y))?)?;
    t.raw_set("bor", lib_fn(lua, |_, a| fold(&a, |x, y| x | y))?)?;
    t.raw_set("bxor", lib_fn(lua, |_, a| fold(&a, |x, y| x ^ y))?)?;
    t.raw_set("lshift", lib_fn(lua, |_, a| shift(&a, |b, n| b << n))?)?;
    t.raw_set("rshift", lib_fn(lua, |_, a| shift(&a, |b, n| b >> n))?)?;
    t.raw_set(
        "arshift",
        lib_fn(lua, |_, a| shift(&a, |b, n| ((b as i32) >> n) as u32))?,
    )?;
    t.raw_set(
        "rol",
        lib_fn(lua, |_, a| shift(&a, |b, n| b.rotate_left(n)))?,
    )?;
    t.raw_set(
        "ror",
        lib_fn(lua, |_, a| shift(&a, |b, n| b.rotate_right(n)))?,
    )?;
    t.raw_set("bswap", lib_fn(lua, |_, a| ret(barg(&a, 1)?.swap_bytes()))?)?;
    t.raw_set("tohex", lib_fn(lua, |lua, a| tohex(lua, &a))?)?;
    Ok(t)
}
