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
use mlua::{Lua, Table, Value};

/// Deepest table nesting a script's result may have.
pub const MAX_DEPTH: usize = 1000;

/// A `redis.call` reply as a Lua value.
pub fn frame_to_lua(lua: &Lua, f: Frame, resp3: bool) -> mlua::Result<Value> {
    Ok(match f {
        Frame::Integer(n) => Value::Number(n as f64),
        Frame::Bulk(b) => Value::String(lua.create_string(&b)?),
        Frame::Simple(s) => {
            let t = lua.create_table()?;
            t.set("ok", s)?;
            Value::Table(t)
        }
        Frame::Error(e) => {
            let t = lua.create_table()?;
            t.set("err", e)?;
            Value::Table(t)
        }
        Frame::Null => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Frame::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, x) in items.into_iter().enumerate() {
                t.raw_set(i + 1, frame_to_lua(lua, x, resp3)?)?;
            }
            Value::Table(t)
        }
        Frame::Map(pairs) => {
            let inner = lua.create_table()?;
            for (k, v) in pairs {
                inner.raw_set(frame_to_lua(lua, k, resp3)?, frame_to_lua(lua, v, resp3)?)?;
            }
            let t = lua.create_table()?;
            t.set("map", inner)?;
            Value::Table(t)
        }
        Frame::Set(items) => {
            let inner = lua.create_table()?;
            for x in items {
                inner.raw_set(frame_to_lua(lua, x, resp3)?, true)?;
            }
            let t = lua.create_table()?;
            t.set("set", inner)?;
            Value::Table(t)
        }
        Frame::Double(d) => {
            let t = lua.create_table()?;
            t.set("double", d)?;
            Value::Table(t)
        }
        Frame::Boolean(b) => Value::Boolean(b),
        Frame::Verbatim(format, text) => {
            let inner = lua.create_table()?;
            inner.set("format", format)?;
            inner.set("string", lua.create_string(&text)?)?;
            let t = lua.create_table()?;
            t.set("verbatim_string", inner)?;
            Value::Table(t)
        }
    })
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
        Value::Number(n) => out.int(*n as i64),
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
