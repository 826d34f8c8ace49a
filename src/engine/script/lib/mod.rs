//! The Lua libraries Redis 7.0 gives scripts besides Lua's own: `cjson`, `cmsgpack`, `bit`
//! and `struct` (Redis builds them from C sources in `deps/lua/src`; these are Rust
//! re-implementations that keep their outputs, limits and error texts).
//!
//! How a library function is called: each is a Rust function behind a small C function (the
//! "trampoline") so that, as with Redis's C libraries:
//! - errors are Lua strings (`pcall(cjson.decode, "x")` gives the message, not a userdata),
//!   raised from the C function with `luaL_error`/`luaL_argerror`, so they carry the
//!   caller's position (`user_script:1: …`) and the function's name as called
//!   (`bad argument #1 to 'tobit' (…)`) exactly as Lua's auxiliary library makes them;
//! - `return cjson.encode(x)` is not a Lua tail call that would drop the script's frame.
//!
//! A Rust function reports such an error by returning a [`LibError`]; the trampoline raises
//! it once the Rust frames are gone (Lua's errors unwind with `longjmp`, which must not
//! cross Rust frames that own memory).
//!
//! Lua's C stack limit: Redis's libraries grow the stack of their C function with
//! `lua_checkstack`, which fails past [`LUAI_MAXCSTACK`] slots; where that bounds what a
//! library accepts (nesting, number of results) the Rust code counts the same slots.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use mlua::{ffi, Function, LightUserData, Lua, MultiValue, Table, Value};
use std::ffi::{c_int, c_void};

/// Lua 5.1's limit on the stack slots one C function may use (`luaconf.h`).
pub const LUAI_MAXCSTACK: usize = 8000;

/// Bytes a library may build in Rust memory before giving up with Lua's "not enough memory"
/// (encoders' output buffers, which Lua's allocator limit does not see).
pub const MAX_BUFFER: usize = super::LUA_MEMORY_LIMIT;

/// An error a library function raises.
#[derive(Debug)]
pub enum LibError {
    /// `luaL_error`: the caller's position, then the message.
    Msg(Vec<u8>),
    /// `luaL_argerror(narg, msg)`: `bad argument #narg to 'name' (msg)`.
    Arg(i32, Vec<u8>),
    /// Raised as is, without a position (Lua's own runtime errors inside a C function).
    Raw(Vec<u8>),
    /// A failure of the Lua state itself (memory).
    Lua(mlua::Error),
}

impl From<mlua::Error> for LibError {
    fn from(e: mlua::Error) -> LibError {
        LibError::Lua(e)
    }
}

pub type LibResult<T> = Result<T, LibError>;

pub fn msg(s: impl Into<Vec<u8>>) -> LibError {
    LibError::Msg(s.into())
}

pub fn arg_err(narg: i32, s: impl Into<Vec<u8>>) -> LibError {
    LibError::Arg(narg, s.into())
}

/// `luaL_checkstack`'s failure.
pub fn stack_overflow(what: &str) -> LibError {
    msg(format!("stack overflow ({what})"))
}

/// The out-of-memory error Lua raises.
pub fn no_memory() -> LibError {
    LibError::Raw(b"not enough memory".to_vec())
}

/// The marker a Rust function returns first to ask the trampoline to raise an error.
static FAIL: u8 = 0;

/// The marker for results handed over in a table (see [`spread`]).
static SPREAD: u8 = 0;

fn mark(m: &'static u8) -> *mut c_void {
    m as *const u8 as *mut c_void
}

const KIND_MSG: i64 = 0;
const KIND_ARG: i64 = 1;
const KIND_RAW: i64 = 2;

/// mlua keeps every Lua value a Rust function holds (a string, a table) as a reference on
/// one auxiliary Lua stack, which has room for about [`LUAI_MAXCSTACK`] of them in all. So
/// no library holds a reference per item or per nesting level: arguments that may be many
/// come in one table ([`lib_fn_packed`]), results that may be many go out in one
/// ([`Results`]), encoders walk tables on the Lua stack itself ([`on_stack`]) and decoders
/// keep their open containers in a table.
///
/// Results in a table: `n` values `t[1..=n]`, which the trampoline spreads on its own
/// stack as the C function's results.
pub fn spread(t: Table, n: usize) -> LibResult<MultiValue> {
    Ok(MultiValue::from_vec(vec![
        Value::LightUserData(LightUserData(mark(&SPREAD))),
        Value::Table(t),
        Value::Number(n as f64),
    ]))
}

/// Results gathered in a Lua table (see [`spread`]).
pub struct Results {
    pub t: Table,
    pub n: usize,
}

impl Results {
    pub fn new(lua: &Lua) -> mlua::Result<Results> {
        Ok(Results {
            t: lua.create_table()?,
            n: 0,
        })
    }

    pub fn push(&mut self, v: Value) -> mlua::Result<()> {
        self.n += 1;
        self.t.raw_set(self.n, v)
    }

    pub fn last(&self) -> mlua::Result<Value> {
        self.t.raw_get(self.n)
    }

    pub fn pop(&mut self) -> mlua::Result<()> {
        self.t.raw_set(self.n, Value::Nil)?;
        self.n -= 1;
        Ok(())
    }

    pub fn spread(self) -> LibResult<MultiValue> {
        spread(self.t, self.n)
    }
}

/// What the trampoline does once the Rust function returned its results on the stack:
/// raise its error, spread its results, or return them.
unsafe fn finish(l: *mut ffi::lua_State) -> c_int {
    let top = ffi::lua_gettop(l);
    let marked = |m: &'static u8| {
        ffi::lua_type(l, 1) == ffi::LUA_TLIGHTUSERDATA && ffi::lua_touserdata(l, 1) == mark(m)
    };
    if top == 3 && marked(&SPREAD) {
        let n = ffi::lua_tonumber(l, 3) as c_int;
        ffi::lua_settop(l, 2);
        ffi::lua_remove(l, 1);
        // At most what the library allowed itself, which fits Lua's limit.
        if ffi::lua_checkstack(l, n) == 0 {
            ffi::luaL_error(l, c"stack overflow".as_ptr());
        }
        for i in 1..=n {
            ffi::lua_rawgeti(l, 1, i as _);
        }
        return n;
    }
    if top == 4 && marked(&FAIL) {
        let kind = ffi::lua_tonumber(l, 2) as i64;
        let narg = ffi::lua_tonumber(l, 3) as c_int;
        let text = ffi::lua_tostring(l, 4);
        match kind {
            KIND_ARG => {
                ffi::luaL_argerror(l, narg, text);
            }
            KIND_RAW => ffi::lua_error(l),
            _ => {
                ffi::luaL_error(l, c"%s".as_ptr(), text);
            }
        }
    }
    top
}

/// The C function scripts call: runs the Rust function (its upvalue) with the arguments
/// (see the module's note).
unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, ffi::LUA_MULTRET);
    finish(l)
}

/// The same, handing the Rust function its arguments in one table, and their count.
unsafe extern "C-unwind" fn trampoline_packed(l: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_createtable(l, n, 0);
    for i in 1..=n {
        ffi::lua_pushvalue(l, i);
        ffi::lua_rawseti(l, -2, i as _);
    }
    if n > 0 {
        ffi::lua_replace(l, 1);
        ffi::lua_settop(l, 1);
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_pushnumber(l, n as ffi::lua_Number);
    ffi::lua_call(l, 2, ffi::LUA_MULTRET);
    finish(l)
}

/// The results of a Rust function as the trampoline expects them.
fn deliver(lua: &Lua, r: LibResult<MultiValue>) -> mlua::Result<MultiValue> {
    let (kind, narg, text) = match r {
        Ok(v) => return Ok(v),
        Err(LibError::Lua(e)) => return Err(e),
        Err(LibError::Msg(m)) => (KIND_MSG, 0, m),
        Err(LibError::Arg(n, m)) => (KIND_ARG, n, m),
        Err(LibError::Raw(m)) => (KIND_RAW, 0, m),
    };
    Ok(MultiValue::from_vec(vec![
        Value::LightUserData(LightUserData(mark(&FAIL))),
        Value::Number(kind as f64),
        Value::Number(narg as f64),
        Value::String(lua.create_string(text)?),
    ]))
}

fn wrap(lua: &Lua, inner: Function, c: ffi::lua_CFunction) -> mlua::Result<Function> {
    // SAFETY: pushes one closure over the one value `exec_raw` pushed (the function).
    unsafe { lua.exec_raw::<Function>(inner, |l| ffi::lua_pushcclosure(l, c, 1)) }
}

/// A library function: `f` gets the arguments and returns the results or a [`LibError`].
pub fn lib_fn<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, Vec<Value>) -> LibResult<MultiValue> + Send + 'static,
{
    let inner =
        lua.create_function(move |lua, args: MultiValue| deliver(lua, f(lua, args.into_vec())))?;
    wrap(lua, inner, trampoline)
}

/// A library function whose arguments may be many: `f` gets them in a table, and their
/// count.
pub fn lib_fn_packed<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, Table, usize) -> LibResult<MultiValue> + Send + 'static,
{
    let inner =
        lua.create_function(move |lua, (t, n): (Table, usize)| deliver(lua, f(lua, t, n)))?;
    wrap(lua, inner, trampoline_packed)
}

/// Runs `f` with Lua's raw API on a stack holding just the packed arguments `t[1..=n]`, as
/// a C library function's stack would (so stack limits count the same), with room already
/// made for all [`LUAI_MAXCSTACK`] slots: `f` must only read values and push within that
/// room (no call that allocates or can raise a Lua error, since those would unwind
/// through Rust frames). `n` must be below [`LUAI_MAXCSTACK`].
pub fn on_stack<T>(
    lua: &Lua,
    t: Table,
    n: usize,
    f: impl FnOnce(*mut ffi::lua_State) -> LibResult<T>,
) -> LibResult<T> {
    let mut out: Option<LibResult<T>> = None;
    // SAFETY: the closure spreads the table and makes room with calls that may raise only
    // while it owns nothing; `f` then keeps to non-raising calls (its contract).
    unsafe {
        lua.exec_raw::<()>(t, |l| {
            let room = LUAI_MAXCSTACK as c_int - ffi::lua_gettop(l);
            if n as c_int >= room || ffi::lua_checkstack(l, room) == 0 {
                return;
            }
            for i in 1..=n {
                ffi::lua_rawgeti(l, 1, i as _);
            }
            ffi::lua_remove(l, 1);
            out = Some(f(l));
            ffi::lua_settop(l, 0);
        })?;
    }
    out.unwrap_or_else(|| Err(no_memory()))
}

/// The type name Lua gives a type code.
pub fn raw_type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "thread",
        ffi::LUA_TNONE => "no value",
        _ => "userdata",
    }
}

/// The bytes of the string at `idx` (which must be a string: no conversion, no allocation).
///
/// # Safety
/// `l` is a live state and `idx` a valid index holding a string, which stays on the stack
/// while the slice is used.
pub unsafe fn raw_bytes<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return &[];
    }
    std::slice::from_raw_parts(p as *const u8, len)
}

/// Sets the libraries as globals (`cjson`, `cmsgpack`, `bit`, `struct`), as Redis loads
/// them; the sandbox then copies and protects them like `string` or `math`.
pub fn open(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.raw_set("cjson", cjson::open(lua)?)?;
    g.raw_set("cmsgpack", cmsgpack::open(lua)?)?;
    g.raw_set("bit", bit::open(lua)?)?;
    g.raw_set("struct", structlib::open(lua)?)?;
    Ok(())
}

// ---- arguments, as Lua's auxiliary library reads them ----

/// `lua_typename` of an argument (`no value` when absent).
pub fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::LightUserData(_)) | Some(Value::UserData(_)) => "userdata",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

/// `luaL_typerror`.
pub fn type_err(args: &[Value], i: usize, expected: &str) -> LibError {
    let got = type_name(args.get(i - 1));
    arg_err(i as i32, format!("{expected} expected, got {got}"))
}

/// `lua_tonumber` (strings convert as Lua converts them; anything else is not a number).
pub fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(n) => Some(*n as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => str_to_number(&s.as_bytes()),
        _ => None,
    }
}

/// `luaL_checknumber` of argument `i` (1-based).
pub fn check_number(args: &[Value], i: usize) -> LibResult<f64> {
    match args.get(i - 1).and_then(to_number) {
        Some(n) => Ok(n),
        None => Err(type_err(args, i, "number")),
    }
}

/// `luaL_checkinteger`: the number truncated to `lua_Integer` as C converts it.
pub fn check_integer(args: &[Value], i: usize) -> LibResult<i64> {
    check_number(args, i).map(c_f64_to_i64)
}

/// `luaL_optinteger`: absent or nil gives `default`.
pub fn opt_integer(args: &[Value], i: usize, default: i64) -> LibResult<i64> {
    match args.get(i - 1) {
        None | Some(Value::Nil) => Ok(default),
        Some(_) => check_integer(args, i),
    }
}

/// `luaL_checklstring`: a string, or a number as Lua formats it.
pub fn check_bytes(args: &[Value], i: usize) -> LibResult<Vec<u8>> {
    match args.get(i - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(n)) => Ok(fmt_g(*n as f64, 14).into_bytes()),
        Some(Value::Number(n)) => Ok(fmt_g(*n, 14).into_bytes()),
        _ => Err(type_err(args, i, "string")),
    }
}

/// A double converted to a 64-bit integer as x86-64 does (`cvttsd2si`): truncated, and
/// `i64::MIN` when out of range or NaN.
pub fn c_f64_to_i64(n: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// A double converted to an unsigned 64-bit integer as x86-64 code from C does.
pub fn c_f64_to_u64(n: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if n >= TWO63 {
        (c_f64_to_i64(n - TWO63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(n) as u64
    }
}

/// A double converted to a 32-bit int as x86-64 does: truncated, `i32::MIN` out of range.
pub fn c_f64_to_i32(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

// ---- numbers as text, as C's strtod and printf handle them ----

/// Lua 5.1's string-to-number conversion (`luaO_str2d`): `strtod` (hex included), a
/// trailing `x` retried as a hex integer, then only white space may follow. The string is
/// read as C reads it, up to its first NUL.
pub fn str_to_number(s: &[u8]) -> Option<f64> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let (mut v, mut end) = strtod(s)?;
    if matches!(s.get(end), Some(b'x' | b'X')) {
        (v, end) = strtoul_hex(s);
    }
    if s[end..].iter().all(|&c| is_space(c)) {
        Some(v)
    } else {
        None
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtoul(s, &end, 16)`: white space, a sign, an optional `0x`, hex digits.
fn strtoul_hex(s: &[u8]) -> (f64, usize) {
    let mut i = s.iter().take_while(|&&c| is_space(c)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if matches!(s.get(i), Some(b'0')) && matches!(s.get(i + 1), Some(b'x' | b'X')) {
        if s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
            i += 2;
        } else {
            return (0.0, i + 1);
        }
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(16)) {
        match v.checked_mul(16).and_then(|x| x.checked_add(d as u64)) {
            Some(x) => v = x,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0.0, 0);
    }
    if overflow {
        v = u64::MAX;
    } else if neg {
        v = v.wrapping_neg();
    }
    (v as f64, i)
}

/// C's `strtod` on the start of `s`: the value and the bytes it used, or None when no
/// number starts there. Accepts what glibc accepts: leading white space, a sign, decimal
/// and hexadecimal (`0x1.8p3`) forms, `inf`/`infinity` and `nan`/`nan(chars)`.
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let ws = s.iter().take_while(|&&c| is_space(c)).count();
    let mut i = ws;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return Some((sign(f64::INFINITY), i + 8));
    }
    if starts(b"inf") {
        return Some((sign(f64::INFINITY), i + 3));
    }
    if starts(b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let body = s[end + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if s.get(end + 1 + body) == Some(&b')') {
                end += body + 2;
            }
        }
        return Some((sign(f64::NAN), end));
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((v, used)) = hex_float(&rest[2..]) {
            return Some((sign(v), i + 2 + used));
        }
        // "0x" without hex digits: the "0" alone.
        return Some((sign(0.0), i + 1));
    }
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(i);
    let mut end = i + int;
    let mut frac = 0;
    if s.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = digits(j);
        if e > 0 {
            end = j + e;
        }
    }
    let text = std::str::from_utf8(&s[ws..end]).ok()?;
    Some((text.parse::<f64>().ok()?, end))
}

/// The hexadecimal significand and optional binary exponent after `0x`: the value and the
/// bytes used, None without a hex digit. Rounded to nearest, ties to even.
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut any = false;
    let mut seen_point = false;
    loop {
        match s.get(i) {
            Some(&c) if c.is_ascii_hexdigit() => {
                any = true;
                let d = (c as char).to_digit(16).unwrap_or(0) as u64;
                if mant >> 56 == 0 {
                    mant = mant << 4 | d;
                    if seen_point {
                        exp -= 4;
                    }
                } else {
                    sticky |= d != 0;
                    if !seen_point {
                        exp += 4;
                    }
                }
            }
            Some(b'.') if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let neg = match s.get(j) {
            Some(b'-') => {
                j += 1;
                true
            }
            Some(b'+') => {
                j += 1;
                false
            }
            _ => false,
        };
        let start = j;
        let mut e: i64 = 0;
        while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
            e = (e * 10 + (c - b'0') as i64).min(1 << 20);
            j += 1;
        }
        if j > start {
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    if mant == 0 {
        return Some((0.0, i));
    }
    // Normalise to 64 bits, then keep 53 (fewer for subnormals), rounding half to even.
    let lz = mant.leading_zeros() as i64;
    mant <<= lz;
    exp -= lz;
    // value = mant * 2^exp, mant in [2^63, 2^64): drop the bits a double cannot keep
    // (more of them for subnormals).
    let top = exp + 63;
    let drop: i64 = if top >= -1022 { 11 } else { 11 + (-1022 - top) };
    if drop >= 65 {
        return Some((0.0, i));
    }
    let (kept, half, rest) = if drop == 64 {
        (0u64, true, mant << 1 != 0)
    } else {
        let rem = mant << (64 - drop);
        (mant >> drop, rem >> 63 == 1, rem << 1 != 0)
    };
    let mut kept = kept;
    if half && (rest || sticky || kept & 1 == 1) {
        kept += 1;
    }
    Some((scale(kept as f64, exp + drop), i))
}

/// `v * 2^e` in two exact steps, so that tiny and huge results come out right.
fn scale(v: f64, e: i64) -> f64 {
    let e = e.clamp(-2400, 2400) as i32;
    let half = e / 2;
    v * 2f64.powi(half) * 2f64.powi(e - half)
}

/// C's `%.<prec>g` (glibc): `prec` significant digits, trailing zeros dropped, exponent
/// form when the exponent is below -4 or not below `prec`; `inf`, `nan` with their sign.
pub fn fmt_g(v: f64, prec: usize) -> String {
    let prec = prec.max(1);
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i64 = exp.parse().unwrap_or(0);
    if x < -4 || x >= prec as i64 {
        let mant = trim_fraction(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let decimals = (prec as i64 - 1 - x) as usize;
        trim_fraction(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_g_matches_c() {
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(1e15, 14), "1e+15");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(-2.5, 1), "-2");
        assert_eq!(fmt_g(f64::NAN, 14), "nan");
        assert_eq!(fmt_g(-f64::NAN, 14), "-nan");
        assert_eq!(fmt_g(f64::NEG_INFINITY, 14), "-inf");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(1e300, 14), "1e+300");
    }

    #[test]
    fn strtod_takes_the_longest_number_prefix() {
        assert_eq!(strtod(b"12abc"), Some((12.0, 2)));
        assert_eq!(strtod(b"  -1.5e3,"), Some((-1500.0, 8)));
        assert_eq!(strtod(b"1e"), Some((1.0, 1)));
        assert_eq!(strtod(b"1.e+"), Some((1.0, 2)));
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"0x10]"), Some((16.0, 4)));
        assert_eq!(strtod(b"0x"), Some((0.0, 1)));
        assert_eq!(strtod(b"0x1.8p1"), Some((3.0, 7)));
        assert_eq!(strtod(b"0x1p-1074"), Some((f64::from_bits(1), 9)));
        assert_eq!(strtod(b"0x1fffffffffffff8"), Some((2f64.powi(61), 17)));
        assert_eq!(strtod(b"Infinity"), Some((f64::INFINITY, 8)));
        assert_eq!(strtod(b"-inf"), Some((f64::NEG_INFINITY, 4)));
        assert!(strtod(b"nan(123)").is_some_and(|(v, n)| v.is_nan() && n == 8));
        assert_eq!(strtod(b"1e400").map(|x| x.0), Some(f64::INFINITY));
    }

    #[test]
    fn lua_string_numbers() {
        assert_eq!(str_to_number(b" 10 "), Some(10.0));
        assert_eq!(str_to_number(b"0x1F"), Some(31.0));
        assert_eq!(str_to_number(b"5\0junk"), Some(5.0));
        assert_eq!(str_to_number(b"5x"), None);
        assert_eq!(str_to_number(b"abc"), None);
        assert_eq!(str_to_number(b""), None);
    }

    #[test]
    fn c_conversions_follow_x86() {
        assert_eq!(c_f64_to_i64(1e300), i64::MIN);
        assert_eq!(c_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_f64_to_i64(-3.9), -3);
        assert_eq!(c_f64_to_u64(1e20), 0);
        assert_eq!(c_f64_to_u64(f64::NAN), 1 << 63);
        assert_eq!(c_f64_to_u64(-1.0), u64::MAX);
        assert_eq!(
            c_f64_to_u64(1.8446744073709552e19 / 2.0 + 1024.0),
            (1 << 63) + 1024
        );
        assert_eq!(c_f64_to_i32(3e9), i32::MIN);
    }
}
