//! `struct`: Roberto Ierusalimschy's struct library (Redis's `deps/lua/src/lua_struct.c`):
//! `struct.pack(fmt, ...)`, `struct.unpack(fmt, data [, pos])`, `struct.size(fmt)`.
//!
//! Format characters: `>` big endian, `<` little endian (the default is the machine's:
//! little), `![n]` maximum alignment (default 8, a power of 2), `x` a zero byte, `b`/`B`
//! signed/unsigned char, `h`/`H` short (2), `l`/`L` long (8), `T` size_t (8), `i[n]`/`I[n]`
//! int of n bytes (default 4, at most [`MAXINTSIZE`]), `f` float, `d` double, `c[n]` n
//! chars (`c0`: the whole string when packing, a length read just before when unpacking),
//! `s` a zero-terminated string, ` ` ignored. The format ends at its first NUL byte, as a C
//! string does.
//!
//! Integers are converted as the C code on x86-64 converts them (a double to `long` or
//! `unsigned long`; sizes above 8 bytes pack the 64-bit value then zero bytes, and unpack
//! only the last 8 bytes read), so out-of-range values give the same bytes as Redis's.

use super::{
    arg_err, c_f64_to_i64, c_f64_to_u64, check_bytes, check_number, msg, opt_integer,
    stack_overflow, to_number, LibResult, LUAI_MAXCSTACK,
};
use mlua::{Lua, MultiValue, Table, Value};

/// Largest integer size (`i32`/`I32`).
pub const MAXINTSIZE: i32 = 32;

/// Default maximum alignment of `!` (a double's alignment on x86-64).
const MAXALIGN: i32 = 8;

struct Header {
    little: bool,
    align: usize,
}

impl Header {
    fn new() -> Header {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// The format as a C string: up to its first NUL byte.
fn format(args: &[Value]) -> LibResult<Vec<u8>> {
    let mut f = check_bytes(args, 1)?;
    if let Some(end) = f.iter().position(|&c| c == 0) {
        f.truncate(end);
    }
    Ok(f)
}

/// A number in the format at `*i` (advancing past it), or `default` when none is there.
fn getnum(fmt: &[u8], i: &mut usize, default: i32) -> LibResult<i32> {
    if !fmt.get(*i).is_some_and(u8::is_ascii_digit) {
        return Ok(default);
    }
    let mut a: i32 = 0;
    while let Some(&c) = fmt.get(*i).filter(|c| c.is_ascii_digit()) {
        let d = (c - b'0') as i32;
        if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
            return Err(msg("integral size overflow"));
        }
        a = a * 10 + d;
        *i += 1;
    }
    Ok(a)
}

/// The size of option `opt` (0 for options that take no room and need no alignment).
fn optsize(opt: u8, fmt: &[u8], i: &mut usize) -> LibResult<usize> {
    Ok(match opt {
        b'B' | b'b' | b'x' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'c' => getnum(fmt, i, 1)? as usize,
        b'i' | b'I' => {
            let sz = getnum(fmt, i, 4)?;
            if sz > MAXINTSIZE {
                return Err(msg(format!(
                    "integral size {sz} is larger than limit of {MAXINTSIZE}"
                )));
            }
            sz as usize
        }
        _ => 0,
    })
}

/// Padding bytes before an item of `size` at offset `len` (C's formula, also for sizes
/// that are not powers of two).
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    size.wrapping_sub(len & size.wrapping_sub(1)) & size.wrapping_sub(1)
}

/// Endianness, alignment and spaces; anything else is not a format option.
fn controloptions(opt: u8, fmt: &[u8], i: &mut usize, h: &mut Header) -> LibResult<()> {
    match opt {
        b' ' => {}
        b'>' => h.little = false,
        b'<' => h.little = true,
        b'!' => {
            let a = getnum(fmt, i, MAXALIGN)?;
            if a <= 0 || a & (a - 1) != 0 {
                return Err(msg(format!("alignment {a} is not a power of 2")));
            }
            h.align = a as usize;
        }
        _ => {
            let mut m = b"invalid format option '".to_vec();
            m.push(opt);
            m.push(b'\'');
            return Err(arg_err(1, m));
        }
    }
    Ok(())
}

/// Bytes in the wanted order (the machine is little endian).
fn ordered(mut b: Vec<u8>, little: bool) -> Vec<u8> {
    if !little {
        b.reverse();
    }
    b
}

/// The arguments of `pack` come in a table (they may be many, see `lib`): each is read
/// when its option comes.
struct Packed {
    t: Table,
    n: usize,
}

impl Packed {
    /// Argument `i` alone, with the ones before it absent, so that the usual checks name
    /// it and tell "no value" from nil. Just past the last argument the C code has pushed
    /// a nil of its own, which it then reads as that argument ("got nil"); further on it
    /// would find its buffer's pieces once the output passed 8 KiB (not reproduced: those
    /// read as "no value").
    fn get(&self, i: usize) -> LibResult<Vec<Value>> {
        let mut v = vec![Value::Nil; i.min(self.n + 1)];
        if i <= self.n {
            v[i - 1] = self.t.raw_get(i)?;
        }
        Ok(v)
    }
}

fn pack(lua: &Lua, packed: Packed) -> LibResult<MultiValue> {
    // The format is read before the C code pushes its nil.
    let fmt = format(&if packed.n == 0 {
        Vec::new()
    } else {
        packed.get(1)?
    })?;
    let mut h = Header::new();
    let mut arg = 2;
    let mut total: usize = 0;
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, &fmt, &mut i)?;
        let pad = gettoalign(total, &h, opt, size);
        total += pad;
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(&packed.get(arg)?, arg)?;
                arg += 1;
                let mut v = if n < 0.0 {
                    c_f64_to_i64(n) as u64
                } else {
                    c_f64_to_u64(n)
                };
                let mut bytes = vec![0u8; size];
                for b in bytes.iter_mut() {
                    *b = v as u8;
                    v >>= 8;
                }
                out.extend(ordered(bytes, h.little));
            }
            b'x' => out.push(0),
            b'f' => {
                let f = check_number(&packed.get(arg)?, arg)? as f32;
                arg += 1;
                out.extend(ordered(f.to_le_bytes().to_vec(), h.little));
            }
            b'd' => {
                let d = check_number(&packed.get(arg)?, arg)?;
                arg += 1;
                out.extend(ordered(d.to_le_bytes().to_vec(), h.little));
            }
            b'c' | b's' => {
                let s = check_bytes(&packed.get(arg)?, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                // The C code names the argument after this one.
                if s.len() < size {
                    return Err(arg_err(arg as i32, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => controloptions(opt, &fmt, &mut i, &mut h)?,
        }
        total += size;
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(out)?,
    )]))
}

/// An integer of `b.len()` bytes; only the last 8 bytes read count, as in the C code.
fn getinteger(b: &[u8], little: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut take = |c: u8| l = (l << 8) | c as u64;
    if little {
        b.iter().rev().for_each(|&c| take(c));
    } else {
        b.iter().for_each(|&c| take(c));
    }
    if !signed {
        return l as f64;
    }
    // x86 shifts by the count modulo 64 (sizes 0 and above 8 included).
    let mask = u64::MAX.wrapping_shl((b.len() * 8).wrapping_sub(1) as u32);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &[Value]) -> LibResult<MultiValue> {
    let fmt = format(args)?;
    let data = check_bytes(args, 2)?;
    let ld = data.len();
    let mut pos = opt_integer(args, 3, 1)? as usize;
    if pos == 0 {
        return Err(arg_err(3, "offset must be 1 or greater"));
    }
    pos -= 1;
    let mut h = Header::new();
    let mut out = super::Results::new(lua)?;
    let short = || arg_err(2, "data string too short");
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let mut size = optsize(opt, &fmt, &mut i)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(short());
        }
        // Lua's C stack: the arguments, the results so far, an item and the position.
        if args.len() + out.n + 2 > LUAI_MAXCSTACK {
            return Err(stack_overflow("too many results"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = getinteger(&data[pos..pos + size], h.little, opt.is_ascii_lowercase());
                out.push(Value::Number(v))?;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let f = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(Value::Number(f as f64))?;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let d = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(Value::Number(d))?;
            }
            b'c' => {
                if size == 0 {
                    let prev = if out.n == 0 {
                        None
                    } else {
                        to_number(&out.last()?)
                    };
                    let Some(n) = prev else {
                        return Err(msg("format 'c0' needs a previous size"));
                    };
                    size = c_f64_to_u64(n) as usize;
                    out.pop()?;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(short());
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?))?;
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(msg("unfinished string in data"));
                };
                size = len + 1;
                out.push(Value::String(lua.create_string(&data[pos..pos + len])?))?;
            }
            _ => controloptions(opt, &fmt, &mut i, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Number(pos.wrapping_add(1) as i64 as f64))?;
    out.spread()
}

fn size(args: &[Value]) -> LibResult<MultiValue> {
    let fmt = format(args)?;
    let mut h = Header::new();
    let mut pos: usize = 0;
    let mut i = 0;
    while i < fmt.len() {
        let opt = fmt[i];
        i += 1;
        let size = optsize(opt, &fmt, &mut i)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return Err(arg_err(1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_err(1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(opt, &fmt, &mut i, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(MultiValue::from_vec(vec![Value::Number(pos as i64 as f64)]))
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        super::lib_fn_packed(lua, |lua, t, n| pack(lua, Packed { t, n }))?,
    )?;
    t.raw_set("unpack", super::lib_fn(lua, |lua, a| unpack(lua, &a))?)?;
    t.raw_set("size", super::lib_fn(lua, |_, a| size(&a))?)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::super::{run, test_lua, HEX};

    // Expected bytes captured from redis-server 7.0.15.
    #[test]
    fn pack_gives_redis_bytes() {
        let lua = test_lua();
        let code = format!(
            "{HEX} return hx(struct.pack('>i3', -1) .. struct.pack('i16', -1) .. struct.pack('l', 1e20) .. struct.pack('!4bhbd', 1, 2, 3, 4))"
        );
        assert_eq!(
            run(&lua, &code),
            "ffffffffffffffffffffff0000000000000000000000000000000001000200030000000000000000001040"
        );
        assert_eq!(
            run(
                &lua,
                &format!("{HEX} return hx(struct.pack('f>d', 1.5, 0.1))")
            ),
            "0000c03f3fb999999999999a"
        );
    }

    #[test]
    fn unpack_reads_back_and_returns_the_next_position() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return struct.unpack('<i>Hc3s', struct.pack('<i>Hc3s', -7, 513, 'abc', 'zz'))"),
            "-7|513|abc|zz|13"
        );
        assert_eq!(r("return struct.unpack('bc0', '\\3abcd')"), "abc|5");
        assert_eq!(
            r("return struct.unpack('i3I3', '\\255\\255\\255\\255\\255\\255')"),
            "-1|16777215|7"
        );
        assert_eq!(
            r("return struct.size('!bhilfdxT'), struct.size('c10')"),
            "48|10"
        );
    }

    #[test]
    fn errors_match_the_c_library() {
        let lua = test_lua();
        let e = |c: &str| run(&lua, &format!("return select(2, pcall({c}))"));
        assert_eq!(
            e("struct.pack, 'c5', 'ab'"),
            "bad argument #3 to '?' (string too short)"
        );
        assert_eq!(
            e("struct.pack, 'b'"),
            "bad argument #2 to '?' (number expected, got nil)"
        );
        assert_eq!(e("struct.pack, '!3'"), "alignment 3 is not a power of 2");
        assert_eq!(
            e("struct.pack, 'i33', 1"),
            "integral size 33 is larger than limit of 32"
        );
        assert_eq!(
            e("struct.unpack, 'i', 'abc'"),
            "bad argument #2 to '?' (data string too short)"
        );
        assert_eq!(
            e("struct.unpack, 'c0', 'abc'"),
            "format 'c0' needs a previous size"
        );
        assert_eq!(e("struct.unpack, 's', 'abc'"), "unfinished string in data");
        assert_eq!(
            e("struct.size, 's'"),
            "bad argument #1 to '?' (option 's' has no fixed size)"
        );
        assert_eq!(
            e("struct.unpack, string.rep('b', 7998), string.rep('a', 7998)"),
            "stack overflow (too many results)"
        );
    }
}
