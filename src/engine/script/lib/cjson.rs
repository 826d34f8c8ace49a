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
    arg_err, check_bytes, check_integer, fmt_g, msg, no_memory, strtod, LibResult, LUAI_MAXCSTACK,
    MAX_BUFFER,
};
use mlua::{ffi, LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;
use std::ffi::c_int;
use std::sync::Arc;

/// Default nesting limit of `encode` and `decode`.
pub const DEFAULT_MAX_DEPTH: i32 = 1000;

#[derive(Clone)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 refuse, 1 write `nan`/`inf`, 2 write `null`.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
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

fn null() -> Value {
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

// ---- decoding ----

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    /// A token error, with what went wrong.
    Error(&'static str),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error(e) => e,
        }
    }
}

struct Token {
    kind: Kind,
    index: usize,
    number: f64,
    boolean: bool,
}

struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    /// The last string token's bytes.
    string: Vec<u8>,
    invalid_numbers: bool,
}

fn hex4(h: &[u8]) -> Option<u32> {
    let mut v = 0;
    for i in 0..4 {
        v = v << 4 | (*h.get(i)? as char).to_digit(16)?;
    }
    Some(v)
}

fn push_utf8(out: &mut Vec<u8>, cp: u32) {
    if cp <= 0x7f {
        out.push(cp as u8);
    } else if cp <= 0x7ff {
        out.extend([(cp >> 6) as u8 | 0xc0, (cp & 0x3f) as u8 | 0x80]);
    } else if cp <= 0xffff {
        out.extend([
            (cp >> 12) as u8 | 0xe0,
            ((cp >> 6) & 0x3f) as u8 | 0x80,
            (cp & 0x3f) as u8 | 0x80,
        ]);
    } else {
        out.extend([
            (cp >> 18) as u8 | 0xf0,
            ((cp >> 12) & 0x3f) as u8 | 0x80,
            ((cp >> 6) & 0x3f) as u8 | 0x80,
            (cp & 0x3f) as u8 | 0x80,
        ]);
    }
}

impl Parser<'_> {
    /// The byte at `i`; the text ends with a NUL as a C string does.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            number: 0.0,
            boolean: false,
        }
    }

    fn error(&self, what: &'static str) -> Token {
        self.token(Kind::Error(what), self.ptr)
    }

    /// CJSON's `json_is_invalid_number`: forms strtod takes but JSON does not (a leading
    /// `+`, hex, leading zeros, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // A signed char in C: bytes from 0x80 compare below '9'.
        if c <= b'9' || c >= 0x80 {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).eq_ignore_ascii_case(&w[i]));
        word(b"inf") || word(b"nan")
    }

    fn number(&mut self) -> Token {
        let end = self.data[self.ptr.min(self.data.len())..]
            .iter()
            .position(|&c| c == 0)
            .map_or(self.data.len(), |n| self.ptr + n);
        match strtod(&self.data[self.ptr.min(end)..end]) {
            Some((v, used)) => {
                let mut t = self.token(Kind::Number, self.ptr);
                t.number = v;
                self.ptr += used;
                t
            }
            None => self.error("invalid number"),
        }
    }

    /// A `\uXXXX` escape (a surrogate pair takes two) at `ptr`, appended as UTF-8.
    fn unicode_escape(&mut self) -> bool {
        let hex_at = |i: usize| hex4(&self.data[i.min(self.data.len())..]);
        let Some(mut cp) = hex_at(self.ptr + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 || self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return false;
            }
            let Some(low) = hex_at(self.ptr + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            len = 12;
        }
        push_utf8(&mut self.string, cp);
        self.ptr += len;
        true
    }

    fn string(&mut self) -> Token {
        let index = self.ptr;
        self.ptr += 1;
        self.string.clear();
        loop {
            let c = self.at(self.ptr);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return self.error("unexpected end of string");
            }
            let mut out = c;
            if c == b'\\' {
                out = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 12,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape() {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                self.ptr += 1;
            }
            self.string.push(out);
            self.ptr += 1;
        }
        self.ptr += 1;
        self.token(Kind::Str, index)
    }

    fn next(&mut self) -> Token {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let c = self.at(self.ptr);
        let single = match c {
            b'{' => Some(Kind::ObjBegin),
            b'}' => Some(Kind::ObjEnd),
            b'[' => Some(Kind::ArrBegin),
            b']' => Some(Kind::ArrEnd),
            b',' => Some(Kind::Comma),
            b':' => Some(Kind::Colon),
            _ => None,
        };
        if let Some(kind) = single {
            self.ptr += 1;
            return self.token(kind, index);
        }
        if c == 0 {
            return self.token(Kind::End, index);
        }
        if !matches!(
            c,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9'
        ) {
            return self.error("invalid token");
        }
        let starts = |w: &[u8]| w.iter().enumerate().all(|(i, &b)| self.at(index + i) == b);
        if c == b'"' {
            self.string()
        } else if c == b'-' || c.is_ascii_digit() {
            if !self.invalid_numbers && self.is_invalid_number() {
                return self.error("invalid number");
            }
            self.number()
        } else if starts(b"true") {
            self.ptr += 4;
            let mut t = self.token(Kind::Boolean, index);
            t.boolean = true;
            t
        } else if starts(b"false") {
            self.ptr += 5;
            self.token(Kind::Boolean, index)
        } else if starts(b"null") {
            self.ptr += 4;
            self.token(Kind::Null, index)
        } else if self.invalid_numbers && self.is_invalid_number() {
            self.number()
        } else {
            self.error("invalid token")
        }
    }
}

fn expected(what: &str, t: &Token) -> super::LibError {
    msg(format!(
        "Expected {what} but found {} at character {}",
        t.kind.name(),
        t.index + 1
    ))
}

/// A container being read; its table is in the decoder's holder at its depth (see `lib`'s
/// note on references).
enum Reading {
    Array { next: i64 },
    Object { key: Vec<u8> },
}

fn decode(lua: &Lua, cfg: &Config, data: &[u8]) -> LibResult<Value> {
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(msg("JSON parser does not support UTF-16 or UTF-32"));
    }
    let mut p = Parser {
        data,
        ptr: 0,
        string: Vec::new(),
        invalid_numbers: cfg.decode_invalid_numbers != 0,
    };
    let holder = lua.create_table()?;
    let mut open: Vec<Reading> = Vec::new();
    // The C parser's Lua stack: the argument, then 1 per open array (its table) and 2 per
    // open object (its table and the key).
    let mut top = 1usize;
    let mut tok = p.next();
    loop {
        // `tok` starts a value.
        let mut v = match tok.kind {
            Kind::Str => Value::String(lua.create_string(&p.string)?),
            Kind::Number => Value::Number(tok.number),
            Kind::Boolean => Value::Boolean(tok.boolean),
            Kind::Null => null(),
            Kind::ObjBegin | Kind::ArrBegin => {
                let object = tok.kind == Kind::ObjBegin;
                let depth = open.len() + 1;
                let slots = if object { 3 } else { 2 };
                if depth > cfg.decode_max_depth as usize || top + slots > LUAI_MAXCSTACK {
                    return Err(msg(format!(
                        "Found too many nested data structures ({depth}) at character {}",
                        p.ptr
                    )));
                }
                let t = lua.create_table()?;
                tok = p.next();
                if tok.kind == (if object { Kind::ObjEnd } else { Kind::ArrEnd }) {
                    Value::Table(t)
                } else {
                    holder.raw_set(depth, t)?;
                    if object {
                        let key = object_key(&mut p, &tok)?;
                        tok = p.next();
                        open.push(Reading::Object { key });
                        top += 2;
                    } else {
                        open.push(Reading::Array { next: 1 });
                        top += 1;
                    }
                    continue;
                }
            }
            _ => return Err(expected("value", &tok)),
        };
        // A value is complete: store it, then read on in its container.
        loop {
            let depth = open.len();
            let Some(frame) = open.last_mut() else {
                tok = p.next();
                if tok.kind != Kind::End {
                    return Err(expected("the end", &tok));
                }
                return Ok(v);
            };
            let t: Table = holder.raw_get(depth)?;
            let (end, what) = match frame {
                Reading::Array { next } => {
                    t.raw_set(*next, v)?;
                    *next += 1;
                    (Kind::ArrEnd, "comma or array end")
                }
                Reading::Object { key } => {
                    t.raw_set(lua.create_string(&key)?, v)?;
                    (Kind::ObjEnd, "comma or object end")
                }
            };
            tok = p.next();
            if tok.kind == end {
                top -= if end == Kind::ArrEnd { 1 } else { 2 };
                holder.raw_set(depth, Value::Nil)?;
                open.pop();
                v = Value::Table(t);
                continue;
            }
            if tok.kind != Kind::Comma {
                return Err(expected(what, &tok));
            }
            tok = p.next();
            if let Reading::Object { key } = frame {
                *key = object_key(&mut p, &tok)?;
                tok = p.next();
            }
            break;
        }
    }
}

/// After `{` or `,` in an object: `tok` must be the key, then a colon follows.
fn object_key(p: &mut Parser, tok: &Token) -> LibResult<Vec<u8>> {
    if tok.kind != Kind::Str {
        return Err(expected("object key string", tok));
    }
    let key = p.string.clone();
    let colon = p.next();
    if colon.kind != Kind::Colon {
        return Err(expected("colon", &colon));
    }
    Ok(key)
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
            one(decode(lua, &cfg, &text)?)
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
