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

#[cfg(test)]
mod tests {
    use super::super::{run, test_lua};

    // Expected values captured from redis-server 7.0.15.
    #[test]
    fn conversions_and_operations_match_luabitop() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return bit.tobit(2^32 + 1), bit.tobit(2.5), bit.tobit(1.5), bit.tobit(-1)"),
            "1|2|2|-1"
        );
        assert_eq!(
            r("return bit.tobit(1e300), bit.tobit('0x10'), bit.tobit(0xffffffff)"),
            "-2013235812|16|-1"
        );
        assert_eq!(
            r("return bit.bswap(0x12345678), bit.rol(0x12345678, 4), bit.arshift(-256, 4)"),
            "2018915346|591751041|-16"
        );
        assert_eq!(
            r("return bit.lshift(1, 31), bit.lshift(1, 32), bit.rshift(-1, 1), bit.ror(1, 1)"),
            "-2147483648|1|2147483647|-2147483648"
        );
        assert_eq!(
            r("return bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(1, 3), bit.bnot(0)"),
            "15|7|2|-1"
        );
        assert_eq!(r("return bit.tohex(255), bit.tohex(255, -2), bit.tohex(0x12345678, -10), bit.tohex(1, 0)"), "000000ff|FF|12345678|");
        assert_eq!(r("return bit.tohex(0xabcdef, 0x80000000)"), "00ABCDEF");
    }

    #[test]
    fn bad_arguments_name_the_last_bad_one() {
        let lua = test_lua();
        assert_eq!(
            run(&lua, "return select(2, pcall(bit.bor, 1, 'x', {}))"),
            "bad argument #3 to '?' (number expected, got table)"
        );
        assert_eq!(
            run(&lua, "return select(2, pcall(bit.tohex, 1, nil))"),
            "bad argument #2 to '?' (number expected, got nil)"
        );
    }

    #[test]
    fn tobit_wraps_like_adding_the_magic_constant() {
        for n in [
            0.0f64,
            1.0,
            -1.0,
            4294967295.0,
            4294967296.0,
            2147483648.5,
            -2147483649.0,
        ] {
            let want = n.round_ties_even().rem_euclid(4294967296.0) as u64 as u32;
            assert_eq!(super::tobit(n), want, "{n}");
        }
    }
}
