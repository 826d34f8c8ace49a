//! Scripting commands: EVAL, EVALSHA, their read-only forms, and SCRIPT. The VM, the
//! sandbox and the runner are `engine::script`.

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::ctx::{CmdError, ErrKind};
use crate::engine::script::run::{run, Mode};
use crate::engine::table::{KeySpec, Scope};
use crate::num::parse_i64;
use bytes::Bytes;

const NOSCRIPT_ERR: CmdError = CmdError::new(
    ErrKind::NoScript,
    "NOSCRIPT No matching script. Please use EVAL.",
);

/// The `numkeys` argument, checked against the arguments that follow it.
fn numkeys(args: &[Bytes]) -> Result<usize, CmdError> {
    let n = parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    if n > args.len() as i64 - 3 {
        return Err(error::text(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(error::text("ERR Number of keys can't be negative"));
    }
    Ok(n as usize)
}

fn eval_generic(ctx: &mut Ctx, args: &[Bytes], by_sha: bool, read_only: bool) -> Outcome {
    // Monitors see the script's command before the commands it runs (the dispatcher
    // leaves these commands to their handler).
    if ctx.engine.monitors.any() {
        let addr = ctx.client.info.addr.clone();
        ctx.engine.monitors.feed(ctx.client.db, &addr, args);
    }
    if by_sha && args[1].len() != 40 {
        return Err(NOSCRIPT_ERR);
    }
    let n = numkeys(args)?;
    let scripts = &ctx.engine.scripts;
    let mut vm = scripts.vm.lock();
    let sha: std::borrow::Cow<str> = if by_sha {
        match std::str::from_utf8(&args[1]) {
            Ok(s) if !s.bytes().any(|b| b.is_ascii_uppercase()) => s.into(),
            _ => String::from_utf8_lossy(&args[1])
                .to_ascii_lowercase()
                .into(),
        }
    } else {
        scripts
            .load(&mut vm, &args[1])
            .map_err(|e| CmdError::owned(ErrKind::Err, e))?
            .into()
    };
    let Some(script) = vm.scripts.get(&*sha) else {
        return Err(NOSCRIPT_ERR);
    };
    let flags = script.flags;
    flags.check(ctx.engine, read_only)?;
    let mode = Mode {
        read_only: read_only || flags.no_writes,
        function: false,
        flags,
    };
    run(ctx, &vm, &sha, &script.func, args, n, mode)
}

fn eval(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    eval_generic(ctx, args, false, false)
}
fn evalsha(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    eval_generic(ctx, args, true, false)
}
fn eval_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    eval_generic(ctx, args, false, true)
}
fn evalsha_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    eval_generic(ctx, args, true, true)
}

/// `SCRIPT LOAD script`
fn script_load(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let scripts = &ctx.engine.scripts;
    let sha = {
        let mut vm = scripts.vm.lock();
        scripts
            .load(&mut vm, &args[2])
            .map_err(|e| CmdError::owned(ErrKind::Err, e))?
    };
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

/// `SCRIPT EXISTS sha [sha ...]`
fn script_exists(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let found: Vec<bool> = {
        let vm = ctx.engine.scripts.vm.lock();
        args[2..]
            .iter()
            .map(|s| {
                vm.scripts
                    .contains_key(&String::from_utf8_lossy(s).to_ascii_lowercase())
            })
            .collect()
    };
    ctx.out.array(found.len());
    for f in found {
        ctx.out.int(f as i64);
    }
    Ok(())
}

/// `SCRIPT FLUSH [ASYNC|SYNC]`
fn script_flush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match args.get(2) {
        None => {}
        Some(a) if args.len() == 3 && (is(a, "sync") || is(a, "async")) => {}
        Some(_) => {
            return Err(error::text(
                "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
            ))
        }
    }
    ctx.engine.scripts.flush();
    ctx.out.ok();
    Ok(())
}

/// `SCRIPT KILL`: a script runs to its end before another command is served here, so there
/// is never one to kill when this arrives.
fn script_kill(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.engine.scripts.kill(false).map_err(kill_error)?;
    ctx.out.ok();
    Ok(())
}

/// A refused `SCRIPT KILL`/`FUNCTION KILL`, counted under its own code as Redis counts it.
pub fn kill_error(text: &'static str) -> CmdError {
    let kind = if text.starts_with("BUSY") {
        ErrKind::Busy
    } else {
        ErrKind::Err
    };
    CmdError::new(kind, text)
}

/// `SCRIPT DEBUG YES|SYNC|NO`: `NO` (the normal mode) is accepted; the Lua debugger that
/// `YES` and `SYNC` start is not supported, and says so.
fn script_debug(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    // Redis refuses it with replies still unsent (in a pipeline, or in EXEC).
    if !ctx.out.buf.is_empty() {
        return Err(error::text(
            "ERR SCRIPT DEBUG must be called outside a pipeline",
        ));
    }
    let mode = &args[2];
    if mode.eq_ignore_ascii_case(b"no") {
        ctx.out.ok();
        Ok(())
    } else if mode.eq_ignore_ascii_case(b"yes") || mode.eq_ignore_ascii_case(b"sync") {
        Err(error::text(
            "ERR SCRIPT DEBUG YES|SYNC: ferrokv has no Lua debugger",
        ))
    } else {
        Err(error::text("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
    }
}

fn script_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

static EVAL_KEYS: &[KeySpec] = &[KeySpec::numkeys(2)];
const S: u32 = NOSCRIPT | STALE | MAY_REPLICATE | NO_MANDATORY_KEYS | SKIP_MONITOR;

static SCRIPT_SUBS: &[Cmd] = &[
    Cmd::new("debug", 3, NOSCRIPT, "scripting", script_debug)
        .doc("Set the debug mode for executed scripts.", "3.2.0"),
    Cmd::new("load", 3, NOSCRIPT | STALE, "scripting", script_load).doc(
        "Loads a server-side Lua script to the script cache.",
        "2.6.0",
    ),
    Cmd::new("exists", -3, NOSCRIPT, "scripting", script_exists).doc(
        "Determines whether server-side Lua scripts exist in the script cache.",
        "2.6.0",
    ),
    Cmd::new("flush", -2, NOSCRIPT, "scripting", script_flush).doc(
        "Removes all server-side Lua scripts from the script cache.",
        "2.6.0",
    ),
    Cmd::new("kill", 2, NOSCRIPT | ALLOW_BUSY, "scripting", script_kill).doc(
        "Terminates a server-side Lua script during execution.",
        "2.6.0",
    ),
    Cmd::new("help", 2, LOADING | STALE, "scripting", script_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("eval", -3, S | MOVABLEKEYS | SCRIPT, "scripting", eval)
        .key_specs(EVAL_KEYS)
        .scope(Scope::Script)
        .doc("Executes a server-side Lua script.", "2.6.0"),
    Cmd::new(
        "evalsha",
        -3,
        S | MOVABLEKEYS | SCRIPT,
        "scripting",
        evalsha,
    )
    .key_specs(EVAL_KEYS)
    .scope(Scope::Script)
    .doc("Executes a server-side Lua script by SHA1 digest.", "2.6.0"),
    Cmd::new(
        "eval_ro",
        -3,
        NOSCRIPT | STALE | READONLY | MOVABLEKEYS | SCRIPT | NO_MANDATORY_KEYS | SKIP_MONITOR,
        "scripting",
        eval_ro,
    )
    .key_specs(EVAL_KEYS)
    .scope(Scope::Script)
    .doc("Executes a read-only server-side Lua script.", "7.0.0"),
    Cmd::new(
        "evalsha_ro",
        -3,
        NOSCRIPT | STALE | READONLY | MOVABLEKEYS | SCRIPT | NO_MANDATORY_KEYS | SKIP_MONITOR,
        "scripting",
        evalsha_ro,
    )
    .key_specs(EVAL_KEYS)
    .scope(Scope::Script)
    .doc(
        "Executes a read-only server-side Lua script by SHA1 digest.",
        "7.0.0",
    ),
    Cmd::new("script", -2, 0, "scripting", container)
        .subs(SCRIPT_SUBS)
        .doc("A container for Lua scripts management commands.", "2.6.0"),
];
