//! The Lua VM and Redis's sandbox around it.
//!
//! - Libraries: base (without `loadfile`/`dofile`), `string`, `table`, `math`, and Redis's
//!   `cjson`, `cmsgpack`, `bit` and `struct` (see `lib`); no `os`,
//!   `io`, `package`, `require` or `debug` (loaded for the error handler only).
//! - Scripts run in an environment whose globals are read-only: assigning a global fails
//!   with `Attempt to modify a readonly table`, reading an unknown one with `Script attempted
//!   to access nonexistent global variable '…'`, as in Redis 7.
//! - `redis.call`/`redis.pcall` are C functions that hand their arguments to the dispatch
//!   function `run::install` makes, which runs them for the script running now.
//! - Errors are caught by a handler that records where in the script they happened, so the
//!   reply reads `-ERR user_script:1: … script: <sha>, on @user_script:1.` as Redis's does.

use super::{Script, LUA_MEMORY_LIMIT};
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// Instructions between two looks at `SCRIPT KILL` and the busy clock (often enough that a
/// script catching the error with `pcall` in a loop is hit outside the `pcall` soon).
pub const HOOK_EVERY: u32 = 1_000;

/// How long a library's load-time code may run under `FUNCTION LOAD` (Redis's
/// `LOAD_TIMEOUT_MS`): it should only register functions. Replay of the AOF has no limit.
pub const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Run once when the VM starts: builds the sandbox and returns what the runner needs.
const SETUP: &str = r##"
local dbg = debug
local env = {}
for k, v in pairs(_G) do env[k] = v end
env.loadfile = nil
env.dofile = nil
env.debug = nil
env.print = nil
-- pcall/xpcall must not swallow the stop of a script (SCRIPT KILL, FUNCTION KILL): the error is
-- raised again past every level, so `while 1 do pcall(f) end` ends too.
local raw_pcall, raw_xpcall, unpack_ = pcall, xpcall, unpack
local function stopping(e)
  if type(e) ~= "userdata" then return false end
  local s = tostring(e)
  return s:find("Script killed by user", 1, true) ~= nil
end
local function rethrow(ok, ...)
  if not ok and stopping((...)) then error((...), 0) end
  return ok, ...
end
-- Redis's pcall gives the message of a `{err = …}` error (what redis.call raises) rather than
-- the table, as before Redis 7; a table without a string `err` comes back with that field.
local function message(ok, ...)
  if ok then return ok, ... end
  local e = (...)
  if stopping(e) then error(e, 0) end
  if type(e) ~= "table" then return false, ... end
  local m = e.err
  if type(m) == "string" or type(m) == "number" then return false, m end
  return false, e, m
end
env.pcall = function(...)
  -- Redis's pcall calls whatever is above the stack when given nothing.
  if select("#", ...) == 0 then return false, "attempt to call a nil value" end
  return message(raw_pcall(...))
end
env.xpcall = function(f, h) return rethrow(raw_xpcall(f, function(e)
  if stopping(e) then return e end
  return h(e)
end)) end
-- No binary chunks (as Redis): loadstring of bytecode gives nil.
local raw_loadstring = loadstring
env.loadstring = function(s, ...)
  if type(s) == "string" and s:byte(1) == 27 then return nil, "binary chunks are not allowed" end
  return raw_loadstring(s, ...)
end
local hooks = {}
local redis = {}
env.redis = redis
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
redis.REDIS_VERSION = "7.0.15"
redis.REDIS_VERSION_NUM = 458767
redis.status_reply = function(s)
  if type(s) ~= "string" then error("wrong number or type of arguments", 2) end
  return {ok = s}
end
redis.error_reply = function(e)
  if type(e) ~= "string" then error("wrong number or type of arguments", 2) end
  if e:sub(1, 1) ~= "-" then e = "-" .. e end
  local sp = e:find(" ", 1, true)
  local code, msg
  if sp then code, msg = e:sub(2, sp - 1), e:sub(sp + 1) else code, msg = "ERR", e:sub(2) end
  msg = msg:gsub("^[\r\n]+", ""):gsub("[\r\n]+$", "")
  return {err = code .. " " .. msg}
end
redis.set_repl = function(n)
  if type(n) ~= "number" then error("wrong number or type of arguments", 2) end
  if n < 0 or n > 3 then error("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.", 2) end
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.log = function(level, ...)
  if type(level) ~= "number" then error("First argument must be a number (log level).", 2) end
  if level < 0 or level > 3 then error("Invalid debug level.", 2) end
end
-- Redis's read-only tables: the globals, `redis` and the libraries cannot be changed, nor
-- their metatables replaced (also through setmetatable and rawset).
local readonly = setmetatable({}, {__mode = "k"})
local raw_setmetatable, raw_rawset = setmetatable, rawset
local function ro_error() error("Attempt to modify a readonly table", 2) end
local ro_meta_view = raw_setmetatable({}, {__newindex = ro_error, __metatable = false})
readonly[ro_meta_view] = true
local function protect(t)
  local p = raw_setmetatable({}, {__index = t, __newindex = ro_error, __metatable = ro_meta_view})
  readonly[p] = true
  return p
end
env.setmetatable = function(t, mt)
  if readonly[t] then error("Attempt to modify a readonly table", 0) end
  return raw_setmetatable(t, mt)
end
env.rawset = function(t, k, v)
  if readonly[t] then error("Attempt to modify a readonly table", 0) end
  return raw_rawset(t, k, v)
end
for _, lib in ipairs({"string", "table", "math", "cjson", "cmsgpack", "bit", "struct"}) do
  env[lib] = protect(env[lib])
end
env.redis = protect(redis)
raw_setmetatable(env, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
local proxy = raw_setmetatable({}, {
  __index = env,
  __newindex = ro_error,
  __metatable = ro_meta_view,
})
readonly[proxy] = true
env._G = proxy
local function handler(err)
  local lvl = 2
  local i = dbg.getinfo(lvl, "Sl")
  while i and i.source ~= "@user_script" and i.source ~= "@user_function" do
    lvl = lvl + 1
    i = dbg.getinfo(lvl, "Sl")
  end
  if type(err) == "userdata" then
    -- Raised from Rust (mlua): drop its decoration; keep a leading error code.
    local s = tostring(err)
    s = (s:gsub("^runtime error: ", ""))
    s = (s:gsub("\nstack traceback:.*$", ""))
    if s:match("^BUSY ") or s:match("^ERR ") then err = {err = s} else err = {err = "ERR " .. s} end
  elseif type(err) ~= "table" then
    err = {err = "ERR " .. tostring(err)}
  end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end
local unpack = unpack
local function run(f, ...)
  local n = select("#", ...)
  if n == 0 then return xpcall(f, handler) end
  local args = {...}
  return xpcall(function() return f(unpack(args, 1, n)) end, handler)
end
-- While a library loads: its own `redis`, with register_function (see `function.rs`).
-- What a library's code sees while it loads, as in Redis: `redis` with register_function, log
-- and the constants; anything else (even `string` or `math`) is an unknown global.
-- Its functions, run later, see the scripts' full environment (`hooks.loading` tells which).
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local loading_redis = {
  register_function = function(...)
    -- A function that kept a reference to this table may call it later, when it runs.
    if not hooks.loading then
      error({err = "ERR redis.register_function can only be called on FUNCTION LOAD command"})
    end
    local e = hooks.register(...)
    if e then error({err = e}) end
  end,
  log = redis.log,
}
for k, v in pairs(redis) do
  if type(v) ~= "function" then loading_redis[k] = v end
end
raw_setmetatable(loading_redis, {__index = missing})
local load_time = raw_setmetatable({redis = protect(loading_redis)}, {__index = missing})
local load_env = raw_setmetatable({}, {
  __index = function(_, k)
    if hooks.loading then
      local v = rawget(load_time, k)
      if v == nil then
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end
      return v
    end
    return env[k]
  end,
  __newindex = ro_error,
  __metatable = ro_meta_view,
})
readonly[load_env] = true
return env, proxy, hooks, redis, run, load_env
"##;

/// `redis.call(...)`: the reply, or its error (a `{err=…}` table) raised.
unsafe extern "C-unwind" fn raw_call(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    super::run::call_from_lua(l, true)
}

/// `redis.pcall(...)`: the reply, or its error (a `{err=…}` table) returned.
unsafe extern "C-unwind" fn raw_pcall(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    super::run::call_from_lua(l, false)
}

/// Lifts the VM's memory limit while the server itself builds Lua values (a script's
/// arguments, the replies of its calls), whose sizes the request or the dataset bound: mlua
/// then skips wrapping each of its calls in a protected call (a measured part of every
/// script's cost). The limit is back, for the script's own code, once this is dropped.
pub struct Unlimited<'a>(&'a Lua);

impl<'a> Unlimited<'a> {
    pub fn new(lua: &'a Lua) -> Unlimited<'a> {
        let _ = lua.set_memory_limit(0);
        Unlimited(lua)
    }
}

impl Drop for Unlimited<'_> {
    fn drop(&mut self) {
        let _ = self.0.set_memory_limit(LUA_MEMORY_LIMIT);
    }
}

pub struct Vm {
    pub lua: Lua,
    /// By SHA1 (ahash: the map is looked up on every `EVALSHA`).
    pub scripts: HashMap<String, Script, ahash::RandomState>,
    /// The scripts' globals (KEYS and ARGV are set here) and the read-only view they see.
    pub env: Table,
    proxy: Table,
    /// `hooks.register`/`hooks.loading` are set while a library loads.
    pub hooks: Table,
    /// `xpcall` of a script with the error handler: returns (ok, value).
    pub run: Function,
    /// The protocol `redis.setresp` chose for the running script's `redis.call` replies.
    pub resp: Arc<AtomicU8>,
    /// The environment a library's code runs in while it loads (`redis.register_function`).
    pub load_env: Table,
    /// Function libraries (`FUNCTION LOAD`).
    pub libraries: super::function::Libraries,
    /// Where a script's calls write their replies (kept from one script to the next).
    pub reply: std::cell::RefCell<crate::resp::ReplyBuf>,
    /// Scripts run so far (their count paces the collector's steps).
    pub runs: std::cell::Cell<u32>,
    /// When the library code loading now must have finished (`LOAD_TIMEOUT`), if it is limited.
    pub load_deadline: Arc<parking_lot::Mutex<Option<std::time::Instant>>>,
}

impl Vm {
    pub fn new(
        kill: Arc<AtomicBool>,
        busy_at: Arc<AtomicU64>,
        running: Arc<parking_lot::Mutex<Option<super::Running>>>,
    ) -> mlua::Result<Vm> {
        // `debug` is loaded for the error handler only: the setup keeps it in a local and
        // scripts never see it (hence the unsafe constructor, which allows loading it).
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::default(),
            )
        };
        lua.set_memory_limit(LUA_MEMORY_LIMIT)?;
        // cjson, cmsgpack, bit and struct, as globals the setup copies and protects.
        super::lib::open(&lua)?;
        let (env, proxy, hooks, redis, run, load_env): (
            Table,
            Table,
            Table,
            Table,
            Function,
            Table,
        ) = lua.load(SETUP).set_name("@redis_setup").eval()?;
        redis.set(
            "sha1hex",
            // One argument, as Lua's `lua_tolstring` reads it: a number as `%.14g`, anything
            // else but a string (nil included) as "".
            lua.create_function(|_, a: mlua::Variadic<Value>| match a.as_slice() {
                [Value::String(s)] => Ok(super::sha1hex(&s.as_bytes())),
                [Value::Integer(n)] => {
                    Ok(super::sha1hex(super::lib::fmt_g(*n as f64, 14).as_bytes()))
                }
                [Value::Number(n)] => Ok(super::sha1hex(super::lib::fmt_g(*n, 14).as_bytes())),
                [_] => Ok(super::sha1hex(b"")),
                _ => Err(mlua::Error::runtime("wrong number of arguments")),
            })?,
        )?;
        // `redis.call` is a C function (as in Redis) so that `return redis.call(…)` is not a
        // tail call: the script's frame stays for the error handler to name its line.
        redis.set("call", unsafe { lua.create_c_function(raw_call)? })?;
        redis.set("pcall", unsafe { lua.create_c_function(raw_pcall)? })?;
        let resp = Arc::new(AtomicU8::new(2));
        super::run::install(&lua, &redis)?;
        super::enter::install(&lua)?;
        let r = resp.clone();
        redis.set(
            "setresp",
            lua.create_function(move |_, n: Value| {
                let v = match n {
                    Value::Integer(i) => i as f64,
                    Value::Number(f) => f,
                    _ => {
                        return Err(mlua::Error::runtime(
                            "redis.setresp() requires one argument.",
                        ))
                    }
                };
                if v != 2.0 && v != 3.0 {
                    return Err(mlua::Error::runtime("RESP version must be 2 or 3."));
                }
                r.store(v as u8, Ordering::Relaxed);
                Ok(())
            })?,
        )?;
        // A script that runs on and on is stopped here when SCRIPT KILL or FUNCTION KILL asks
        // (which they do only once it is past busy-reply-threshold and has not written), and
        // a library's load-time code once it passes its deadline.
        let load_deadline = Arc::new(parking_lot::Mutex::new(None));
        let deadline = load_deadline.clone();
        lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                if kill.load(Ordering::Relaxed) {
                    return Err(mlua::Error::runtime(
                        "ERR Script killed by user with SCRIPT KILL...",
                    ));
                }
                if let Some(d) = *deadline.lock() {
                    if std::time::Instant::now() > d {
                        return Err(mlua::Error::runtime("ERR FUNCTION LOAD timeout"));
                    }
                }
                let at = busy_at.load(Ordering::Relaxed);
                if at != 0 && super::unix_ms() > at {
                    let mut r = running.lock();
                    if r.is_none() {
                        *r = super::run::describe();
                    }
                    drop(r);
                    super::handoff::busy(at);
                }
                Ok(mlua::VmState::Continue)
            },
        )?;
        Ok(Vm {
            lua,
            scripts: HashMap::default(),
            env,
            proxy,
            hooks,
            run,
            resp,
            load_env,
            libraries: Default::default(),
            load_deadline,
            runs: Default::default(),
            reply: std::cell::RefCell::new(crate::resp::ReplyBuf::new(
                crate::resp::Protocol::Resp2,
            )),
        })
    }

    /// Compile a script body as Redis does (`@user_script`, text only, read-only globals).
    pub fn compile(&self, body: &[u8]) -> Result<Function, String> {
        self.lua
            .load(body)
            .set_name("@user_script")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.proxy.clone())
            .into_function()
            .map_err(|e| {
                let msg = match e {
                    mlua::Error::SyntaxError { message, .. } => message,
                    other => other.to_string(),
                };
                format!("ERR Error compiling script (new function): {msg}")
            })
    }

    /// Bytes the VM holds.
    pub fn memory(&self) -> usize {
        self.lua.used_memory()
    }
}
