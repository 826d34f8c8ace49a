//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN, METRICS,
//! and the FUNCTION subcommands test harnesses send.

use super::error;
use super::info::info;
pub use super::info::{cpu_seconds, rss_bytes};
use super::{flags::*, is, registry, Cmd, Ctx, Outcome};
use crate::engine::table::Scope;
use crate::store::glob::glob_match;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// A `HELP` reply: a header, the lines given, and the closing HELP entry, as status strings.
pub fn help(ctx: &mut Ctx, name: &str, lines: &[&str]) -> Outcome {
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(&format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        ctx.out.simple(l);
    }
    ctx.out.simple("HELP");
    ctx.out.simple("    Prints this help.");
    Ok(())
}

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let db = ctx.db();
    let n = ctx.keys.dbsize(db);
    ctx.out.int(n as i64);
    Ok(())
}

/// `[ASYNC|SYNC]` of FLUSHDB / FLUSHALL / FUNCTION FLUSH.
fn flush_mode_ok(args: &[Bytes], from: usize) -> bool {
    match args.len() - from {
        0 => true,
        1 => is(&args[from], "async") || is(&args[from], "sync"),
        _ => false,
    }
}

/// Whether FLUSHALL/FLUSHDB frees on the lazyfree thread: `ASYNC`, or no mode under
/// `lazyfree-lazy-user-flush`.
fn flush_async(ctx: &Ctx, args: &[Bytes]) -> bool {
    match args.get(1) {
        Some(m) => is(m, "async"),
        None => ctx.engine.hot.lazy_user_flush.load(Ordering::Relaxed),
    }
}

/// Before `db` is emptied (or swapped with `other`): WATCHes of keys it holds (or `other`
/// holds) fail, as Redis's `touchAllWatchedKeysInDb`.
pub(super) fn touch_watched(ctx: &mut Ctx, db: usize, other: Option<usize>) {
    let keys = &mut *ctx.keys;
    ctx.engine.watches.touch_db(db, |k| {
        keys.shard(db, k).contains_raw(k) || other.is_some_and(|o| keys.shard(o, k).contains_raw(k))
    });
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if !flush_mode_ok(args, 1) {
        return Err(error::SYNTAX);
    }
    let db = ctx.db();
    let lazy = flush_async(ctx, args);
    touch_watched(ctx, db, None);
    let n: usize = (0..crate::store::SHARDS)
        .map(|i| {
            let shard = ctx.keys.shard_at(db, i);
            if lazy {
                shard.clear_async()
            } else {
                shard.clear()
            }
        })
        .sum();
    ctx.fx.dirty += n as u64;
    ctx.fx.rare().flushed.push(db);
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if !flush_mode_ok(args, 1) {
        return Err(error::SYNTAX);
    }
    let lazy = flush_async(ctx, args);
    let mut n = 0;
    for db in 0..ctx.engine.store.databases() {
        touch_watched(ctx, db, None);
        for i in 0..crate::store::SHARDS {
            let shard = ctx.keys.shard_at(db, i);
            n += if lazy {
                shard.clear_async()
            } else {
                shard.clear()
            };
        }
        ctx.fx.rare().flushed.push(db);
    }
    // Redis counts a FLUSHALL as a change even on an empty server (it is propagated).
    ctx.fx.dirty += n as u64 + 1;
    ctx.out.ok();
    Ok(())
}

fn time(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(d.as_secs().to_string().as_bytes());
    ctx.out.bulk(d.subsec_micros().to_string().as_bytes());
    Ok(())
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: stop accepting, let connections finish,
/// flush, exit 0. The connection that asked is closed without a reply, as in Redis.
fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let mut abort = false;
    let (mut save, mut nosave) = (false, false);
    for a in &args[1..] {
        if is(a, "nosave") {
            nosave = true;
        } else if is(a, "save") {
            save = true;
        } else if is(a, "now") || is(a, "force") {
        } else if is(a, "abort") {
            abort = true;
        } else {
            return Err(error::SYNTAX);
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return Err(error::SYNTAX);
    }
    if abort {
        return Err(error::text("ERR No shutdown in progress."));
    }
    // A busy script can only be cut short without saving (Redis's rule).
    if let Some(busy) = ctx.engine.scripts.busy().filter(|_| !nosave) {
        return Err(crate::engine::CmdError::new(
            crate::engine::ctx::ErrKind::Busy,
            busy,
        ));
    }
    tracing::warn!("User requested shutdown...");
    ctx.engine.shut_down();
    ctx.client.close = true;
    Ok(())
}

/// `BGREWRITEAOF`
fn bgrewriteaof(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let engine = ctx.engine.self_arc();
    let started = match engine.persistence() {
        Some(p) => p.rewrite(&engine),
        None => Err(
            "ERR Background append only file rewriting is not possible while the AOF is disabled"
                .into(),
        ),
    };
    started.map_err(error::msg)?;
    ctx.out
        .simple("Background append only file rewriting started");
    Ok(())
}

fn metrics(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let text = ctx.engine.metrics.render(ctx.engine);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

// ---- CONFIG ----------------------------------------------------------------------------

/// `CONFIG GET parameter [parameter ...]`: globs match names and aliases; a plain name is
/// echoed as it was asked (Redis does the same, case included).
fn config_get(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let cfg = ctx.engine.config.read();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut push = |k: String, v: String| {
        if !pairs.iter().any(|(n, _)| *n == k) {
            let v = crate::config::shown(&k, &v);
            pairs.push((k, v));
        }
    };
    for pat in &args[2..] {
        if pat.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            for (k, v) in cfg.matching(pat) {
                push(k.to_string(), v);
            }
        } else {
            let name = String::from_utf8_lossy(pat).into_owned();
            if let Some(setting) = crate::config::find(&name) {
                push(name, cfg.get(setting.name).to_string());
            }
        }
    }
    drop(cfg);
    ctx.out.map(pairs.len());
    for (k, v) in pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn config_set(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() % 2 == 1 {
        return Err(error::SYNTAX);
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for p in args[2..].chunks(2) {
        let name = String::from_utf8_lossy(&p[0]).into_owned();
        // Every name is checked before any value, in order, as Redis does: the first unknown,
        // immutable, protected or repeated one is the error, named as it was typed.
        let Some(setting) = crate::config::find(&name) else {
            return Err(error::msg(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        let failed = |why: &str| {
            error::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
            ))
        };
        if !setting.mutable {
            return Err(failed("can't set immutable config"));
        }
        if crate::config::PROTECTED.contains(&setting.name) {
            return Err(failed("can't set protected config"));
        }
        // A name and its alias are separate entries (the later one wins), as in Redis 7.0.
        if pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(failed("duplicate parameter"));
        }
        pairs.push((name, String::from_utf8_lossy(&p[1]).into_owned()));
    }
    let (old_bind, old_port, old): (String, u64, Vec<(String, String)>) = {
        let cfg = ctx.engine.config.read();
        let old = pairs
            .iter()
            .map(|(n, _)| {
                let canonical = crate::config::find(n).map_or(n.as_str(), |s| s.name);
                (n.clone(), cfg.get(canonical).to_string())
            })
            .collect();
        (cfg.get("bind").to_string(), cfg.get_u64("port"), old)
    };
    let result = ctx.engine.config.write().set_runtime(&pairs);
    match result {
        Ok(()) => {
            // Applying may fail (a port in use): then every setting of the command is put
            // back, as Redis rolls back.
            let (bind, port) = {
                let cfg = ctx.engine.config.read();
                (cfg.get("bind").to_string(), cfg.get_u64("port"))
            };
            if bind != old_bind || port != old_port {
                if let Some(l) = ctx.engine.listen() {
                    if let Err(e) = l.rebind(&bind, port as u16) {
                        let _ = ctx.engine.config.write().set_runtime(&old);
                        let name = if port != old_port { "port" } else { "bind" };
                        return Err(error::msg(format!(
                            "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
                        )));
                    }
                }
            }
            ctx.engine.refresh_hot();
            // A lower maxmemory takes effect at once: evict down to it now (as Redis does),
            // once this command's locks are released.
            ctx.fx.rare().make_room = true;
            let want = ctx.engine.config.read().get_bool("appendonly");
            let engine = ctx.engine.self_arc();
            if let Some(p) = engine.persistence() {
                if want != p.info(&engine).enabled {
                    if let Err(e) = p.set_enabled(&engine, want) {
                        let undo = if want { "no" } else { "yes" };
                        let _ = engine
                            .config
                            .write()
                            .set_runtime(&[("appendonly".into(), undo.into())]);
                        return Err(error::msg(format!(
                            "ERR CONFIG SET failed (possibly related to argument 'appendonly') - {e}"
                        )));
                    }
                }
                p.set_policy(&engine, engine.config.read().get("appendfsync"));
            }
            ctx.out.ok();
        }
        Err((name, reason)) => {
            return Err(error::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            )))
        }
    }
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.engine.stats.reset();
    ctx.engine
        .store
        .counters()
        .lazyfreed
        .store(0, Ordering::Relaxed);
    for db in 0..ctx.engine.store.databases() {
        touch_watched(ctx, db, None);
        for i in 0..crate::store::SHARDS {
            ctx.keys.shard_at(db, i).stats = Default::default();
        }
    }
    ctx.out.ok();
    Ok(())
}

/// `CONFIG REWRITE`: write the running configuration back into the config file: directives
/// already there are updated in place, settings changed from their defaults are appended.
fn config_rewrite(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let cfg = ctx.engine.config.read().clone();
    let Some(path) = cfg.file.clone() else {
        return Err(error::text(
            "ERR The server is running without a config file",
        ));
    };
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut written = std::collections::HashSet::new();
    let mut text = String::new();
    for line in old.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        match crate::config::find(name) {
            Some(s) if !line.trim_start().starts_with('#') => {
                if written.insert(s.name) {
                    let _ = writeln!(text, "{} {}", s.name, quote_conf(cfg.get(s.name)));
                }
            }
            _ => {
                let _ = writeln!(text, "{line}");
            }
        }
    }
    for s in crate::config::SETTINGS {
        if !written.contains(s.name) && cfg.get(s.name) != s.default {
            let _ = writeln!(text, "{} {}", s.name, quote_conf(cfg.get(s.name)));
        }
    }
    let tmp = format!("{path}.tmp");
    let res = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path));
    match res {
        Ok(()) => ctx.out.ok(),
        Err(e) => return Err(error::msg(format!("ERR Rewriting config file: {e}"))),
    }
    Ok(())
}

fn quote_conf(v: &str) -> String {
    if v.is_empty() || v.contains(' ') {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v.to_string()
    }
}

fn config_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    help(
        ctx,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )
}

// ---- COMMAND ---------------------------------------------------------------------------

fn write_command_info(ctx: &mut Ctx, idx: usize) -> Outcome {
    let reg = registry();
    let cmd = reg.cmds[idx];
    let out = &mut *ctx.out;
    out.array(10);
    out.bulk(reg.fullnames[idx].as_bytes());
    out.int(cmd.arity as i64);
    let flag_names: Vec<&str> = NAMES
        .iter()
        .filter(|(f, _)| cmd.flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    out.set(flag_names.len());
    for f in flag_names {
        out.simple(f);
    }
    let (first, last, step) = cmd.legacy_range();
    out.int(first);
    out.int(last);
    out.int(step);
    // Redis's categories for the command (`engine::acl`).
    let bits = ctx.engine.acl.categories(idx);
    let cats: Vec<&str> = crate::engine::acl::CATEGORIES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, c)| *c)
        .collect();
    out.set(cats.len());
    for c in cats {
        out.simple(&format!("@{c}"));
    }
    // Tips and key specs, as Redis describes them (`keyspecs`).
    let (tips, specs) = super::keyspecs::lookup(&reg.fullnames[idx]);
    out.set(tips.len());
    for t in tips {
        out.bulk(t.as_bytes());
    }
    super::keyspecs::write_specs(out, specs);
    let subs = subs_of(idx);
    // Redis writes "no subcommands" as an empty set, and subcommands as an array.
    if subs.is_empty() {
        out.set(0);
    } else {
        out.array(subs.len());
    }
    for j in subs {
        write_command_info(ctx, j)?;
    }
    Ok(())
}

/// Command `idx`'s subcommands (Redis lists them in its dictionary's order, which
/// changes from run to run; ours keep the table's).
fn subs_of(idx: usize) -> Vec<usize> {
    let reg = registry();
    (0..reg.cmds.len())
        .filter(|&j| reg.parent[j] == Some(idx))
        .collect()
}

fn command_all(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let top: Vec<usize> = registry().top_level().collect();
    ctx.out.array(top.len());
    for i in top {
        write_command_info(ctx, i)?;
    }
    Ok(())
}

fn command_count(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.int(registry().top_level().count() as i64);
    Ok(())
}

/// Resolve `get` or `config|get` to a table index.
fn resolve(name: &[u8]) -> Option<usize> {
    let reg = registry();
    match name.iter().position(|&b| b == b'|') {
        Some(p) => reg.lookup_sub(reg.lookup(&name[..p])?, &name[p + 1..]),
        None => reg.lookup(name),
    }
}

fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() == 2 {
        return command_all(ctx, args);
    }
    ctx.out.array(args.len() - 2);
    for name in &args[2..] {
        match resolve(name) {
            Some(i) => write_command_info(ctx, i)?,
            // A null (`$-1` in RESP2), as Redis's `addReplyNull`.
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn write_docs(ctx: &mut Ctx, idx: usize) -> Outcome {
    let reg = registry();
    let cmd = reg.cmds[idx];
    let subs = subs_of(idx);
    // Redis's own documentation of the command (`docs`), when Redis 7.0 has it.
    let name = &reg.fullnames[idx];
    let redis_doc = match name.split_once('|') {
        Some((parent, _)) => super::docs::find(super::docs::all(), parent)
            .and_then(|d| super::docs::find(&d.subs, name)),
        None => super::docs::find(super::docs::all(), name),
    };
    let extra = usize::from(!subs.is_empty());
    match redis_doc {
        Some(d) => {
            ctx.out.map(d.fields.len() + extra);
            for (k, v) in &d.fields {
                super::docs::write(ctx.out, k);
                super::docs::write(ctx.out, v);
            }
        }
        None => {
            ctx.out.map(3 + extra);
            ctx.out.bulk(b"summary");
            ctx.out.bulk(cmd.summary.as_bytes());
            ctx.out.bulk(b"since");
            ctx.out.bulk(cmd.since.as_bytes());
            ctx.out.bulk(b"group");
            ctx.out.bulk(cmd.group.as_bytes());
        }
    }
    if !subs.is_empty() {
        ctx.out.bulk(b"subcommands");
        write_docs_map(ctx, &subs)?;
    }
    Ok(())
}

/// A map from each command's full name to its docs.
fn write_docs_map(ctx: &mut Ctx, cmds: &[usize]) -> Outcome {
    let reg = registry();
    ctx.out.map(cmds.len());
    for &i in cmds {
        ctx.out.bulk(reg.fullnames[i].as_bytes());
        write_docs(ctx, i)?;
    }
    Ok(())
}

fn command_docs(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let reg = registry();
    let wanted: Vec<usize> = if args.len() == 2 {
        reg.top_level().collect()
    } else {
        args[2..].iter().filter_map(|n| resolve(n)).collect()
    };
    write_docs_map(ctx, &wanted)?;
    Ok(())
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pattern]`
fn command_list(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let reg = registry();
    let mut names: Vec<&str> = reg.fullnames.iter().map(|s| s.as_str()).collect();
    if args.len() > 2 {
        if args.len() != 5 || !is(&args[2], "filterby") {
            return Err(error::SYNTAX);
        }
        let v = &args[4];
        if is(&args[3], "module") {
            names.clear();
        } else if is(&args[3], "aclcat") {
            let bit = crate::engine::acl::CATEGORIES
                .iter()
                .position(|c| v.eq_ignore_ascii_case(c.as_bytes()));
            names = match bit {
                Some(b) => (0..reg.cmds.len())
                    .filter(|&i| ctx.engine.acl.categories(i) & (1 << b) != 0)
                    .map(|i| reg.fullnames[i].as_str())
                    .collect(),
                None => Vec::new(),
            };
        } else if is(&args[3], "pattern") {
            names.retain(|n| glob_match(v, n.as_bytes(), true));
        } else {
            return Err(error::SYNTAX);
        }
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// `COMMAND GETKEYS command arg...`: the key arguments, from the table's key positions.
/// Redis's checks, in its order: the command (or subcommand), whether it has keys at all,
/// its arity, then keys found (none is an empty answer for the script commands, whose
/// keys are optional, and an error for the others).
fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    getkeys(ctx, args, false)
}

/// `COMMAND GETKEYSANDFLAGS command arg...`: each key with its key spec's flags.
fn command_getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    getkeys(ctx, args, true)
}

fn getkeys(ctx: &mut Ctx, args: &[Bytes], with_flags: bool) -> Outcome {
    let call = &args[2..];
    let reg = registry();
    let Ok(i) = reg.resolve(call) else {
        return Err(error::text("ERR Invalid command specified"));
    };
    let cmd = reg.cmds[i];
    if cmd.keys.is_empty() {
        return Err(error::text("ERR The command has no key arguments"));
    }
    let argc = call.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        return Err(error::text(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    // A key count past the arguments (or below one) makes Redis list no key at all.
    let counts_fit = cmd.keys.iter().all(|spec| spec.count_fits(call));
    let keys = if !counts_fit {
        Vec::new()
    } else if with_flags {
        super::keyspecs::keys_and_flags(cmd, &reg.fullnames[i], call)
    } else {
        let mut keys = Vec::new();
        cmd.key_args(call, &mut keys);
        keys.into_iter().map(|k| (k, &[][..])).collect()
    };
    if keys.is_empty() && cmd.flags & NO_MANDATORY_KEYS == 0 {
        return Err(error::text("ERR Invalid arguments specified for command"));
    }
    ctx.out.array(keys.len());
    for (k, flags) in keys {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(k);
            ctx.out.set(flags.len());
            for f in flags {
                ctx.out.simple(f);
            }
        } else {
            ctx.out.bulk(k);
        }
    }
    Ok(())
}

fn command_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    help(
        ctx,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

const ADM: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static CONFIG_SUBS: &[Cmd] = &[
    Cmd::new("get", -3, ADM, "server", config_get).doc(
        "Returns the effective values of configuration parameters.",
        "2.0.0",
    ),
    Cmd::new("set", -4, ADM, "server", config_set)
        .doc("Sets configuration parameters in-flight.", "2.0.0"),
    Cmd::new("resetstat", 2, ADM, "server", config_resetstat)
        .scope(Scope::All)
        .doc("Resets the server's statistics.", "2.0.0"),
    Cmd::new("rewrite", 2, ADM, "server", config_rewrite)
        .doc("Persists the effective configuration to file.", "2.8.0"),
    Cmd::new("help", 2, LOADING | STALE, "server", config_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

static COMMAND_SUBS: &[Cmd] = &[
    Cmd::new("count", 2, LOADING | STALE, "server", command_count)
        .doc("Returns a count of commands.", "2.8.13"),
    Cmd::new("info", -2, LOADING | STALE, "server", command_info).doc(
        "Returns information about one, multiple or all commands.",
        "2.8.13",
    ),
    Cmd::new("docs", -2, LOADING | STALE, "server", command_docs).doc(
        "Returns documentary information about one, multiple or all commands.",
        "7.0.0",
    ),
    Cmd::new("list", -2, LOADING | STALE, "server", command_list)
        .doc("Returns a list of command names.", "7.0.0"),
    Cmd::new("getkeys", -4, LOADING | STALE, "server", command_getkeys).doc(
        "Extracts the key names from an arbitrary command.",
        "2.8.13",
    ),
    Cmd::new(
        "getkeysandflags",
        -4,
        LOADING | STALE,
        "server",
        command_getkeysandflags,
    )
    .doc(
        "Extract keys and access flags given a full Redis command",
        "7.0.0",
    ),
    Cmd::new("help", 2, LOADING | STALE, "server", command_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("dbsize", 1, READONLY | FAST, "server", dbsize)
        .scope(Scope::Db)
        .doc("Returns the number of keys in the database.", "1.0.0"),
    Cmd::new("flushdb", -1, WRITE, "server", flushdb)
        .scope(Scope::Db)
        .doc("Removes all keys from the current database.", "1.0.0"),
    Cmd::new("flushall", -1, WRITE, "server", flushall)
        .scope(Scope::All)
        .doc("Removes all keys from all databases.", "1.0.0"),
    Cmd::new("info", -1, LOADING | STALE, "server", info)
        .scope(Scope::All)
        .doc(
            "Returns information and statistics about the server.",
            "1.0.0",
        ),
    Cmd::new("time", 1, LOADING | STALE | FAST, "server", time)
        .doc("Returns the server time.", "2.6.0"),
    Cmd::new(
        "shutdown",
        -1,
        ADM | NO_MULTI | ALLOW_BUSY,
        "server",
        shutdown,
    )
    .doc(
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "1.0.0",
    ),
    Cmd::new(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        "server",
        bgrewriteaof,
    )
    .doc(
        "Asynchronously rewrites the append-only file to disk.",
        "1.0.0",
    ),
    Cmd::new("metrics", 1, LOADING | STALE, "server", metrics).doc(
        "Returns Prometheus metrics in OpenMetrics text format (ferrokv).",
        "0.1.0",
    ),
    Cmd::new("config", -2, 0, "server", container)
        .subs(CONFIG_SUBS)
        .doc("A container for server configuration commands.", "2.0.0"),
    Cmd::new("command", -1, LOADING | STALE, "server", command_all)
        .subs(COMMAND_SUBS)
        .doc("Returns detailed information about all commands.", "2.8.13"),
];
