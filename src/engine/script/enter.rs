//! Entering a script: its `KEYS` and `ARGV` are set and it is run in one protected call
//! into the VM, made here with Lua's own API rather than through mlua, whose calls
//! (`exec_raw`, `Function::call`) each lock its state again, push an error handler and leave
//! C closures behind as garbage, which the collector then paid for on every script.

use bytes::Bytes;
use mlua::{Function, Lua, Value};

/// Arguments of a script past which its `KEYS` and `ARGV` are built with the VM's memory
/// limit lifted (the request bounds them, not the limit); smaller ones are built under it,
/// which spares two changes of the limit on every script.
const LIFT_LIMIT_ABOVE: usize = 64 * 1024;

/// `KEYS` and `ARGV` tables are reused for scripts of at most this many of each.
const REUSE_ARGS_UP_TO: usize = 64;

/// What `enter_c` needs, passed to it as a light userdata.
struct Enter<'a> {
    lua: &'a Lua,
    keys: &'a [Bytes],
    argv: &'a [Bytes],
    big: bool,
}

/// The registry key of `enter_c` (made once per VM by `install`).
static ENTER_KEY: u8 = 0;

/// Keep `enter_c` in the VM's registry: pushed from there it is no new closure per script.
pub(super) fn install(lua: &Lua) -> mlua::Result<()> {
    // SAFETY: pushes a C function and stores it in the registry, protected by `exec_raw`.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            mlua::ffi::lua_pushcfunction(l, enter_c);
            mlua::ffi::lua_rawsetp(
                l,
                mlua::ffi::LUA_REGISTRYINDEX,
                &ENTER_KEY as *const u8 as *const std::ffi::c_void,
            );
        })
    }
}

/// Called protected with (params, env, run, func): sets `KEYS` and `ARGV` in `env` and
/// calls `run(func)`, leaving its two results.
///
/// # Safety
/// Called by `enter` through `lua_pcall` only. Nothing here has a destructor, so an error
/// (out of memory under the limit) unwinds nothing of ours; with the limit lifted, the pushes
/// cannot fail. The script's own errors are caught by `run`'s `xpcall`.
unsafe extern "C-unwind" fn enter_c(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    let p = &*(ffi::lua_touserdata(l, 1) as *const Enter<'_>);
    if p.big {
        let _ = p.lua.set_memory_limit(0);
    }
    for (name, items) in [(c"KEYS", p.keys), (c"ARGV", p.argv)] {
        // The last script's table, emptied, unless either is large: two tables less of
        // garbage per script. (Scripts cannot keep them: their globals are read-only.)
        ffi::lua_pushstring(l, name.as_ptr());
        ffi::lua_rawget(l, 2);
        let reuse = ffi::lua_type(l, -1) == ffi::LUA_TTABLE
            && items.len() <= REUSE_ARGS_UP_TO
            && ffi::lua_objlen(l, -1) <= REUSE_ARGS_UP_TO;
        if reuse {
            // Whatever the script put there goes too (clearing fields while traversing is
            // allowed).
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, -2) != 0 {
                ffi::lua_pop(l, 1);
                ffi::lua_pushvalue(l, -1);
                ffi::lua_pushnil(l);
                ffi::lua_rawset(l, -4);
            }
        } else {
            // A new table, set in `env` before it is filled (it stays on the stack).
            ffi::lua_pop(l, 1);
            ffi::lua_createtable(l, items.len().min(1 << 24) as i32, 0);
            ffi::lua_pushstring(l, name.as_ptr());
            ffi::lua_pushvalue(l, -2);
            ffi::lua_rawset(l, 2);
        }
        for (i, a) in items.iter().enumerate() {
            ffi::lua_pushlstring(l, a.as_ptr().cast(), a.len());
            ffi::lua_rawseti(l, -2, (i + 1) as _);
        }
        ffi::lua_pop(l, 1);
    }
    if p.big {
        let _ = p.lua.set_memory_limit(super::LUA_MEMORY_LIMIT);
    }
    ffi::lua_call(l, 1, 2);
    2
}

/// Set `KEYS` and `ARGV` and run the script `func`: (true, result) or (false, error), from
/// the VM's `run`.
pub(super) fn enter(
    vm: &super::vm::Vm,
    func: &Function,
    keys: &[Bytes],
    argv: &[Bytes],
) -> mlua::Result<(bool, Value)> {
    use mlua::ffi;
    let lua = &vm.lua;
    let params = Enter {
        lua,
        keys,
        argv,
        big: keys.iter().chain(argv).map(|a| a.len()).sum::<usize>() > LIFT_LIMIT_ABOVE,
    };
    lua.exec_raw_lua(|raw| {
        // SAFETY: mlua's state, locked by `exec_raw_lua`; the stack is put back as found.
        unsafe {
            let l = raw.state();
            let base = ffi::lua_gettop(l);
            if ffi::lua_checkstack(l, 8) == 0 {
                return Err(mlua::Error::StackError);
            }
            ffi::lua_rawgetp(
                l,
                ffi::LUA_REGISTRYINDEX,
                &ENTER_KEY as *const u8 as *const std::ffi::c_void,
            );
            ffi::lua_pushlightuserdata(l, &params as *const Enter<'_> as *mut std::ffi::c_void);
            let pushed = raw
                .push(&vm.env)
                .and_then(|_| raw.push(&vm.run))
                .and_then(|_| raw.push(func));
            if let Err(e) = pushed {
                ffi::lua_settop(l, base);
                return Err(e);
            }
            let rc = ffi::lua_pcall(l, 4, 2, 0);
            let out = if rc != 0 {
                let mut len = 0;
                let p = ffi::lua_tolstring(l, -1, &mut len);
                let msg = if p.is_null() {
                    "error running the script".to_string()
                } else {
                    String::from_utf8_lossy(std::slice::from_raw_parts(p.cast(), len)).into_owned()
                };
                Err(if rc == ffi::LUA_ERRMEM {
                    mlua::Error::MemoryError(msg)
                } else {
                    mlua::Error::RuntimeError(msg)
                })
            } else {
                let v = raw.pop_value();
                Ok((ffi::lua_toboolean(l, -1) != 0, v))
            };
            ffi::lua_settop(l, base);
            out
        }
    })
}
