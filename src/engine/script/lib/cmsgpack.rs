//! `cmsgpack`: lua-cmsgpack 0.4.0 (Redis's `deps/lua/src/lua_cmsgpack.c`), MessagePack
//! for Lua: `pack(v1, v2, …)`, `unpack(s)`, `unpack_one(s [, offset])`,
//! `unpack_limit(s, limit [, offset])`.
//!
//! Packing, as the C code does it:
//! - a number that is a whole 64-bit value packs as the smallest integer form (positive
//!   fixint, uint 8/16/32/64, negative fixint, int 8/16/32/64); any other number as a float
//!   32 when it converts to a float and back unchanged, else as a float 64;
//! - a table whose keys are exactly 1..n packs as an array (an empty table too), any other
//!   as a map, in Lua's `next` order; tables nested [`MAX_NESTING`] deep pack as nil (so a
//!   table that contains itself packs as that many copies);
//! - strings use fixstr/str 8/16/32; booleans; anything else packs as nil;
//! - each argument is packed on its own and the results concatenated; at most
//!   [`LUAI_MAXCSTACK`]` / 2` arguments.
//!
//! Unpacking returns each top-level value (unpack), or the next offset (-1 at the end)
//! followed by the values (unpack_one/unpack_limit). Integers become numbers (uint 64 above
//! 2^63 wraps to a negative one, as in the C code); str 8/16/32; bin and ext types are a bad
//! format. How much it may return or nest is bounded by Lua's C stack as in Redis: past
//! it, the error asks to use `unpack_one` or `unpack_limit`.

use super::{
    arg_err, check_bytes, check_integer, msg, no_memory, opt_integer, stack_overflow, LibError,
    LibResult, LUAI_MAXCSTACK, MAX_BUFFER,
};
use mlua::{ffi, Lua, MultiValue, Table, Value};

/// Tables nested this deep pack as nil (lua-cmsgpack's `LUACMSGPACK_MAX_NESTING`).
pub const MAX_NESTING: usize = 16;

/// `luaL_checkstack(L, n, what)` with `top` slots in use.
fn check_stack(top: usize, n: usize, what: &str) -> LibResult<()> {
    if top + n > LUAI_MAXCSTACK {
        return Err(stack_overflow(what));
    }
    Ok(())
}

// ---- packing ----

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend([0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend((len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend((len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend([0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend((n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend((n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend((n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend([0xd0, n as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend((n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend((n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend(n.to_be_bytes());
    }
}

fn encode_number(buf: &mut Vec<u8>, n: f64) {
    let i = super::c_f64_to_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(buf, i);
    } else if (n as f32) as f64 == n {
        buf.push(0xca);
        buf.extend((n as f32).to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend(n.to_be_bytes());
    }
}

fn fits(l: *mut ffi::lua_State, n: usize) -> bool {
    // SAFETY: reads the stack height of a live state.
    unsafe { ffi::lua_gettop(l) as usize + n <= LUAI_MAXCSTACK }
}

/// `luaL_checkstack` as the C code calls it, with Lua's stack as it stands.
fn check_room(l: *mut ffi::lua_State, n: usize, what: &str) -> LibResult<()> {
    if fits(l, n) {
        Ok(())
    } else {
        Err(stack_overflow(what))
    }
}

/// Whether the keys of the table on top are exactly 1..n (as `int`s), in `next` order.
///
/// # Safety
/// A table is on top of `l`'s stack, with room for 2 more slots.
unsafe fn is_array(l: *mut ffi::lua_State) -> bool {
    let (mut max, mut count) = (0i32, 0i32);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let n = ffi::lua_tonumber(l, -1);
        if ffi::lua_type(l, -1) != ffi::LUA_TNUMBER
            || n <= 0.0
            || n.is_infinite()
            || super::c_f64_to_i32(n) as f64 != n
        {
            ffi::lua_pop(l, 1);
            return false;
        }
        max = max.max(n as i32);
        count += 1;
    }
    max == count
}

/// Packs the value on top of the stack and pops it (lua-cmsgpack's `mp_encode_lua_type`).
///
/// # Safety
/// Within [`super::on_stack`]: only non-raising calls, pushes within the room it made.
unsafe fn encode_top(l: *mut ffi::lua_State, buf: &mut Vec<u8>, level: usize) -> LibResult<()> {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => encode_bytes(buf, super::raw_bytes(l, -1)),
        ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => encode_number(buf, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE => encode_table(l, buf, level)?,
        _ => buf.push(0xc0),
    }
    if buf.len() > MAX_BUFFER {
        return Err(no_memory());
    }
    ffi::lua_pop(l, 1);
    Ok(())
}

/// # Safety
/// As [`encode_top`], with a table on top.
unsafe fn encode_table(l: *mut ffi::lua_State, buf: &mut Vec<u8>, level: usize) -> LibResult<()> {
    check_room(l, 2, "in function table_is_an_array")?;
    if is_array(l) {
        let len = ffi::lua_objlen(l, -1);
        write_len(buf, len, [0x90, 0xdc, 0xdd]);
        check_room(l, 1, "in function mp_encode_lua_table_as_array")?;
        for j in 1..=len {
            ffi::lua_rawgeti(l, -1, j as _);
            encode_top(l, buf, level + 1)?;
        }
    } else {
        check_room(l, 3, "in function mp_encode_lua_table_as_map")?;
        let mut len = 0usize;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pop(l, 1);
            len += 1;
        }
        write_len(buf, len, [0x80, 0xde, 0xdf]);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            ffi::lua_pushvalue(l, -2);
            encode_top(l, buf, level + 1)?;
            encode_top(l, buf, level + 1)?;
        }
    }
    Ok(())
}

/// An array or map header: fix form up to 15, then 16 and 32 bits.
fn write_len(buf: &mut Vec<u8>, n: usize, codes: [u8; 3]) {
    if n <= 15 {
        buf.push(codes[0] | n as u8);
    } else if n <= 0xffff {
        buf.push(codes[1]);
        buf.extend((n as u16).to_be_bytes());
    } else {
        buf.push(codes[2]);
        buf.extend((n as u32).to_be_bytes());
    }
}

fn pack(lua: &Lua, args: Table, nargs: usize) -> LibResult<MultiValue> {
    if nargs == 0 {
        return Err(arg_err(0, "MessagePack pack needs input."));
    }
    // lua_checkstack(L, nargs) with the arguments already on the stack.
    if nargs * 2 > LUAI_MAXCSTACK {
        return Err(arg_err(0, "Too many arguments for MessagePack pack."));
    }
    let buf = super::on_stack(lua, args, nargs, |l| {
        let mut buf = Vec::new();
        for i in 1..=nargs {
            check_room(l, 1, "in function mp_check")?;
            // SAFETY: within on_stack, room checked; every call below is non-raising.
            unsafe {
                ffi::lua_pushvalue(l, i as _);
                encode_top(l, &mut buf, 0)?;
                // The C code keeps each packed piece on the stack until the end.
                ffi::lua_pushboolean(l, 0);
            }
        }
        Ok(buf)
    })?;
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(buf)?,
    )]))
}

// ---- unpacking ----

/// Why decoding stopped.
enum Stop {
    Eof,
    BadFormat,
    Lib(LibError),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Stop {
        Stop::Lib(LibError::Lua(e))
    }
}

/// A container being filled; the table is in the decoder's holder at `2 * depth - 1`, a
/// map's key, once read, at `2 * depth` (see `lib`'s note on references).
enum Open {
    Array { len: usize, next: usize },
    Map { left: usize, has_key: bool },
}

impl Open {
    /// Stack slots this container holds in the C code while its next item is decoded (the
    /// table, and the index or key pushed before the value).
    fn slots(&self) -> usize {
        match self {
            Open::Array { .. } | Open::Map { has_key: true, .. } => 2,
            Open::Map { has_key: false, .. } => 1,
        }
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    p: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.s.len() - self.p
    }

    /// The `n` bytes after the type byte (which stays unconsumed until `take`).
    fn peek(&self, n: usize) -> Result<&'a [u8], Stop> {
        if self.left() < 1 + n {
            return Err(Stop::Eof);
        }
        Ok(&self.s[self.p + 1..self.p + 1 + n])
    }

    fn be(&self, n: usize) -> Result<u64, Stop> {
        Ok(self.peek(n)?.iter().fold(0u64, |a, &b| a << 8 | b as u64))
    }
}

/// What one type byte starts: a value, or a container of `len` items.
enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

/// Reads one item at the cursor; `top` is the C code's stack use at that point.
fn read_item(lua: &Lua, c: &mut Cursor, top: usize) -> Result<Item, Stop> {
    if c.left() < 1 {
        return Err(Stop::Eof);
    }
    check_stack(
        top,
        1,
        "too many return values at once; use unpack_one or unpack_limit instead.",
    )
    .map_err(Stop::Lib)?;
    let b = c.s[c.p];
    let num = |v: f64| Item::Value(Value::Number(v));
    let (item, used) = match b {
        0xcc => (num(c.be(1)? as f64), 2),
        0xd0 => (num(c.be(1)? as u8 as i8 as f64), 2),
        0xcd => (num(c.be(2)? as f64), 3),
        0xd1 => (num(c.be(2)? as u16 as i16 as f64), 3),
        0xce => (num(c.be(4)? as f64), 5),
        0xd2 => (num(c.be(4)? as u32 as i32 as f64), 5),
        // Pushed as a signed lua_Integer in the C code.
        0xcf => (num(c.be(8)? as i64 as f64), 9),
        0xd3 => (num(c.be(8)? as i64 as f64), 9),
        0xc0 => (Item::Value(Value::Nil), 1),
        0xc3 => (Item::Value(Value::Boolean(true)), 1),
        0xc2 => (Item::Value(Value::Boolean(false)), 1),
        0xca => (num(f32::from_bits(c.be(4)? as u32) as f64), 5),
        0xcb => (num(f64::from_bits(c.be(8)?)), 9),
        0xd9..=0xdb => {
            let hdr = match b {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            let l = c.be(hdr)? as usize;
            let s = c.peek(hdr + l)?;
            let v = Value::String(lua.create_string(&s[hdr..])?);
            (Item::Value(v), 1 + hdr + l)
        }
        0xdc => (Item::Array(c.be(2)? as usize), 3),
        0xdd => (Item::Array(c.be(4)? as usize), 5),
        0xde => (Item::Map(c.be(2)? as usize), 3),
        0xdf => (Item::Map(c.be(4)? as usize), 5),
        _ if b & 0x80 == 0 => (num(b as f64), 1),
        _ if b & 0xe0 == 0xe0 => (num(b as i8 as f64), 1),
        _ if b & 0xe0 == 0xa0 => {
            let l = (b & 0x1f) as usize;
            let v = Value::String(lua.create_string(c.peek(l)?)?);
            (Item::Value(v), 1 + l)
        }
        _ if b & 0xf0 == 0x90 => (Item::Array((b & 0xf) as usize), 1),
        _ if b & 0xf0 == 0x80 => (Item::Map((b & 0xf) as usize), 1),
        _ => return Err(Stop::BadFormat),
    };
    c.p += used;
    Ok(item)
}

/// Sets `t[k] = v` as `lua_settable` does on a plain table (a nil value still makes the
/// key's slot, which shapes the table as in Redis).
fn set(t: &Table, k: Value, v: Value) -> Result<(), Stop> {
    match &k {
        Value::Nil => return Err(Stop::Lib(LibError::Raw(b"table index is nil".to_vec()))),
        Value::Number(n) if n.is_nan() => {
            return Err(Stop::Lib(LibError::Raw(b"table index is NaN".to_vec())))
        }
        _ => {}
    }
    t.raw_set(k, v)?;
    Ok(())
}

/// Decodes one top-level value starting with the stack at `base` slots (iteratively: the
/// nesting allowed by Lua's stack is deeper than a Rust stack should recurse).
fn decode_one(lua: &Lua, holder: &Table, c: &mut Cursor, base: usize) -> Result<Value, Stop> {
    let mut open: Vec<Open> = Vec::new();
    let mut top = base;
    loop {
        let mut v = match read_item(lua, c, top)? {
            Item::Value(v) => v,
            Item::Array(len) | Item::Map(len) if len == 0 => Value::Table(lua.create_table()?),
            Item::Array(len) => {
                // The C code's extra check once the table is pushed.
                check_stack(top + 1, 1, "in function mp_decode_to_lua_array").map_err(Stop::Lib)?;
                holder.raw_set(2 * open.len() + 1, lua.create_table()?)?;
                open.push(Open::Array { len, next: 1 });
                top += 2;
                continue;
            }
            Item::Map(left) => {
                holder.raw_set(2 * open.len() + 1, lua.create_table()?)?;
                open.push(Open::Map {
                    left,
                    has_key: false,
                });
                top += 1;
                continue;
            }
        };
        // Store the finished value in its container; finished containers go up in turn.
        loop {
            let depth = open.len();
            let Some(frame) = open.last_mut() else {
                return Ok(v);
            };
            top -= frame.slots();
            let table = || holder.raw_get::<Table>(2 * depth - 1);
            let done = match frame {
                Open::Array { len, next } => {
                    set(&table()?, Value::Number(*next as f64), v)?;
                    *next += 1;
                    *next > *len
                }
                Open::Map { left, has_key } => {
                    if *has_key {
                        let k: Value = holder.raw_get(2 * depth)?;
                        holder.raw_set(2 * depth, Value::Nil)?;
                        *has_key = false;
                        set(&table()?, k, v)?;
                        *left -= 1;
                        *left == 0
                    } else {
                        holder.raw_set(2 * depth, v)?;
                        *has_key = true;
                        false
                    }
                }
            };
            if !done {
                top += frame.slots();
                break;
            }
            v = holder.raw_get(2 * depth - 1)?;
            holder.raw_set(2 * depth - 1, Value::Nil)?;
            open.pop();
        }
    }
}

/// `mp_unpack_full`: decode up to `limit` values from `offset` (both 0: everything, with
/// no offset returned). `base`: stack slots the C function holds before its results.
fn unpack_full(
    lua: &Lua,
    args: &[Value],
    limit: i64,
    offset: i64,
    base: usize,
) -> LibResult<MultiValue> {
    let s = check_bytes(args, 1)?;
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // The C code prints the input's length where the limit is meant.
        return Err(msg(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        )));
    } else if offset as u64 > len as u64 {
        return Err(msg(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        )));
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut c = Cursor {
        s: &s,
        p: offset as usize,
    };
    let holder = lua.create_table()?;
    let mut out = super::Results::new(lua)?;
    if !decode_all {
        // The next offset goes first; set once known.
        out.push(Value::Nil)?;
    }
    let mut cnt = 0usize;
    while c.left() > 0 && (cnt as i64) < limit {
        match decode_one(lua, &holder, &mut c, base + cnt) {
            Ok(v) => out.push(v)?,
            Err(Stop::Eof) => return Err(msg("Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(msg("Bad data format in input.")),
            Err(Stop::Lib(e)) => return Err(e),
        }
        cnt += 1;
    }
    if !decode_all {
        check_stack(base + cnt, 1, "in function mp_unpack_full")?;
        let next = if c.left() == 0 { -1 } else { c.p as i64 };
        out.t.raw_set(1, next)?;
    }
    out.spread()
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", super::lib_fn_packed(lua, pack)?)?;
    t.raw_set(
        "unpack",
        super::lib_fn(lua, |lua, a| {
            let base = a.len();
            unpack_full(lua, &a, 0, 0, base)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        super::lib_fn(lua, |lua, a| {
            let offset = opt_integer(&a, 2, 0)?;
            unpack_full(lua, &a[..a.len().min(1)], 1, offset, 1)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        super::lib_fn(lua, |lua, a| {
            let limit = check_integer(&a, 2)?;
            let offset = opt_integer(&a, 3, 0)?;
            unpack_full(lua, &a[..a.len().min(1)], limit, offset, 1)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::super::{run, test_lua, HEX};
    use proptest::prelude::*;

    // Expected bytes captured from redis-server 7.0.15 (and Redis's own test suite).
    #[test]
    fn pack_gives_redis_bytes() {
        let lua = test_lua();
        let hx = |args: &str| run(&lua, &format!("{HEX} return hx(cmsgpack.pack({args}))"));
        assert_eq!(
            hx("0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296"),
            "007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000"
        );
        assert_eq!(
            hx("-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649"),
            "ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffff"
        );
        assert_eq!(
            hx("0.5, 1/0, -0.0, 'abc', true, false, nil, {}, {1,2}, {[0]=1}"),
            "ca3f000000ca7f80000000a3616263c3c2c090920102810001"
        );
        assert_eq!(hx("0.1"), "cb3fb999999999999a");
        assert_eq!(hx("-1099511627776"), "d3ffffff0000000000");
        let circular = "82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0";
        let code = format!("{HEX} local a = {{x = nil, y = 5}} local b = {{x = a}} a.x = b return hx(cmsgpack.pack(a))");
        assert_eq!(run(&lua, &code), circular);
    }

    #[test]
    fn unpack_variants_and_offsets() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return cmsgpack.unpack(cmsgpack.pack(1, 'a', true))"),
            "1|a|Boolean(true)"
        );
        assert_eq!(
            r("return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)"),
            "2|2"
        );
        assert_eq!(
            r("return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)"),
            "-1|2|3"
        );
        assert_eq!(
            r("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')"),
            "-1"
        );
        let e = |c: &str| run(&lua, &format!("return select(2, pcall({c}))"));
        assert_eq!(e("cmsgpack.unpack, '\\146\\1'"), "Missing bytes in input.");
        assert_eq!(e("cmsgpack.unpack, '\\193'"), "Bad data format in input.");
        assert_eq!(e("cmsgpack.unpack, '\\129\\192\\1'"), "table index is nil");
        assert_eq!(
            e("cmsgpack.unpack_limit, '\\1', -1"),
            "Invalid request to unpack with offset of 0 and limit of 1."
        );
        assert_eq!(
            e("cmsgpack.unpack_one, '\\1', 5"),
            "Start offset 5 greater than input length 1."
        );
        assert_eq!(
            e("cmsgpack.pack"),
            "bad argument #0 to '?' (MessagePack pack needs input.)"
        );
    }

    #[test]
    fn lua_stack_limits_give_errors_not_crashes() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return select('#', cmsgpack.unpack(string.rep('\\1', 7999)))"),
            "7999"
        );
        assert_eq!(
            r("return select(2, pcall(cmsgpack.unpack, string.rep('\\1', 8000)))"),
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
        assert_eq!(
            r("return select(2, pcall(cmsgpack.unpack, string.rep('\\129', 7996) .. '\\1'))"),
            "Missing bytes in input."
        );
        assert_eq!(
            r("local t = {} for i = 1, 4001 do t[i] = i end return select(2, pcall(cmsgpack.pack, unpack(t)))"),
            "bad argument #0 to '?' (Too many arguments for MessagePack pack.)"
        );
        // Deep nesting decodes without recursion (thousands of levels).
        assert_eq!(
            r("local t = cmsgpack.unpack(string.rep('\\145', 3990) .. '\\7') for i = 1, 3990 do t = t[1] end return t"),
            "7"
        );
    }

    proptest! {
        #[test]
        fn numbers_and_strings_round_trip(n in any::<i64>(), f in any::<f64>(), s in proptest::collection::vec(any::<u8>(), 0..300)) {
            let lua = test_lua();
            let t = lua.create_table().unwrap();
            t.raw_set(1, n as f64).unwrap();
            t.raw_set(2, f).unwrap();
            t.raw_set(3, lua.create_string(&s).unwrap()).unwrap();
            lua.globals().set("input", t).unwrap();
            let ok: bool = lua.load("local a, b, c = cmsgpack.unpack(cmsgpack.pack(input[1], input[2], input[3])) \
                return a == input[1] and (b == input[2] or b ~= b) and c == input[3]").eval().unwrap();
            prop_assert!(ok);
        }
    }
}
