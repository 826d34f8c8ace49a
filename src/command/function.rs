//! Redis 7 functions: FUNCTION LOAD/DELETE/LIST/FLUSH/KILL/STATS and FCALL/FCALL_RO (see
//! `engine::script::function`), FUNCTION DUMP/RESTORE in Redis's payload format (see
//! `store::rdb::dump_functions`).

use super::error;
use super::{flags::*, is, Cmd, Ctx, Outcome};
use crate::engine::ctx::{CmdError, ErrKind};
use crate::engine::script::run::{run, Mode};
use crate::engine::table::{KeySpec, Scope};
use crate::num::parse_i64;
use crate::store::glob::glob_match;
use bytes::Bytes;

fn fcall_generic(ctx: &mut Ctx, args: &[Bytes], read_only: bool) -> Outcome {
    if ctx.engine.monitors.any() {
        let addr = ctx.client.info.addr.clone();
        ctx.engine.monitors.feed(ctx.client.db, &addr, args);
    }
    // The function first, then its number of keys, as Redis checks them.
    let vm = ctx.engine.scripts.vm.lock();
    let name = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let Some(f) = vm.libraries.funcs.get(&name) else {
        return Err(error::text("ERR Function not found"));
    };
    let n = parse_i64(&args[2]).ok_or(error::text("ERR Bad number of keys provided"))?;
    if n > args.len() as i64 - 3 {
        return Err(error::text(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(error::text("ERR Number of keys can't be negative"));
    }
    let n = n as usize;
    let flags = crate::engine::script::Flags {
        declared: true,
        no_writes: f.no_writes,
        allow_oom: f.flags.iter().any(|x| x == "allow-oom"),
    };
    flags.check(ctx.engine, read_only)?;
    let mode = Mode {
        read_only: read_only || f.no_writes,
        function: true,
        flags,
    };
    run(ctx, &vm, &f.name, &f.func, args, n, mode)
}

fn fcall(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    fcall_generic(ctx, args, false)
}
fn fcall_ro(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    fcall_generic(ctx, args, true)
}

/// `FUNCTION LOAD [REPLACE] code`
fn function_load(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let (code, opts) = args[2..].split_last().expect("arity");
    let mut replace = false;
    for o in opts {
        if !is(o, "replace") {
            return Err(error::msg(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(o)
            )));
        }
        replace = true;
    }
    let name = {
        let mut vm = ctx.engine.scripts.vm.lock();
        let timeout = (!ctx.loading).then_some(crate::engine::script::vm::LOAD_TIMEOUT);
        vm.load_library(code, replace, timeout)
            .map_err(|e| CmdError::owned(ErrKind::Err, e))?
    };
    ctx.fx.dirty += 1;
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

/// `FUNCTION DELETE library`
fn function_delete(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    if !ctx.engine.scripts.vm.lock().delete_library(&name) {
        return Err(error::text("ERR Library not found"));
    }
    ctx.fx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION FLUSH [ASYNC|SYNC]`
fn function_flush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    match &args[2..] {
        [] => {}
        [a] if is(a, "sync") || is(a, "async") => {}
        [_] => {
            return Err(error::text(
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            ))
        }
        _ => return Err(error::subcommand_syntax(args, "FUNCTION")),
    }
    let mut vm = ctx.engine.scripts.vm.lock();
    vm.libraries = Default::default();
    drop(vm);
    ctx.fx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION DUMP`
fn function_dump(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let payload = {
        let vm = ctx.engine.scripts.vm.lock();
        crate::store::rdb::dump_functions(vm.libraries.libs.values().map(|l| &l.code[..]))
    };
    ctx.out.bulk(&payload);
    Ok(())
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`
fn function_restore(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 4 {
        return Err(error::subcommand_syntax(args, "FUNCTION"));
    }
    let (flush, replace) =
        match args.get(3) {
            None => (false, false),
            Some(p) if is(p, "append") => (false, false),
            Some(p) if is(p, "replace") => (false, true),
            Some(p) if is(p, "flush") => (true, false),
            Some(_) => return Err(error::text(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )),
        };
    let body = crate::store::rdb::verify(&args[2])
        .map_err(|_| error::text("ERR DUMP payload version or checksum are wrong"))?;
    let codes: Vec<Bytes> = crate::store::rdb::function_codes(body)
        .map_err(error::text)?
        .into_iter()
        .map(Bytes::from)
        .collect();
    ctx.engine
        .scripts
        .vm
        .lock()
        .restore_libraries(&codes, flush, replace)
        .map_err(|e| CmdError::owned(ErrKind::Err, e))?;
    ctx.fx.dirty += 1;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]`
fn function_list(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let mut with_code = false;
    let mut pattern: Option<Bytes> = None;
    let mut j = 2;
    while j < args.len() {
        if is(&args[j], "withcode") && !with_code {
            with_code = true;
            j += 1;
        } else if is(&args[j], "libraryname") && pattern.is_none() {
            let Some(p) = args.get(j + 1) else {
                return Err(error::text("ERR library name argument was not given"));
            };
            pattern = Some(p.clone());
            j += 2;
        } else {
            return Err(error::msg(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(&args[j])
            )));
        }
    }
    let vm = ctx.engine.scripts.vm.lock();
    let libs: Vec<_> = vm
        .libraries
        .libs
        .values()
        .map(|lib| (&lib.name, lib))
        .filter(|(n, _)| {
            pattern
                .as_ref()
                .is_none_or(|p| glob_match(p, n.as_bytes(), false))
        })
        .collect();
    let out = &mut *ctx.out;
    out.array(libs.len());
    for (name, lib) in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            let func = &vm.libraries.funcs[f];
            out.map(3);
            out.bulk(b"name");
            out.bulk(func.name.as_bytes());
            out.bulk(b"description");
            match &func.description {
                Some(d) => out.bulk(d.as_bytes()),
                None => out.null(),
            }
            out.bulk(b"flags");
            out.set(func.flags.len());
            for fl in &func.flags {
                out.simple(fl);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// `FUNCTION KILL`: functions run to their end before another command is served here.
fn function_kill(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.engine
        .scripts
        .kill(true)
        .map_err(super::scripting::kill_error)?;
    ctx.out.ok();
    Ok(())
}

/// `FUNCTION STATS`
fn function_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    // The VM is held while a script runs: the counts then come from the last reading.
    let mem = ctx.engine.scripts.memory();
    let (libs, funcs) = (mem.libraries, mem.functions);
    let running = ctx.engine.scripts.running.lock().clone();
    let now = ctx.engine.store.now();
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match running.filter(|r| r.function) {
        Some(r) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(r.name.as_bytes());
            out.bulk(b"command");
            out.array(r.command.len());
            for (i, a) in r.command.iter().enumerate() {
                match i {
                    0 => out.bulk(&a.to_ascii_lowercase()),
                    _ => out.bulk(a),
                }
            }
            out.bulk(b"duration_ms");
            out.int(now.saturating_sub(r.started) as i64);
        }
        None => out.null(),
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs as i64);
    out.bulk(b"functions_count");
    out.int(funcs as i64);
    Ok(())
}

fn function_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    super::server::help(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

static FCALL_KEYS: &[KeySpec] = &[KeySpec::numkeys(2)];

static FUNCTION_SUBS: &[Cmd] = &[
    Cmd::new(
        "load",
        -3,
        WRITE | DENYOOM | NOSCRIPT | MAY_REPLICATE,
        "scripting",
        function_load,
    )
    .doc("Creates a library.", "7.0.0"),
    Cmd::new(
        "delete",
        3,
        WRITE | NOSCRIPT | MAY_REPLICATE,
        "scripting",
        function_delete,
    )
    .doc("Deletes a library and its functions.", "7.0.0"),
    Cmd::new(
        "flush",
        -2,
        WRITE | NOSCRIPT | MAY_REPLICATE,
        "scripting",
        function_flush,
    )
    .doc("Deletes all libraries and functions.", "7.0.0"),
    Cmd::new("dump", 2, NOSCRIPT, "scripting", function_dump).doc(
        "Dumps all libraries into a serialized binary payload.",
        "7.0.0",
    ),
    Cmd::new(
        "restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT | MAY_REPLICATE,
        "scripting",
        function_restore,
    )
    .doc("Restores all libraries from a payload.", "7.0.0"),
    Cmd::new("list", -2, NOSCRIPT, "scripting", function_list)
        .doc("Returns information about all libraries.", "7.0.0"),
    Cmd::new("kill", 2, NOSCRIPT | ALLOW_BUSY, "scripting", function_kill)
        .doc("Terminates a function during execution.", "7.0.0"),
    Cmd::new(
        "stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        "scripting",
        function_stats,
    )
    .doc(
        "Returns information about a function during execution.",
        "7.0.0",
    ),
    Cmd::new("help", 2, LOADING | STALE, "scripting", function_help).doc(
        "Returns helpful text about the different subcommands.",
        "7.0.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new(
        "fcall",
        -3,
        NOSCRIPT | STALE | MAY_REPLICATE | MOVABLEKEYS | SCRIPT | NO_MANDATORY_KEYS | SKIP_MONITOR,
        "scripting",
        fcall,
    )
    .key_specs(FCALL_KEYS)
    .scope(Scope::Script)
    .doc("Invokes a function.", "7.0.0"),
    Cmd::new(
        "fcall_ro",
        -3,
        NOSCRIPT | STALE | READONLY | MOVABLEKEYS | SCRIPT | NO_MANDATORY_KEYS | SKIP_MONITOR,
        "scripting",
        fcall_ro,
    )
    .key_specs(FCALL_KEYS)
    .scope(Scope::Script)
    .doc("Invokes a read-only function.", "7.0.0"),
    Cmd::new("function", -2, 0, "scripting", container)
        .subs(FUNCTION_SUBS)
        .doc("A container for function commands.", "7.0.0"),
];
