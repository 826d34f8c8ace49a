//! Running one script: `KEYS`/`ARGV`, `redis.call` dispatch under the script's locks, the
//! result, and what it propagates.
//!
//! The script runs inside its command's handler, which holds the shards of its declared keys
//! (`Scope::Script`; a call reaching other shards grows the set first), so each
//! `redis.call` is a nested dispatch on those locks: checked as Redis
//! checks calls from scripts, run by the command's own handler with a context of its own,
//! then its effects are merged into the script's. A script's effects are propagated as the
//! commands it ran (in `MULTI`/`EXEC` when several, unless the script itself runs inside a
//! transaction, whose block already wraps them). Time stands still while it runs.

use super::convert::lua_to_reply;
use crate::engine::acl::Denied;
use crate::engine::batch::Records;
use crate::engine::ctx::{CmdError, Ctx, Effects, ErrKind, Outcome, ReplyError};
use crate::engine::flags;
use crate::engine::locks::Slots;
use crate::engine::table::Scope;
use crate::engine::Engine;
use crate::resp::{Frame, Protocol, ReplyBuf};
use bytes::Bytes;
use mlua::{Function, Lua, Value};
use std::sync::atomic::Ordering;

/// The capacity of a call's reply buffer kept for the script's next call.
const REPLY_KEEP: usize = 64 * 1024;

/// Scripts between two steps of the Lua collector, and the step's size in KB (Redis's
/// `LUA_GC_CYCLE_PERIOD`).
const GC_PERIOD: u32 = 50;

/// What a script may do.
#[derive(Clone, Copy)]
pub struct Mode {
    /// `EVAL_RO`/`EVALSHA_RO` or a `no-writes` script: write commands are refused.
    pub read_only: bool,
    /// A function (`FCALL`): KEYS and ARGV are its arguments, not globals.
    pub function: bool,
    pub flags: super::Flags,
}

fn lua_err(text: &str) -> Frame {
    Frame::Error(text.to_string())
}

/// `redis.acl_check_cmd`'s arguments: strings, or numbers (as Redis formats them).
fn to_args(args: impl Iterator<Item = Value>, n: usize) -> Result<Vec<Bytes>, Frame> {
    if n == 0 {
        return Err(lua_err(
            "ERR Please specify at least one argument for this redis lib call",
        ));
    }
    let mut out = Vec::with_capacity(n);
    for a in args {
        match a {
            Value::String(s) => out.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => out.push(Bytes::from(crate::num::fmt_double(n as f64))),
            Value::Number(n) => out.push(Bytes::from(crate::num::fmt_double(n))),
            _ => {
                return Err(lua_err(
                    "ERR Lua redis lib command arguments must be strings or integers",
                ))
            }
        }
    }
    Ok(out)
}

/// A `redis.call` refused before it ran: counted at once, as Redis counts it (the error
/// is then not counted again if the script returns it), and against the command when known.
fn refuse(engine: &Engine, idx: Option<usize>, text: &str) -> Frame {
    engine.stats.count_error_text(text);
    if let Some(i) = idx {
        engine.stats.per_cmd[i]
            .rejected
            .fetch_add(1, Ordering::Relaxed);
    }
    lua_err(text)
}

/// Whether the script's caller may run command `idx` with `args`.
fn acl_check(ctx: &Ctx, idx: usize, args: &[Bytes]) -> Result<(), Denied> {
    match ctx.engine.acl.get(&ctx.client.user) {
        Some(u) => ctx.engine.acl.check(&u, idx, args),
        None => Err(Denied::Command),
    }
}

/// One `redis.call`: the reply as a frame (an error frame when refused or failed; such an
/// error is already counted in `INFO errorstats`).
fn dispatch(
    ctx: &mut Ctx,
    args: &[Bytes],
    mode: Mode,
    out: &mut ReplyBuf,
    log: &mut Records,
    read: &mut bool,
) -> Frame {
    let engine = ctx.engine;
    let reg = engine.registry;
    let idx = match reg.resolve(args) {
        Ok(i) => i,
        Err(_) => return refuse(engine, None, "ERR Unknown Redis command called from script"),
    };
    let cmd = reg.cmds[idx];
    let argc = args.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        return refuse(
            engine,
            Some(idx),
            "ERR Wrong number of args calling Redis command from script",
        );
    }
    if cmd.flags & flags::NOSCRIPT != 0 {
        return refuse(
            engine,
            Some(idx),
            "ERR This Redis command is not allowed from script",
        );
    }
    if !engine.acl.open_for(ctx.client.user_is_default) {
        if let Err(d) = acl_check(ctx, idx, args) {
            let c = &*ctx.client;
            let user = c.user.clone();
            engine
                .acl
                .log_denied(engine, &c.info, &user, &d, (idx, args), "lua");
            let why = match d {
                Denied::Command => "can't run this command or subcommand",
                Denied::Key(_) => {
                    "can't access at least one of the keys mentioned in the command arguments"
                }
                Denied::Channel(_) => "can't publish to the channel mentioned in the command",
            };
            let text = format!("ERR The user executing the script {why}");
            return refuse(engine, Some(idx), &text);
        }
    }
    // XREAD/XREADGROUP run in scripts, but not with BLOCK (before STREAMS), as in Redis.
    if cmd.flags & flags::BLOCKING != 0
        && args
            .iter()
            .take_while(|a| !a.eq_ignore_ascii_case(b"streams"))
            .any(|a| a.eq_ignore_ascii_case(b"block"))
    {
        let text = format!(
            "ERR {} command is not allowed with BLOCK option from scripts",
            String::from_utf8_lossy(&args[0])
        );
        return refuse(engine, Some(idx), &text);
    }
    if mode.read_only && cmd.flags & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
        return refuse(
            engine,
            Some(idx),
            "ERR Write commands are not allowed from read-only scripts.",
        );
    }
    // Over maxmemory, a command that may grow it is refused unless the script allows it or
    // has already written (it cannot be stopped half way), as in Redis.
    if cmd.flags & flags::DENYOOM != 0
        && !mode.flags.allow_oom
        && !ctx.loading
        && !engine.scripts.wrote.load(Ordering::Relaxed)
        && crate::engine::evict::over_maxmemory(engine)
    {
        return refuse(engine, Some(idx), &crate::engine::errors::OOM.text);
    }
    if cmd.flags & flags::WRITE != 0 && engine.hot.no_good_replicas.load(Ordering::Relaxed) {
        return refuse(engine, Some(idx), &crate::engine::errors::NOREPLICAS.text);
    }
    if cmd.flags & flags::WRITE != 0 {
        // From its first write on, the script can no longer be killed (Redis's rule).
        engine.scripts.wrote.store(true, Ordering::Relaxed);
    }
    if engine.monitors.any() {
        engine.monitors.feed(ctx.client.db, "lua", args);
    }
    // The script holds the shards of its declared keys: a call takes those it needs now,
    // as the dispatcher would lock them for it (`Scope::Script`).
    match cmd.scope {
        Scope::All | Scope::Script => ctx.keys.grow_all(),
        _ => {
            let mut slots = Slots::new();
            crate::engine::batch::slots_for(engine, ctx.client.db, idx, args, &mut slots);
            ctx.keys.grow_slots(&mut slots);
        }
    }
    let db = ctx.client.db;
    let mut fx = Effects {
        logging: ctx.fx.logging,
        track_keys: ctx.fx.track_keys,
        notify: ctx.fx.notify,
        ..Effects::default()
    };
    let started = std::time::Instant::now();
    let result = {
        let mut child = Ctx {
            engine,
            client: &mut *ctx.client,
            out: &mut *out,
            now: ctx.now,
            keys: &mut *ctx.keys,
            fx: &mut fx,
            loading: ctx.loading,
            atomic: true,
            script: true,
        };
        (cmd.handler)(&mut child, args)
    };
    // Commands a script runs count in `INFO commandstats` as Redis counts them.
    let st = &engine.stats.per_cmd[idx];
    st.calls.fetch_add(1, Ordering::Relaxed);
    st.nanos
        .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    ctx.keys.flush_expired_into(Some(log));
    if let Err(e) = result {
        st.failed.fetch_add(1, Ordering::Relaxed);
        engine.stats.count_error(e.kind);
        return Frame::Error(e.text.into_owned());
    }
    merge(ctx, fx, db, args, log);
    *read |= cmd.flags & flags::READONLY != 0;
    let frame = Frame::parse(&out.buf).map_or(Frame::Null, |(f, _)| f);
    out.buf.clear();
    if out.buf.capacity() > REPLY_KEEP {
        out.buf = bytes::BytesMut::new();
    }
    frame
}

/// The script answers the error `{err=text}` (raised or returned): the dispatcher counts it
/// as failed, and counts the error unless the command it came from already did.
fn note_error(ctx: &mut Ctx, t: &mlua::Table, text: &str) {
    let counted = t
        .raw_get::<bool>("ignore_error_stats_update")
        .unwrap_or(false);
    ctx.fx.rare().reply_error = Some(if counted {
        ReplyError::Counted
    } else {
        ReplyError::Text(text.to_string())
    });
}

/// A nested command succeeded: its effects become the script's.
fn merge(ctx: &mut Ctx, mut fx: Effects, db: usize, args: &[Bytes], log: &mut Records) {
    if fx.dirty > 0 {
        ctx.fx.dirty += fx.dirty;
        if fx.logging {
            match fx.records.take() {
                Some(rs) => log.extend(rs.into_iter().map(|r| (db, r))),
                None => log.push((db, args.iter().map(|a| a.to_vec()).collect())),
            }
        }
    }
    ctx.fx.modified.extend(fx.modified.drain(..));
    ctx.fx.notes.append(&mut fx.notes);
    if let Some(rare) = fx.rare.take() {
        let mine = ctx.fx.rare();
        mine.flushed.extend(rare.flushed);
        if rare.swapped.is_some() {
            mine.swapped = rare.swapped;
        }
        mine.make_room |= rare.make_room;
    }
}

/// What the running script's calls need. The VM's dispatch function (made once, by
/// `install`) reaches it through `CURRENT`, which `run` sets for the script's run only, on
/// the thread that runs it; a closure made per run would cost a scope, a new C closure and
/// two registry writes on every script.
struct Call<'c, 'a, 's> {
    ctx: &'c mut Ctx<'a, 's>,
    /// The script's SHA1 or the function's name, the command that runs it and when it
    /// started (Unix ms), should it turn busy (`describe`).
    name: &'c str,
    args: &'c [Bytes],
    started: u64,
    mode: Mode,
    log: Records,
    /// It called a read-only command: a tracking caller may now cache the script's keys.
    read: bool,
    /// The replies of its calls are written here, one after the other (the VM's buffer).
    reply: &'c mut ReplyBuf,
    lua: &'c Lua,
    /// The protocol `redis.setresp` chose.
    resp: &'c std::sync::atomic::AtomicU8,
}

thread_local! {
    static CURRENT: std::cell::Cell<*mut ()> = const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// `CURRENT` pointing at a live `Call` until dropped (on unwinding too).
struct Current;

impl Current {
    fn set(call: &mut Call<'_, '_, '_>) -> Current {
        CURRENT.with(|c| c.set(call as *mut Call<'_, '_, '_> as *mut ()));
        Current
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null_mut()));
    }
}

/// The running script, for `FUNCTION STATS` once it is busy (called from the VM's hook, on
/// the thread that runs it).
pub(super) fn describe() -> Option<super::Running> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        return None;
    }
    // SAFETY: as in `call_from_lua`; the hook runs between the script's instructions, when
    // no call holds the `Call` borrowed.
    let call = unsafe { &*(p as *const Call<'_, '_, '_>) };
    Some(super::Running {
        name: call.name.to_string(),
        command: call.args.to_vec(),
        started: call.started,
        function: call.mode.function,
    })
}

/// Make the VM's dispatch function, which `redis.call`/`redis.pcall` hand their arguments
/// to (`vm::dispatch_args`); `resp` is the protocol `redis.setresp` chose.
pub(super) fn install(lua: &Lua, redis: &mlua::Table) -> mlua::Result<()> {
    // `redis.acl_check_cmd(command, arg…)`: whether the script's caller may run it.
    let check = lua.create_function(|_, args: mlua::Variadic<Value>| {
        let p = CURRENT.with(|c| c.get());
        if p.is_null() {
            return Err(mlua::Error::runtime(
                "redis.acl_check_cmd can only be called inside a script invocation",
            ));
        }
        // SAFETY: as for the dispatch function below.
        let call = unsafe { &*(p as *const Call<'_, '_, '_>) };
        let n = args.len();
        let args = to_args(args.into_iter(), n).map_err(|f| match f {
            Frame::Error(e) => mlua::Error::runtime(e),
            _ => mlua::Error::runtime("ERR"),
        })?;
        let Ok(idx) = call.ctx.engine.registry.resolve(&args) else {
            return Err(mlua::Error::runtime(
                "ERR Invalid command passed to redis.acl_check_cmd()",
            ));
        };
        Ok(acl_check(call.ctx, idx, &args).is_ok())
    })?;
    redis.set("acl_check_cmd", check)?;
    Ok(())
}

/// The arguments of a `redis.call` on the Lua stack (1..=n): strings, or numbers (sent as
/// Redis formats them).
///
/// # Safety
/// `l` is the running script's state.
unsafe fn stack_args(l: *mut mlua::ffi::lua_State, n: i32) -> Result<Vec<Bytes>, Frame> {
    use mlua::ffi;
    if n == 0 {
        return Err(lua_err(
            "ERR Please specify at least one argument for this redis lib call",
        ));
    }
    let mut out = Vec::with_capacity(n as usize);
    for i in 1..=n {
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING => {
                let mut len = 0;
                let p = ffi::lua_tolstring(l, i, &mut len) as *const u8;
                out.push(Bytes::copy_from_slice(std::slice::from_raw_parts(p, len)));
            }
            // `%.17g`, as Redis formats them (1e17 is `1e+17`, -0 keeps its sign).
            ffi::LUA_TNUMBER => {
                out.push(Bytes::from(crate::num::fmt_double(ffi::lua_tonumber(l, i))))
            }
            _ => {
                return Err(lua_err(
                    "ERR Lua redis lib command arguments must be strings or integers",
                ))
            }
        }
    }
    Ok(out)
}

/// `redis.call` (`raise`: its error is raised) and `redis.pcall` (returned), called from
/// Lua with the command on the stack: runs it for the script running now and pushes the
/// reply. Returns what a `lua_CFunction` returns.
///
/// # Safety
/// Called by Lua as a C function. Nothing with a destructor is alive when it raises.
pub(super) unsafe fn call_from_lua(l: *mut mlua::ffi::lua_State, raise: bool) -> std::ffi::c_int {
    use mlua::ffi;
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        ffi::lua_pushstring(
            l,
            c"redis.call is only available while a script runs".as_ptr(),
        );
        ffi::lua_error(l);
    }
    // SAFETY: `run` set CURRENT to its `Call`, alive and not otherwise borrowed while the
    // script runs on this thread, and clears it before the `Call` goes; the VM runs one
    // script at a time (scripts cannot run scripts).
    let call = &mut *(p as *mut Call<'_, '_, '_>);
    let n = ffi::lua_gettop(l);
    let resp3 = call.resp.load(Ordering::Relaxed) == 3;
    let ok = {
        let (frame, counted) = match stack_args(l, n) {
            Ok(a) => {
                let run = std::panic::AssertUnwindSafe(|| {
                    call.reply.proto = if resp3 {
                        Protocol::Resp3
                    } else {
                        Protocol::Resp2
                    };
                    dispatch(
                        call.ctx,
                        &a,
                        call.mode,
                        call.reply,
                        &mut call.log,
                        &mut call.read,
                    )
                });
                let f = std::panic::catch_unwind(run)
                    .unwrap_or_else(|_| lua_err("ERR internal error in the called command"));
                (f, true)
            }
            Err(e) => (e, false),
        };
        let ok = !matches!(frame, Frame::Error(_));
        // The reply is built with the limit lifted (the dataset bounds it, not the VM), unless
        // it is a number or a nil, which take no memory: no change of the limit then, for the
        // many calls that answer so (a change locks mlua's state twice).
        if matches!(frame, Frame::Integer(_) | Frame::Null) {
            super::convert::push_frame(l, frame, resp3, false);
        } else {
            let _off = super::vm::Unlimited::new(call.lua);
            super::convert::push_frame(l, frame, resp3, !ok && counted);
        }
        ok
    };
    if !ok && raise {
        ffi::lua_error(l);
    }
    1
}

/// Run the compiled script `func` (named `sha`) of the locked `vm` for the command `args`
/// (`EVAL body n keys… argv…`, `FCALL name n …`), writing its result (or its error) as the
/// reply.
pub fn run(
    ctx: &mut Ctx,
    vm: &super::vm::Vm,
    sha: &str,
    func: &Function,
    args: &[Bytes],
    numkeys: usize,
    mode: Mode,
) -> Outcome {
    let (keys, argv) = args[3..].split_at(numkeys);
    let engine = ctx.engine;
    let scripts = &engine.scripts;
    let lua: &Lua = &vm.lua;
    let to_table = |items: &[Bytes]| -> mlua::Result<mlua::Table> {
        let t = lua.create_table_with_capacity(items.len(), 0)?;
        for (i, a) in items.iter().enumerate() {
            t.raw_set(i + 1, lua.create_string(a)?)?;
        }
        Ok(t)
    };
    // A function gets KEYS and ARGV as arguments; a script's are set as it starts (`enter`).
    let tables = if mode.function {
        let _off = super::vm::Unlimited::new(lua);
        match to_table(keys).and_then(|k| Ok((k, to_table(argv)?))) {
            Ok(t) => Some(t),
            Err(e) => {
                return Err(CmdError::owned(
                    ErrKind::Err,
                    format!("ERR Error running script {sha}, {e}"),
                ))
            }
        }
    } else {
        None
    };
    vm.resp.store(2, Ordering::Relaxed);
    scripts.kill.store(false, Ordering::Relaxed);
    // The command's clock reading, unless it is a transaction's (which stands still).
    let started = if ctx.now == 0 || ctx.atomic {
        engine.store.now().max(1)
    } else {
        ctx.now
    };
    scripts.wrote.store(false, Ordering::Relaxed);
    scripts.kind.store(
        if mode.function {
            super::FUNCTION
        } else {
            super::EVAL
        },
        Ordering::Relaxed,
    );
    let limit = engine.hot.busy_reply_threshold.load(Ordering::Relaxed);
    scripts.deadline.store(
        if limit == 0 { 0 } else { started + limit },
        Ordering::Relaxed,
    );
    let caller_db = ctx.client.db;
    let mut reply = vm.reply.borrow_mut();
    let mut call = Call {
        ctx: &mut *ctx,
        name: sha,
        args,
        started,
        mode,
        log: Records::new(),
        read: false,
        reply: &mut reply,
        lua,
        resp: &vm.resp,
    };
    let result = {
        let _current = Current::set(&mut call);
        match tables {
            Some((keys_t, argv_t)) => vm.run.call::<(bool, Value)>((func, keys_t, argv_t)),
            None => super::enter::enter(vm, func, keys, argv),
        }
    };
    let log = call.log;
    if call.read && ctx.client.tracking.is_some() {
        // As Redis: the keys the script declared, once it read anything.
        let (id, caching) = (ctx.client.info.id, ctx.client.caching);
        engine.tracking_remember_keys(id, caching, keys.iter());
    }
    scripts.deadline.store(0, Ordering::Relaxed);
    scripts.kind.store(super::NONE, Ordering::Relaxed);
    *scripts.running.lock() = None;
    // SELECT inside a script does not leak to its caller.
    ctx.client.db = caller_db;
    let out_resp3 = vm.resp.load(Ordering::Relaxed) == 3;
    let failed = !matches!(result, Ok((true, _)));
    match result {
        Ok((true, v)) => {
            // A returned `{err=…}` is an error reply too.
            if let Value::Table(t) = &v {
                if let Ok(e) = t.raw_get::<String>("err") {
                    note_error(ctx, t, &e);
                }
            }
            lua_to_reply(&v, ctx.out, out_resp3)
        }
        Ok((false, Value::Table(t))) => {
            let msg: String = t
                .raw_get("err")
                .unwrap_or_else(|_| "ERR unknown error".into());
            let mut text = msg.trim_start_matches('-').to_string();
            note_error(ctx, &t, &text);
            if let (Ok(source), Ok(line)) = (
                t.raw_get::<String>("source"),
                t.raw_get::<mlua::Value>("line"),
            ) {
                let line = match line {
                    Value::Integer(n) => n.to_string(),
                    Value::Number(n) => (n as i64).to_string(),
                    Value::String(s) => s.to_string_lossy(),
                    _ => String::new(),
                };
                text.push_str(&format!(" script: {sha}, on {source}:{line}."));
            }
            ctx.out.error(&text);
        }
        Ok((false, other)) => {
            ctx.fx.rare().reply_error = Some(ReplyError::Text("ERR".into()));
            ctx.out.error(&format!(
                "ERR Error running script {sha}, {}",
                match other {
                    Value::String(s) => s.to_string_lossy(),
                    _ => "execution failure".to_string(),
                }
            ))
        }
        Err(e) => {
            ctx.fx.rare().reply_error = Some(ReplyError::Text("ERR".into()));
            ctx.out
                .error(&format!("ERR Error running script {sha}, {e}"))
        }
    }
    if failed {
        // A failed script may leave garbage behind (up to the VM's limit): collect it now.
        let _ = lua.gc_collect();
    } else {
        vm.runs.set(vm.runs.get().wrapping_add(1));
        if vm.runs.get().is_multiple_of(GC_PERIOD) {
            // As Redis: a step of the collector every so many scripts keeps the VM small
            // without a full cycle's latency (or a step's cost on every script).
            // SAFETY: lua_gc on the VM's own state, with nothing pushed or popped.
            let _ = unsafe {
                lua.exec_raw::<()>((), |l| {
                    mlua::ffi::lua_gc(l, mlua::ffi::LUA_GCSTEP, GC_PERIOD as i32);
                })
            };
        }
    }
    // The script's effects, as the commands it ran (expired keys' DELs included, which
    // count as a change so they are propagated).
    if !log.is_empty() {
        ctx.fx.dirty = ctx.fx.dirty.max(1);
        if ctx.atomic || log.len() == 1 {
            ctx.fx.tagged = Some(log);
        } else {
            let first = log[0].0;
            let mut block = Records::with_capacity(log.len() + 2);
            block.push((first, vec![b"MULTI".to_vec()]));
            block.extend(log);
            block.push((first, vec![b"EXEC".to_vec()]));
            ctx.fx.tagged = Some(block);
        }
    }
    Ok(())
}
