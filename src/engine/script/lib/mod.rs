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
mod numtext;
mod rand48;
pub mod structlib;

pub use numtext::{c_f64_to_i32, c_f64_to_i64, c_f64_to_u64, fmt_g, str_to_number, strtod};

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
    if let Ok(math) = g.raw_get::<Table>("math") {
        rand48::install(lua, &math)?;
    }
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

/// A Lua state with the libraries, for the modules' tests.
#[cfg(test)]
pub(crate) fn test_lua() -> Lua {
    let lua = Lua::new();
    open(&lua).expect("the libraries load");
    lua
}

/// Runs `code` and renders its results as text (`nil`, numbers as Lua prints them, strings
/// as they are, errors as `ERR <message>`), joined by `|`.
#[cfg(test)]
pub(crate) fn run(lua: &Lua, code: &str) -> String {
    match lua.load(code).set_name("=t").eval::<MultiValue>() {
        Ok(vs) => vs
            .iter()
            .map(|v| match v {
                Value::String(s) => s.to_string_lossy(),
                Value::Integer(n) => fmt_g(*n as f64, 14),
                Value::Number(n) => fmt_g(*n, 14),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join("|"),
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("").to_string();
            format!("ERR {}", first.trim_start_matches("runtime error: "))
        }
    }
}

/// Lua code that renders a string as lowercase hex.
#[cfg(test)]
pub(crate) const HEX: &str =
    "local function hx(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_strings_with_the_callers_position_and_the_functions_name() {
        let lua = test_lua();
        assert_eq!(
            run(&lua, "return pcall(bit.tobit)"),
            "Boolean(false)|bad argument #1 to '?' (number expected, got no value)"
        );
        assert_eq!(
            run(
                &lua,
                "local ok, e = pcall(function() return bit.tobit() end) return e"
            ),
            "t:1: bad argument #1 to 'tobit' (number expected, got no value)"
        );
        assert_eq!(
            run(
                &lua,
                "local ok, e = pcall(function() return cjson.decode('x') end) return e"
            ),
            "t:1: Expected value but found invalid token at character 1"
        );
    }

    #[test]
    fn many_results_come_back_whole() {
        let lua = test_lua();
        assert_eq!(
            run(
                &lua,
                "return select('#', struct.unpack(string.rep('c1', 7000), string.rep('a', 7000)))"
            ),
            "7001"
        );
    }
}
