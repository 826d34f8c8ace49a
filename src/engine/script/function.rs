//! Redis 7 functions: libraries loaded with `FUNCTION LOAD` (`#!lua name=<lib>` code that
//! calls `redis.register_function`), called with `FCALL`.
//!
//! A library's code runs once at load time in an environment whose `redis` has
//! `register_function` and no `call`; the functions it registers are kept by name. They get
//! `KEYS` and `ARGV` as arguments (not as globals). `FUNCTION LOAD` is propagated as it was
//! received, so the AOF and its rewrite keep every library.

use super::vm::Vm;
use bytes::Bytes;
use mlua::{Function, Table, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One registered function.
#[derive(Clone)]
pub struct Func {
    pub name: String,
    pub library: String,
    pub func: Function,
    pub no_writes: bool,
    pub flags: Vec<String>,
    pub description: Option<String>,
}

#[derive(Clone)]
pub struct Library {
    /// As given (the map's key is in lowercase).
    pub name: String,
    pub code: Bytes,
    /// Its functions' names, sorted.
    pub functions: Vec<String>,
}

#[derive(Default, Clone)]
pub struct Libraries {
    pub libs: BTreeMap<String, Library>,
    pub funcs: BTreeMap<String, Func>,
}

const FLAGS: &[&str] = &[
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

/// The library name of `#!lua name=<lib>`, and where the code starts. As Redis: the first
/// line is split as `sdssplitargs` splits (quotes allowed), its first word is `#!` and the
/// engine, then only `name=` may follow, once; the name is checked before the engine.
fn metadata(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let end = code
        .iter()
        .position(|&c| c == b'\n')
        .ok_or("ERR Invalid library metadata")?;
    let parts = crate::resp::parse::split_inline(&code[..end])
        .filter(|p| !p.is_empty())
        .ok_or("ERR Invalid library metadata")?;
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "ERR Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "ERR Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let name = name.ok_or("ERR Library name was not given")?;
    check_name(&name)?;
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    Ok((name, end))
}

/// Library and function names (Redis checks both with the library's text).
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    Ok(())
}

/// What one `redis.register_function` call registers: name, callback, flags, description.
type Registration = (String, Function, Vec<String>, Option<String>);

/// A Lua string, or a number as Lua turns it into one (`lua_isstring` accepts both).
fn lua_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Number(n) => Some(crate::num::fmt_double(*n)),
        _ => None,
    }
}

/// One `redis.register_function` call's arguments, checked in Redis's order and with its
/// texts: `(name, callback)` or one table of named arguments (names case-insensitive).
fn registration(args: mlua::MultiValue) -> Result<Registration, String> {
    let args: Vec<Value> = args.into_iter().collect();
    match args.as_slice() {
        [name, cb] => {
            let name = lua_string(name)
                .ok_or("ERR first argument to redis.register_function must be a string")?;
            let Value::Function(f) = cb else {
                return Err("ERR second argument to redis.register_function must be a function".into());
            };
            check_name(&name)?;
            Ok((name, f.clone(), vec![], None))
        }
        [Value::Table(t)] => {
            let mut name = None;
            let mut cb = None;
            let mut flags = Vec::new();
            let mut desc = None;
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| format!("ERR {e}"))?;
                let key = lua_string(&k).ok_or(
                    "ERR named argument key given to redis.register_function is not a string",
                )?;
                match key.to_ascii_lowercase().as_str() {
                    "function_name" => {
                        name = Some(lua_string(&v).ok_or(
                            "ERR function_name argument given to redis.register_function must be a string",
                        )?)
                    }
                    "description" => {
                        desc = Some(lua_string(&v).ok_or(
                            "ERR description argument given to redis.register_function must be a string",
                        )?)
                    }
                    "callback" => match v {
                        Value::Function(f) => cb = Some(f),
                        _ => return Err("ERR callback argument given to redis.register_function must be a function".into()),
                    },
                    "flags" => {
                        let Value::Table(ft) = v else {
                            return Err("ERR flags argument to redis.register_function must be a table representing function flags".into());
                        };
                        for f in ft.sequence_values::<Value>() {
                            let f = f.ok().as_ref().and_then(lua_string);
                            match f {
                                Some(f) if FLAGS.contains(&f.as_str()) => flags.push(f),
                                _ => return Err("ERR unknown flag given".into()),
                            }
                        }
                    }
                    _ => return Err("ERR unknown argument given to redis.register_function".into()),
                }
            }
            let name =
                name.ok_or("ERR redis.register_function must get a function name argument")?;
            let cb = cb.ok_or("ERR redis.register_function must get a callback argument")?;
            check_name(&name)?;
            Ok((name, cb, flags, desc))
        }
        [_] => Err("ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into()),
        _ => Err("ERR wrong number of arguments to redis.register_function".into()),
    }
}

impl Vm {
    /// `FUNCTION LOAD [REPLACE] code`: the library's name, or Redis's error. Its load-time
    /// code may run for `timeout` at most (none: no limit).
    pub fn load_library(
        &mut self,
        code: &Bytes,
        replace: bool,
        timeout: Option<std::time::Duration>,
    ) -> Result<String, String> {
        let (name, start) = metadata(code)?;
        let key = name.to_ascii_lowercase();
        if self.libraries.libs.contains_key(&key) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let chunk = self
            .lua
            .load(&code[start..])
            .set_name("@user_function")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.load_env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => {
                    format!("ERR Error compiling function: {message}")
                }
                other => format!("ERR Error compiling function: {other}"),
            })?;
        let found: RefCell<Vec<Registration>> = RefCell::new(Vec::new());
        let hooks: Table = self.hooks.clone();
        let run = self.run.clone();
        let ran = self.lua.scope(|scope| {
            // A bad registration answers its error text; the Lua side raises it.
            let reg = scope.create_function(|_, args: mlua::MultiValue| {
                Ok(match registration(args) {
                    Ok(r) if found.borrow().iter().any(|f| f.0 == r.0) => {
                        Some("ERR Function already exists in the library".to_string())
                    }
                    Ok(r) => {
                        found.borrow_mut().push(r);
                        None
                    }
                    Err(e) => Some(e),
                })
            })?;
            hooks.raw_set("register", reg)?;
            hooks.raw_set("loading", true)?;
            *self.load_deadline.lock() = timeout.map(|t| std::time::Instant::now() + t);
            let r = run.call::<(bool, Value)>(chunk);
            *self.load_deadline.lock() = None;
            hooks.raw_set("loading", Value::Nil)?;
            hooks.raw_set("register", Value::Nil)?;
            r
        });
        match ran {
            Ok((true, _)) => {}
            Ok((false, Value::Table(t))) => {
                let msg: String = t.raw_get("err").unwrap_or_default();
                return Err(format!("ERR Error registering functions: {msg}"));
            }
            Ok((false, _)) => return Err("ERR Error registering functions".into()),
            Err(e) => return Err(format!("ERR Error registering functions: {e}")),
        }
        let found = found.into_inner();
        if found.is_empty() {
            return Err("ERR No functions registered".into());
        }
        let mut names: Vec<String> = Vec::new();
        for (f, ..) in &found {
            let k = f.to_ascii_lowercase();
            if names.contains(&k) {
                return Err(format!("ERR Function {f} already exists"));
            }
            if let Some(other) = self.libraries.funcs.get(&k) {
                if other.library != key {
                    return Err(format!("ERR Function {f} already exists"));
                }
            }
            names.push(k);
        }
        self.delete_library(&key);
        for (f, func, flags, description) in found {
            let no_writes = flags.iter().any(|x| x == "no-writes");
            self.libraries.funcs.insert(
                f.to_ascii_lowercase(),
                Func {
                    name: f,
                    library: key.clone(),
                    func,
                    no_writes,
                    flags,
                    description,
                },
            );
        }
        names.sort();
        self.libraries.libs.insert(
            key,
            Library {
                name: name.clone(),
                code: code.clone(),
                functions: names,
            },
        );
        Ok(name)
    }

    /// `FUNCTION RESTORE`: load every library of a dump beside the current ones (`replace`
    /// lets those of the same name go), or instead of all of them (`flush`). All or nothing:
    /// on any error the libraries are as they were.
    pub fn restore_libraries(
        &mut self,
        codes: &[Bytes],
        flush: bool,
        replace: bool,
    ) -> Result<(), String> {
        let saved = std::mem::take(&mut self.libraries);
        for code in codes {
            if let Err(e) = self.load_library(code, false, None) {
                self.libraries = saved;
                return Err(e);
            }
        }
        let fresh = std::mem::replace(&mut self.libraries, saved);
        if flush {
            self.libraries = fresh;
            return Ok(());
        }
        for (key, lib) in &fresh.libs {
            if !replace && self.libraries.libs.contains_key(key) {
                return Err(format!("ERR Library {} already exists", lib.name));
            }
        }
        for (key, f) in &fresh.funcs {
            if let Some(old) = self.libraries.funcs.get(key) {
                if !fresh.libs.contains_key(&old.library) {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        for key in fresh.libs.keys() {
            self.delete_library(key);
        }
        self.libraries.libs.extend(fresh.libs);
        self.libraries.funcs.extend(fresh.funcs);
        Ok(())
    }

    /// Remove a library and its functions; false when there was none.
    pub fn delete_library(&mut self, name: &str) -> bool {
        let Some(lib) = self.libraries.libs.remove(&name.to_ascii_lowercase()) else {
            return false;
        };
        for f in lib.functions {
            self.libraries.funcs.remove(&f);
        }
        true
    }
}
