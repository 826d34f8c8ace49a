//! Conversions between RESP replies and Lua values, as Redis documents them.
//!
//! Redis → Lua (a `redis.call` reply): integer → number; bulk → string; null → false (RESP2)
//! or nil (RESP3); array → table; status → `{ok=…}`; error → `{err=…}`; and under
//! `redis.setresp(3)`: map → `{map={…}}`, set → `{set={m=true…}}`, double → `{double=n}`,
//! boolean → boolean, verbatim → `{verbatim_string={format=…, string=…}}`.
//!
//! Lua → Redis (a script's result): string → bulk; number → integer (truncated); boolean →
//! 1 or null (RESP2 scripts) / boolean (RESP3); nil → null; a table with `err` → error, with
//! `ok` → status, `double`/`map`/`set`/`big_number`/`verbatim_string` → those types, else an
//! array of its elements up to the first nil. Nesting deeper than [`MAX_DEPTH`] (or a table
//! that contains itself) is answered with an error instead of recursing on.

use crate::resp::{Frame, ReplyBuf};
use mlua::{ffi, Table, Value};

/// Deepest table nesting a script's result may have.
pub const MAX_DEPTH: usize = 1000;

/// Push a `redis.call` reply onto the Lua stack as a value (`marked`: an error table also
/// gets `ignore_error_stats_update`, Redis's mark on an error its command already counted).
///
/// # Safety
/// `l` is the running script's state, with its memory limit lifted (`vm::Unlimited`), so
/// pushing cannot raise an error past Rust frames; the reply's nesting is the server's own
/// (a few levels), and each level checks for stack room.
pub unsafe fn push_frame(l: *mut ffi::lua_State, f: Frame, resp3: bool, marked: bool) {
    ffi::lua_checkstack(l, 4);
    let field = |l, name: &std::ffi::CStr| ffi::lua_setfield(l, -2, name.as_ptr());
    let wrap = |l, name: &std::ffi::CStr| {
        // {name = <top>}
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_insert(l, -2);
        field(l, name);
    };
    match f {
        Frame::Integer(n) => ffi::lua_pushnumber(l, n as f64),
        Frame::Bulk(b) => push_bytes(l, &b),
        Frame::Simple(s) => {
            push_bytes(l, s.as_bytes());
            wrap(l, c"ok");
        }
        Frame::Error(e) => {
            push_bytes(l, e.as_bytes());
            wrap(l, c"err");
            if marked {
                ffi::lua_pushboolean(l, 1);
                field(l, c"ignore_error_stats_update");
            }
        }
        Frame::Null if resp3 => ffi::lua_pushnil(l),
        Frame::Null => ffi::lua_pushboolean(l, 0),
        Frame::Array(items) => {
            ffi::lua_createtable(l, items.len().min(1 << 24) as i32, 0);
            for (i, x) in items.into_iter().enumerate() {
                push_frame(l, x, resp3, false);
                ffi::lua_rawseti(l, -2, (i + 1) as _);
            }
        }
        Frame::Map(pairs) => {
            ffi::lua_createtable(l, 0, pairs.len().min(1 << 24) as i32);
            for (k, v) in pairs {
                push_frame(l, k, resp3, false);
                push_frame(l, v, resp3, false);
                ffi::lua_rawset(l, -3);
            }
            wrap(l, c"map");
        }
        Frame::Set(items) => {
            ffi::lua_createtable(l, 0, items.len().min(1 << 24) as i32);
            for x in items {
                push_frame(l, x, resp3, false);
                ffi::lua_pushboolean(l, 1);
                ffi::lua_rawset(l, -3);
            }
            wrap(l, c"set");
        }
        Frame::Double(d) => {
            ffi::lua_pushnumber(l, d);
            wrap(l, c"double");
        }
        Frame::Boolean(b) => ffi::lua_pushboolean(l, b as i32),
        Frame::Verbatim(format, text) => {
            ffi::lua_createtable(l, 0, 2);
            push_bytes(l, format.as_bytes());
            field(l, c"format");
            push_bytes(l, &text);
            field(l, c"string");
            wrap(l, c"verbatim_string");
        }
    }
}

unsafe fn push_bytes(l: *mut ffi::lua_State, b: &[u8]) {
    ffi::lua_pushlstring(l, b.as_ptr() as *const std::ffi::c_char, b.len());
}

/// Write a script's result as a reply. `script_resp3`: the script chose RESP3 with
/// `redis.setresp(3)` (which changes how booleans are sent).
pub fn lua_to_reply(v: &Value, out: &mut ReplyBuf, script_resp3: bool) {
    write(v, out, script_resp3, 0)
}

fn write(v: &Value, out: &mut ReplyBuf, resp3: bool, depth: usize) {
    if depth > MAX_DEPTH {
        out.error("ERR reached lua stack limit");
        return;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Integer(n) => out.int(*n),
        // A C cast, as Redis converts: NaN and numbers out of range give i64::MIN on x86-64.
        Value::Number(n) => out.int(super::lib::c_f64_to_i64(*n)),
        Value::Boolean(b) => {
            if resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Table(t) => write_table(t, out, resp3, depth),
        _ => out.null(),
    }
}

fn field(t: &Table, name: &str) -> Value {
    t.raw_get(name).unwrap_or(Value::Nil)
}

fn write_table(t: &Table, out: &mut ReplyBuf, resp3: bool, depth: usize) {
    if let Value::String(e) = field(t, "err") {
        out.error(&String::from_utf8_lossy(&e.as_bytes()));
        return;
    }
    if let Value::String(s) = field(t, "ok") {
        out.simple(&String::from_utf8_lossy(&s.as_bytes()).replace(['\r', '\n'], " "));
        return;
    }
    match field(t, "double") {
        Value::Number(d) => return out.double(d),
        Value::Integer(d) => return out.double(d as f64),
        _ => {}
    }
    if let Value::String(s) = field(t, "big_number") {
        // RESP3 big numbers are sent as bulk strings to RESP2 clients, as Redis does.
        out.bulk(&s.as_bytes());
        return;
    }
    if let Value::Table(m) = field(t, "map") {
        let pairs: Vec<(Value, Value)> = m.pairs().filter_map(|p| p.ok()).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write(k, out, resp3, depth + 1);
            write(v, out, resp3, depth + 1);
        }
        return;
    }
    if let Value::Table(s) = field(t, "set") {
        let members: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        out.set(members.len());
        for m in &members {
            write(m, out, resp3, depth + 1);
        }
        return;
    }
    if let Value::Table(vs) = field(t, "verbatim_string") {
        if let Value::String(s) = field(&vs, "string") {
            out.verbatim(&s.as_bytes());
            return;
        }
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for x in &items {
        write(x, out, resp3, depth + 1);
    }
}
