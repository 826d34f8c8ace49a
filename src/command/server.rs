//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, TIME, SHUTDOWN, METRICS,
//! and the FUNCTION subcommands test harnesses send.

use super::error;
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

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if !flush_mode_ok(args, 1) {
        return Err(error::SYNTAX);
    }
    let db = ctx.db();
    let n: usize = (0..crate::store::SHARDS)
        .map(|i| ctx.keys.shard_at(db, i).clear())
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
    let mut n = 0;
    for db in 0..ctx.engine.store.databases() {
        for i in 0..crate::store::SHARDS {
            n += ctx.keys.shard_at(db, i).clear();
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

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.int((ctx.engine.started_unix_ms / 1000) as i64);
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
    tracing::warn!("User requested shutdown...");
    ctx.engine.shutdown.trigger();
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

// ---- FUNCTION --------------------------------------------------------------------------

fn function_flush(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if !flush_mode_ok(args, 2) {
        return Err(error::SYNTAX);
    }
    ctx.out.ok();
    Ok(())
}

/// No functions can be loaded (there is no scripting engine), so the list is always empty.
fn function_list(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.array(0);
    Ok(())
}

// ---- INFO ------------------------------------------------------------------------------

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Resident set size from /proc (0 where unavailable).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// (user, system) CPU seconds of this process, from /proc.
pub fn cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = 100.0;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (get(11), get(12))
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Sections left out of a plain `INFO` (and `INFO default`).
const NOT_DEFAULT: &[&str] = &["commandstats"];

fn default_sections() -> impl Iterator<Item = &'static &'static str> {
    ALL_SECTIONS.iter().filter(|s| !NOT_DEFAULT.contains(s))
}
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

/// The `INFO` text for the given section names (empty = default).
pub fn info_text(ctx: &mut Ctx, requested: &[String]) -> String {
    let mut wanted: Vec<&str> = Vec::new();
    if requested.is_empty() {
        wanted.extend(default_sections());
    }
    for r in requested {
        match r.as_str() {
            "default" => wanted.extend(default_sections()),
            "all" | "everything" => wanted.extend(ALL_SECTIONS),
            s => {
                if let Some(known) = ALL_SECTIONS.iter().find(|k| **k == s) {
                    wanted.push(known);
                }
            }
        }
    }
    let shared = ctx.engine;
    let store = &shared.store;
    // Keyspace figures from the locked shards (INFO holds the whole keyspace).
    let mut ks = crate::store::ShardStats::default();
    let mut dbs = Vec::new();
    for db in 0..store.databases() {
        for i in 0..crate::store::SHARDS {
            ks += ctx.keys.shard_at(db, i).stats;
        }
        dbs.push((ctx.keys.dbsize(db), ctx.keys.expires(db)));
    }
    let cfg = shared.config.read();
    let mut out = String::new();
    for section in ALL_SECTIONS.iter().filter(|s| wanted.contains(s)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut s = String::new();
        let mut kv = |k: &str, v: &dyn std::fmt::Display| {
            let _ = write!(s, "{k}:{v}\r\n");
        };
        match *section {
            "server" => {
                let up = shared.uptime_secs();
                kv("redis_version", &crate::REDIS_VERSION);
                kv("ferrokv_version", &env!("CARGO_PKG_VERSION"));
                kv("redis_git_sha1", &"00000000");
                kv("redis_git_dirty", &0);
                kv("redis_build_id", &"0");
                kv("redis_mode", &"standalone");
                kv("os", &std::env::consts::OS);
                kv("arch_bits", &64);
                kv("monotonic_clock", &"POSIX clock_gettime");
                kv("multiplexing_api", &"epoll");
                kv("atomicvar_api", &"c11-builtin");
                kv("gcc_version", &"0.0.0");
                kv("process_id", &std::process::id());
                kv("process_supervised", &"no");
                kv("run_id", &shared.run_id);
                kv("tcp_port", &shared.port.load(Ordering::Relaxed));
                kv("server_time_usec", &(ctx.now * 1000));
                kv("uptime_in_seconds", &up);
                kv("uptime_in_days", &(up / 86400));
                kv("hz", &cfg.get("hz"));
                kv("configured_hz", &cfg.get("hz"));
                kv("lru_clock", &((ctx.now / 1000) & 0xFFFFFF));
                kv(
                    "executable",
                    &std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                );
                kv("config_file", &cfg.file.clone().unwrap_or_default());
                kv("io_threads_active", &0);
            }
            "clients" => {
                kv("connected_clients", &shared.clients.lock().len());
                kv("cluster_connections", &0);
                kv("maxclients", &cfg.get("maxclients"));
                kv("client_recent_max_input_buffer", &0);
                kv("client_recent_max_output_buffer", &0);
                kv("blocked_clients", &shared.blocking.blocked_clients());
                kv("tracking_clients", &0);
                kv("clients_in_timeout_table", &0);
            }
            "memory" => {
                let used = store.used_memory();
                let rss = rss_bytes();
                let max = cfg.get_u64("maxmemory");
                let sys = total_system_memory();
                kv("used_memory", &used);
                kv("used_memory_human", &human(used));
                kv("used_memory_rss", &rss);
                kv("used_memory_rss_human", &human(rss));
                kv("used_memory_peak", &used);
                kv("used_memory_peak_human", &human(used));
                kv("used_memory_peak_perc", &"100.00%");
                kv("used_memory_overhead", &0);
                kv("used_memory_startup", &0);
                kv("used_memory_dataset", &used);
                kv("used_memory_dataset_perc", &"100.00%");
                kv("total_system_memory", &sys);
                kv("total_system_memory_human", &human(sys));
                kv("used_memory_lua", &0);
                kv("used_memory_vm_eval", &0);
                kv("used_memory_lua_human", &"0B");
                kv("used_memory_scripts_eval", &0);
                kv("number_of_cached_scripts", &0);
                kv("used_memory_scripts", &0);
                kv("used_memory_scripts_human", &"0B");
                kv("maxmemory", &max);
                kv("maxmemory_human", &human(max));
                kv("maxmemory_policy", &cfg.get("maxmemory-policy"));
                let frag = if used > 0 {
                    rss as f64 / used as f64
                } else {
                    1.0
                };
                kv("mem_fragmentation_ratio", &format!("{frag:.2}"));
                kv("mem_allocator", &"libc");
                kv("lazyfree_pending_objects", &0);
                kv("lazyfreed_objects", &0);
            }
            "persistence" => {
                kv("loading", &0);
                kv("async_loading", &0);
                kv("current_cow_peak", &0);
                kv("current_cow_size", &0);
                kv("current_fork_perc", &"0.00");
                kv("current_save_keys_processed", &0);
                kv("current_save_keys_total", &0);
                kv(
                    "rdb_changes_since_last_save",
                    &shared.stats.changes.load(Ordering::Relaxed),
                );
                kv("rdb_bgsave_in_progress", &0);
                kv("rdb_last_save_time", &(shared.started_unix_ms / 1000));
                kv("rdb_last_bgsave_status", &"ok");
                kv("rdb_last_bgsave_time_sec", &-1);
                kv("rdb_current_bgsave_time_sec", &-1);
                let p = shared
                    .persistence()
                    .map(|p| p.info(shared))
                    .unwrap_or_default();
                kv("aof_enabled", &(p.enabled as u8));
                kv("aof_rewrite_in_progress", &(p.rewrite_in_progress as u8));
                kv("aof_rewrite_scheduled", &0);
                kv("aof_last_rewrite_time_sec", &-1);
                kv("aof_current_rewrite_time_sec", &-1);
                let ok = |b: bool| if b { "ok" } else { "err" };
                kv("aof_last_bgrewrite_status", &ok(p.last_rewrite_ok));
                kv("aof_rewrites", &p.rewrites);
                kv("aof_rewrites_consecutive_failures", &0);
                kv("aof_last_write_status", &ok(p.last_write_ok));
                kv("aof_last_cow_size", &0);
                kv("module_fork_in_progress", &0);
                kv("module_fork_last_cow_size", &0);
                if p.enabled {
                    kv("aof_current_size", &p.current_size);
                    kv("aof_base_size", &p.base_size);
                    kv("aof_pending_rewrite", &0);
                    kv("aof_buffer_length", &0);
                    kv("aof_pending_bio_fsync", &0);
                    kv("aof_delayed_fsync", &0);
                    kv("aof_writes", &p.writes);
                    kv("aof_write_errors", &p.write_errors);
                }
            }
            "stats" => {
                let st = &shared.stats;
                let c = store.counters();
                let ld = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
                kv("total_connections_received", &ld(&st.connections_received));
                kv("total_commands_processed", &st.total_calls());
                kv("instantaneous_ops_per_sec", &0);
                kv("total_net_input_bytes", &ld(&st.net_input_bytes));
                kv("total_net_output_bytes", &ld(&st.net_output_bytes));
                kv("instantaneous_input_kbps", &"0.00");
                kv("instantaneous_output_kbps", &"0.00");
                kv("rejected_connections", &ld(&st.rejected_connections));
                kv("sync_full", &0);
                kv("sync_partial_ok", &0);
                kv("sync_partial_err", &0);
                kv("expired_keys", &ks.expired_keys);
                kv("expired_stale_perc", &"0.00");
                kv("expired_time_cap_reached_count", &0);
                kv("expire_cycle_cpu_milliseconds", &0);
                kv("evicted_keys", &ld(&c.evicted_keys));
                kv("evicted_clients", &0);
                kv("total_eviction_exceeded_time", &0);
                kv("current_eviction_exceeded_time", &0);
                kv("keyspace_hits", &ks.keyspace_hits);
                kv("keyspace_misses", &ks.keyspace_misses);
                kv("pubsub_channels", &0);
                kv("pubsub_patterns", &0);
                kv("latest_fork_usec", &0);
                kv("total_forks", &0);
                kv("migrate_cached_sockets", &0);
                kv("slave_expires_tracked_keys", &0);
                kv("active_defrag_hits", &0);
                kv("active_defrag_misses", &0);
                kv("active_defrag_key_hits", &0);
                kv("active_defrag_key_misses", &0);
                kv("total_active_defrag_time", &0);
                kv("current_active_defrag_time", &0);
                kv("tracking_total_keys", &0);
                kv("tracking_total_items", &0);
                kv("tracking_total_prefixes", &0);
                kv("unexpected_error_replies", &0);
                kv("total_error_replies", &ld(&st.error_replies));
                kv("dump_payload_sanitizations", &0);
                kv("total_reads_processed", &0);
                kv("total_writes_processed", &0);
                kv("io_threaded_reads_processed", &0);
                kv("io_threaded_writes_processed", &0);
            }
            "replication" => {
                kv("role", &"master");
                kv("connected_slaves", &0);
                kv("master_failover_state", &"no-failover");
                kv("master_replid", &shared.run_id);
                kv(
                    "master_replid2",
                    &"0000000000000000000000000000000000000000",
                );
                kv("master_repl_offset", &0);
                kv("second_repl_offset", &-1);
                kv("repl_backlog_active", &0);
                kv("repl_backlog_size", &1048576);
                kv("repl_backlog_first_byte_offset", &0);
                kv("repl_backlog_histlen", &0);
            }
            "cpu" => {
                let (user, sys) = cpu_seconds();
                kv("used_cpu_sys", &format!("{sys:.6}"));
                kv("used_cpu_user", &format!("{user:.6}"));
                kv("used_cpu_sys_children", &"0.000000");
                kv("used_cpu_user_children", &"0.000000");
                kv("used_cpu_sys_main_thread", &format!("{sys:.6}"));
                kv("used_cpu_user_main_thread", &format!("{user:.6}"));
            }
            "modules" => {}
            "commandstats" => {
                let reg = registry();
                for (i, st) in shared.stats.per_cmd.iter().enumerate() {
                    let calls = st.calls.load(Ordering::Relaxed);
                    let rejected = st.rejected.load(Ordering::Relaxed);
                    if calls == 0 && rejected == 0 {
                        continue;
                    }
                    let usec = st.nanos.load(Ordering::Relaxed) / 1000;
                    let per = if calls > 0 {
                        usec as f64 / calls as f64
                    } else {
                        0.0
                    };
                    let v = format!(
                        "calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={}",
                        st.failed.load(Ordering::Relaxed)
                    );
                    kv(&format!("cmdstat_{}", reg.fullnames[i]), &v);
                }
            }
            "errorstats" => {
                for (prefix, n) in shared.stats.error_counts() {
                    kv(&format!("errorstat_{prefix}"), &format!("count={n}"));
                }
            }
            "cluster" => kv("cluster_enabled", &0),
            "keyspace" => {
                for (db, &(n, expires)) in dbs.iter().enumerate() {
                    if n > 0 {
                        let v = format!("keys={n},expires={expires},avg_ttl=0");
                        kv(&format!("db{db}"), &v);
                    }
                }
            }
            _ => {}
        }
        let title = match *section {
            "cpu" => "CPU".to_string(),
            "commandstats" => "Commandstats".to_string(),
            "errorstats" => "Errorstats".to_string(),
            other => {
                let mut c = other.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        };
        out.push_str(&format!("# {title}\r\n{s}"));
    }
    out
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let requested: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let text = info_text(ctx, &requested);
    ctx.out.verbatim(text.as_bytes());
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
        let Some(setting) = crate::config::find(&name) else {
            return Err(error::msg(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        // A name and its alias are separate entries (the later one wins), as in Redis 7.0.
        if pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(error::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")));
        }
        if setting.name == "dir" {
            return Err(error::msg(format!("ERR CONFIG SET failed (possibly related to argument '{name}') - can't set protected config")));
        }
        pairs.push((name, String::from_utf8_lossy(&p[1]).into_owned()));
    }
    let result = ctx.engine.config.write().set_runtime(&pairs);
    match result {
        Ok(()) => {
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
    for db in 0..ctx.engine.store.databases() {
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

fn acl_categories(cmd: &Cmd) -> Vec<String> {
    let mut cats = Vec::new();
    if cmd.flags & WRITE != 0 {
        cats.push("@write".to_string());
    }
    if cmd.flags & READONLY != 0 {
        cats.push("@read".to_string());
    }
    if cmd.group != "server" || cmd.flags & (WRITE | READONLY) != 0 {
        cats.push(format!(
            "@{}",
            if cmd.group == "generic" {
                "keyspace"
            } else {
                cmd.group
            }
        ));
    }
    if cmd.flags & ADMIN != 0 {
        cats.push("@admin".into());
        cats.push("@dangerous".into());
    }
    cats.push(if cmd.flags & FAST != 0 {
        "@fast".into()
    } else {
        "@slow".into()
    });
    cats
}

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
    let cats = acl_categories(cmd);
    out.set(cats.len());
    for c in &cats {
        out.simple(c);
    }
    out.set(0);
    out.array(0);
    let subs: Vec<usize> = (0..reg.cmds.len())
        .filter(|&j| reg.parent[j] == Some(idx))
        .collect();
    out.array(subs.len());
    for j in subs {
        write_command_info(ctx, j)?;
    }
    Ok(())
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
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

fn write_docs(ctx: &mut Ctx, idx: usize) -> Outcome {
    let reg = registry();
    let cmd = reg.cmds[idx];
    let subs: Vec<usize> = (0..reg.cmds.len())
        .filter(|&j| reg.parent[j] == Some(idx))
        .collect();
    ctx.out.map(if subs.is_empty() { 3 } else { 4 });
    ctx.out.bulk(b"summary");
    ctx.out.bulk(cmd.summary.as_bytes());
    ctx.out.bulk(b"since");
    ctx.out.bulk(cmd.since.as_bytes());
    ctx.out.bulk(b"group");
    ctx.out.bulk(cmd.group.as_bytes());
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
            let cat = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
            names = (0..reg.cmds.len())
                .filter(|&i| acl_categories(reg.cmds[i]).contains(&cat))
                .map(|i| reg.fullnames[i].as_str())
                .collect();
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
fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let call = &args[2..];
    let Some(i) = resolve(&call[0]) else {
        return Err(error::text("ERR Invalid command specified"));
    };
    let cmd = registry().cmds[i];
    let argc = call.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        return Err(error::text(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    if cmd.keys.is_empty() {
        return Err(error::text("ERR The command has no key arguments"));
    }
    let mut keys = Vec::new();
    cmd.key_args(call, &mut keys);
    if keys.is_empty() && cmd.flags & MOVABLEKEYS != 0 {
        return Err(error::text("ERR Invalid arguments specified for command"));
    }
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(k);
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
    Cmd::new("help", 2, LOADING | STALE, "server", command_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

static FUNCTION_SUBS: &[Cmd] = &[
    Cmd::new("flush", -2, WRITE | NOSCRIPT, "scripting", function_flush)
        .doc("Deletes all libraries and functions.", "7.0.0"),
    Cmd::new("list", -2, NOSCRIPT, "scripting", function_list)
        .doc("Returns information about all libraries.", "7.0.0"),
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
    Cmd::new("info", -1, LOADING | STALE | SENTINEL, "server", info)
        .scope(Scope::All)
        .doc(
            "Returns information and statistics about the server.",
            "1.0.0",
        ),
    Cmd::new("time", 1, LOADING | STALE | FAST, "server", time)
        .doc("Returns the server time.", "2.6.0"),
    Cmd::new("lastsave", 1, LOADING | STALE | FAST, "server", lastsave).doc(
        "Returns the Unix timestamp of the last successful save to disk.",
        "1.0.0",
    ),
    Cmd::new("shutdown", -1, ADM, "server", shutdown).doc(
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "1.0.0",
    ),
    Cmd::new("bgrewriteaof", 1, ADM, "server", bgrewriteaof).doc(
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
    Cmd::new("function", -2, 0, "scripting", container)
        .subs(FUNCTION_SUBS)
        .doc("A container for function commands.", "7.0.0"),
];
