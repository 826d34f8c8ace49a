//! `cjson`: Lua CJSON 2.1.0 as Redis ships it (`deps/lua/src/lua_cjson.c`, `fpconv.c`):
//! `encode`, `decode`, the configuration functions, `new`, `null`.
//!
//! A hand-written encoder and parser rather than serde_json, because the details scripts
//! see are CJSON's own and serde_json has none of them: numbers printed with `%.14g`
//! (precision configurable), `/` escaped as `\/` and DEL as `\u007f`, Lua tables judged
//! array or object by their keys (with the sparse-array rule), `NaN`/`Infinity`/hex numbers
//! and a leading `+` accepted by `decode` by default, a NUL byte ending the text, lone
//! escapes checked the CJSON way, and CJSON's error texts with their character positions.
//!
//! Encoding: strings (bytes as they are, escapes per CJSON's table), numbers (`%.14g`; NaN
//! and infinities refused unless `encode_invalid_numbers`), booleans, nil and `cjson.null`
//! as `null`, tables: an array when every key is a whole number >= 1 and the array is not
//! "excessively sparse" (largest key above `ratio` times the count and above `safe`:
//! refused, or an object with `encode_sparse_array(true)`), else an object whose keys must
//! be strings or numbers; an empty table is `{}`. Nesting deeper than `encode_max_depth`
//! (default [`DEFAULT_MAX_DEPTH`]) is refused.
//!
//! Decoding: JSON null becomes `cjson.null` (a NULL light userdata); numbers go through
//! `strtod`; nesting deeper than `decode_max_depth` is refused. Both directions also stop
//! where Lua's C stack would (see `lib`'s note), and work without recursion.
//!
//! The configuration is per module table (`cjson.new()` makes another); the one in the
//! `cjson` global is shared by every script and function of the server, as Redis's is by
//! every script of its Lua VM.

use super::{
    arg_err, check_bytes, check_integer, fmt_g, msg, no_memory, LibResult, LUAI_MAXCSTACK,
    MAX_BUFFER,
};
use mlua::{ffi, LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;
use std::ffi::c_int;
use std::sync::Arc;

mod decode;

/// Default nesting limit of `encode` and `decode`.
pub const DEFAULT_MAX_DEPTH: i32 = 1000;

#[derive(Clone)]
pub(super) struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    pub(super) decode_max_depth: i32,
    /// 0 refuse, 1 write `nan`/`inf`, 2 write `null`.
    encode_invalid_numbers: i32,
    pub(super) decode_invalid_numbers: i32,
    /// Kept for its getter only: the Rust encoder has no shared buffer.
    encode_keep_buffer: i32,
    precision: i32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: DEFAULT_MAX_DEPTH,
            decode_max_depth: DEFAULT_MAX_DEPTH,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            encode_keep_buffer: 1,
            precision: 14,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

pub(super) fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn one(v: Value) -> LibResult<MultiValue> {
    Ok(MultiValue::from_vec(vec![v]))
}

// ---- configuration ----

/// At most `n` arguments (`found too many arguments`).
fn arg_init(args: &[Value], n: usize) -> LibResult<()> {
    if args.len() > n {
        return Err(arg_err(n as i32 + 1, "found too many arguments"));
    }
    Ok(())
}

fn given(args: &[Value], i: usize) -> bool {
    !matches!(args.get(i - 1), None | Some(Value::Nil))
}

/// An integer setting: argument `i` (when given) must be in `min..=max`.
fn int_option(args: &[Value], i: usize, setting: &mut i32, min: i32, max: i32) -> LibResult<Value> {
    if given(args, i) {
        let v = check_integer(args, i)? as i32;
        if !(min <= v && v <= max) {
            // CJSON names argument 1 whichever it checks.
            return Err(arg_err(
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        *setting = v;
    }
    Ok(Value::Number(*setting as f64))
}

/// An enumerated setting: a boolean, or one of `options` by name; returned as a boolean
/// when off/on, else by name.
fn enum_option(
    lua: &Lua,
    args: &[Value],
    i: usize,
    setting: &mut i32,
    options: &[&str],
) -> LibResult<Value> {
    match args.get(i - 1) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = *b as i32,
        Some(_) => {
            let name = check_bytes(args, i)?;
            match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                Some(p) => *setting = p as i32,
                None => {
                    let mut m = b"invalid option '".to_vec();
                    m.extend(name.iter().take_while(|&&c| c != 0));
                    m.push(b'\'');
                    return Err(arg_err(i as i32, m));
                }
            }
        }
    }
    Ok(if *setting <= 1 {
        Value::Boolean(*setting == 1)
    } else {
        Value::String(lua.create_string(options[*setting as usize])?)
    })
}

const ON_OFF: &[&str] = &["off", "on"];

// ---- encoding ----

fn escape(c: u8) -> Option<&'static str> {
    const LOW: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
        "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    match c {
        0..=31 => Some(LOW[c as usize]),
        b'"' => Some("\\\""),
        b'/' => Some("\\/"),
        b'\\' => Some("\\\\"),
        0x7f => Some("\\u007f"),
        _ => None,
    }
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &c in s {
        match escape(c) {
            Some(e) => out.extend_from_slice(e.as_bytes()),
            None => out.push(c),
        }
    }
    out.push(b'"');
}

fn serialise_err(type_code: c_int, reason: &str) -> super::LibError {
    msg(format!(
        "Cannot serialise {}: {reason}",
        super::raw_type_name(type_code)
    ))
}

/// Appends the number at `idx`.
///
/// # Safety
/// Within [`super::on_stack`], `idx` valid.
unsafe fn append_number(
    l: *mut ffi::lua_State,
    out: &mut Vec<u8>,
    cfg: &Config,
    idx: c_int,
) -> LibResult<()> {
    let n = ffi::lua_tonumber(l, idx);
    let invalid = n.is_nan() || n.is_infinite();
    match cfg.encode_invalid_numbers {
        0 if invalid => return Err(serialise_err(ffi::LUA_TNUMBER, "must not be NaN or Inf")),
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if invalid => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    out.extend_from_slice(fmt_g(n, cfg.precision as usize).as_bytes());
    Ok(())
}

/// CJSON's `lua_array_length` for the table on top: the largest key when every key is a
/// whole number >= 1 (C `int` arithmetic, as on x86), None for an object; refuses
/// excessively sparse arrays unless they are to become objects.
///
/// # Safety
/// Within [`super::on_stack`], a table on top and room for 2 more slots.
unsafe fn array_length(l: *mut ffi::lua_State, cfg: &Config) -> LibResult<Option<i32>> {
    let mut max: i32 = 0;
    let mut items: i32 = 0;
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        let k = ffi::lua_tonumber(l, -2);
        if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER && k != 0.0 && k.floor() == k && k >= 1.0 {
            if k > max as f64 {
                max = super::c_f64_to_i32(k);
            }
            items = items.wrapping_add(1);
            ffi::lua_pop(l, 1);
            continue;
        }
        ffi::lua_pop(l, 2);
        return Ok(None);
    }
    if cfg.sparse_ratio > 0 && max > items.wrapping_mul(cfg.sparse_ratio) && max > cfg.sparse_safe {
        if cfg.sparse_convert == 0 {
            return Err(serialise_err(ffi::LUA_TTABLE, "excessively sparse array"));
        }
        return Ok(None);
    }
    Ok(Some(max))
}

/// A table being written (it is on the Lua stack, under its walk's slots).
enum Open {
    Array { len: i32, next: i32 },
    Object { first: bool },
}

/// Encodes the value on top of the stack the way CJSON's recursive `json_append_data` does,
/// with the same Lua stack use, but iteratively.
///
/// # Safety
/// Within [`super::on_stack`] (only non-raising calls; pushes stay within 3 slots of a
/// passed room check).
unsafe fn encode_top(l: *mut ffi::lua_State, cfg: &Config) -> LibResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut pending = true;
    loop {
        if pending {
            match ffi::lua_type(l, -1) {
                ffi::LUA_TSTRING => append_string(&mut out, super::raw_bytes(l, -1)),
                ffi::LUA_TNUMBER => append_number(l, &mut out, cfg, -1)?,
                ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(l, -1) != 0 {
                    b"true"
                } else {
                    b"false"
                }),
                ffi::LUA_TNIL => out.extend_from_slice(b"null"),
                ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                    out.extend_from_slice(b"null")
                }
                ffi::LUA_TTABLE => {
                    let depth = open.len() + 1;
                    if depth > cfg.encode_max_depth as usize
                        || ffi::lua_gettop(l) as usize + 3 > LUAI_MAXCSTACK
                    {
                        return Err(msg(format!(
                            "Cannot serialise, excessive nesting ({depth})"
                        )));
                    }
                    match array_length(l, cfg)? {
                        Some(len) if len > 0 => {
                            out.push(b'[');
                            open.push(Open::Array { len, next: 1 });
                        }
                        _ => {
                            out.push(b'{');
                            ffi::lua_pushnil(l);
                            open.push(Open::Object { first: true });
                        }
                    }
                    pending = false;
                }
                t => return Err(serialise_err(t, "type not supported")),
            }
            if out.len() > MAX_BUFFER {
                return Err(no_memory());
            }
            if pending {
                // A plain value is written: its container goes on.
                if open.is_empty() {
                    return Ok(out);
                }
                ffi::lua_pop(l, 1);
                pending = false;
            }
        }
        let Some(frame) = open.last_mut() else {
            return Ok(out);
        };
        match frame {
            Open::Array { len, next } => {
                if *next <= *len {
                    if *next > 1 {
                        out.push(b',');
                    }
                    ffi::lua_rawgeti(l, -1, *next as _);
                    *next += 1;
                    pending = true;
                    continue;
                }
                out.push(b']');
            }
            Open::Object { first } => {
                if ffi::lua_next(l, -2) != 0 {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    match ffi::lua_type(l, -2) {
                        ffi::LUA_TNUMBER => {
                            out.push(b'"');
                            append_number(l, &mut out, cfg, -2)?;
                            out.extend_from_slice(b"\":");
                        }
                        ffi::LUA_TSTRING => {
                            append_string(&mut out, super::raw_bytes(l, -2));
                            out.push(b':');
                        }
                        t => return Err(serialise_err(t, "table key must be a number or string")),
                    }
                    pending = true;
                    continue;
                }
                out.push(b'}');
            }
        }
        // A table is written: it is on top; its container, if any, goes on.
        open.pop();
        if open.is_empty() {
            return Ok(out);
        }
        ffi::lua_pop(l, 1);
    }
}

// ---- the module ----

fn expect_one(args: &[Value]) -> LibResult<()> {
    if args.len() != 1 {
        return Err(arg_err(1, "expected 1 argument"));
    }
    Ok(())
}

/// A `cjson` module table with a configuration of its own.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.raw_set(
        "encode",
        super::lib_fn_packed(lua, move |lua, a, n| {
            if n != 1 {
                return Err(arg_err(1, "expected 1 argument"));
            }
            let cfg = c.lock().clone();
            // SAFETY: encode_top keeps to on_stack's contract.
            let out = super::on_stack(lua, a, n, |l| unsafe { encode_top(l, &cfg) })?;
            one(Value::String(lua.create_string(out)?))
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        super::lib_fn(lua, move |lua, a| {
            expect_one(&a)?;
            let cfg = c.lock().clone();
            let text = check_bytes(&a, 1)?;
            one(decode::decode(lua, &cfg, &text)?)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        super::lib_fn(lua, move |lua, a| {
            arg_init(&a, 3)?;
            let mut cfg = c.lock();
            let convert = enum_option(lua, &a, 1, &mut cfg.sparse_convert, ON_OFF)?;
            let ratio = int_option(&a, 2, &mut cfg.sparse_ratio, 0, i32::MAX)?;
            let safe = int_option(&a, 3, &mut cfg.sparse_safe, 0, i32::MAX)?;
            Ok(MultiValue::from_vec(vec![convert, ratio, safe]))
        })?,
    )?;
    type Field = fn(&mut Config) -> &mut i32;
    let ints: [(&str, Field, i32, i32); 3] = [
        ("encode_max_depth", |c| &mut c.encode_max_depth, 1, i32::MAX),
        ("decode_max_depth", |c| &mut c.decode_max_depth, 1, i32::MAX),
        ("encode_number_precision", |c| &mut c.precision, 1, 14),
    ];
    for (name, field, min, max) in ints {
        let c = cfg.clone();
        t.raw_set(
            name,
            super::lib_fn(lua, move |_, a| {
                arg_init(&a, 1)?;
                one(int_option(&a, 1, field(&mut c.lock()), min, max)?)
            })?,
        )?;
    }
    let enums: [(&str, Field, &'static [&'static str]); 3] = [
        ("encode_keep_buffer", |c| &mut c.encode_keep_buffer, ON_OFF),
        (
            "encode_invalid_numbers",
            |c| &mut c.encode_invalid_numbers,
            &["off", "on", "null"],
        ),
        (
            "decode_invalid_numbers",
            |c| &mut c.decode_invalid_numbers,
            ON_OFF,
        ),
    ];
    for (name, field, options) in enums {
        let c = cfg.clone();
        t.raw_set(
            name,
            super::lib_fn(lua, move |lua, a| {
                arg_init(&a, 1)?;
                one(enum_option(lua, &a, 1, field(&mut c.lock()), options)?)
            })?,
        )?;
    }
    t.raw_set(
        "new",
        super::lib_fn(lua, |lua, _| one(Value::Table(open(lua)?)))?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::super::{run, test_lua};
    use proptest::prelude::*;

    // Expected texts captured from redis-server 7.0.15.
    #[test]
    fn encode_matches_cjson() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return cjson.encode({1, {a='x/y'}, 0.1, 1/3, 1e15, true})"),
            "[1,{\"a\":\"x\\/y\"},0.1,0.33333333333333,1e+15,true]"
        );
        assert_eq!(
            r("return cjson.encode({}), cjson.encode({1, 2, nil, 4}), cjson.encode({[2^40]=1})"),
            "{}|[1,2,null,4]|{\"1099511627776\":1}"
        );
        assert_eq!(
            r("return cjson.encode('\\0\\31\\127')"),
            "\"\\u0000\\u001f\\u007f\""
        );
        let e = |c: &str| run(&lua, &format!("return select(2, pcall(cjson.encode, {c}))"));
        assert_eq!(
            e("{[20] = 1}"),
            "Cannot serialise table: excessively sparse array"
        );
        assert_eq!(e("print"), "Cannot serialise function: type not supported");
        assert_eq!(
            e("{[true] = 1}"),
            "Cannot serialise boolean: table key must be a number or string"
        );
        assert_eq!(e("0/0"), "Cannot serialise number: must not be NaN or Inf");
        assert_eq!(
            r("local t = {} for i = 1, 1001 do t = {t} end return select(2, pcall(cjson.encode, t))"),
            "Cannot serialise, excessive nesting (1001)"
        );
    }

    #[test]
    fn decode_matches_cjson() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')"),
            "0 -5000 -1 0.0003 1023.2 0"
        );
        assert_eq!(
            r("return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')"),
            "é😀"
        );
        assert_eq!(r("return cjson.decode('0x10'), tostring(cjson.decode('-Infinity')), cjson.decode('[1]\\0junk')[1]"), "16|-inf|1");
        assert_eq!(
            r("return cjson.decode('null') == cjson.null"),
            "Boolean(true)"
        );
        let e = |c: &str| run(&lua, &format!("return select(2, pcall(cjson.decode, {c}))"));
        assert_eq!(
            e("'x'"),
            "Expected value but found invalid token at character 1"
        );
        assert_eq!(
            e("'[1 2]'"),
            "Expected comma or array end but found T_NUMBER at character 4"
        );
        assert_eq!(
            e("'{1:2}'"),
            "Expected object key string but found T_NUMBER at character 2"
        );
        assert_eq!(
            e("'\"abc'"),
            "Expected value but found unexpected end of string at character 5"
        );
        assert_eq!(
            e("'[] x'"),
            "Expected the end but found invalid token at character 4"
        );
        assert_eq!(
            e("string.rep('[', 1001)"),
            "Found too many nested data structures (1001) at character 1001"
        );
    }

    #[test]
    fn configuration_functions() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("return cjson.encode_sparse_array()"),
            "Boolean(false)|2|10"
        );
        assert_eq!(
            r("return cjson.encode_invalid_numbers('null'), cjson.encode({0/0})"),
            "null|[null]"
        );
        assert_eq!(
            r("return select(2, pcall(cjson.encode_number_precision, 15))"),
            "bad argument #1 to '?' (expected integer between 1 and 14)"
        );
        assert_eq!(
            r("return select(2, pcall(cjson.encode_keep_buffer, 'maybe'))"),
            "bad argument #1 to '?' (invalid option 'maybe')"
        );
        assert_eq!(
            r("local c = cjson.new() c.encode_max_depth(1) return pcall(c.encode, {{}})"),
            "Boolean(false)|Cannot serialise, excessive nesting (2)"
        );
    }

    #[test]
    fn deep_structures_need_no_recursion() {
        let lua = test_lua();
        let r = |c: &str| run(&lua, c);
        assert_eq!(
            r("cjson.encode_max_depth(9000) cjson.decode_max_depth(9000) local t = {} for i = 1, 7000 do t = {t} end \
               local s = cjson.encode(t) local d = cjson.decode(s) return #s, select(2, pcall(cjson.decode, string.rep('[', 7999)))"),
            "14002|Found too many nested data structures (7999) at character 7999"
        );
    }

    proptest! {
        #[test]
        fn strings_round_trip(s in proptest::collection::vec(any::<u8>(), 0..300)) {
            let lua = test_lua();
            lua.globals().set("input", lua.create_string(&s).unwrap()).unwrap();
            let ok: bool = lua.load("return cjson.decode(cjson.encode(input)) == input").eval().unwrap();
            prop_assert!(ok);
        }

        #[test]
        fn numbers_keep_fourteen_digits(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            let lua = test_lua();
            lua.globals().set("input", f).unwrap();
            let (text, back): (String, f64) = lua.load("local s = cjson.encode(input) return s, cjson.decode(s)").eval().unwrap();
            prop_assert_eq!(text.clone(), super::fmt_g(f, 14));
            prop_assert_eq!(back, text.parse::<f64>().unwrap());
        }
    }
}
