//! `INFO`: the server's report, section by section, with Redis's field names.

use super::{registry, Ctx, Outcome};
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// `mem_allocator` in INFO: the binary names the global allocator it installs (a library
/// cannot know); "libc" when nothing was named.
pub static MEM_ALLOCATOR: OnceLock<&'static str> = OnceLock::new();

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
                kv("tracking_clients", &shared.tracking.clients());
                kv("clients_in_timeout_table", &0);
                // Redis 7.2's count of clients with subscriptions, and the clients
                // postponed by CLIENT PAUSE (also counted in blocked_clients, as in Redis).
                let pubsub = shared
                    .clients
                    .lock()
                    .values()
                    .filter(|c| {
                        c.flags.load(std::sync::atomic::Ordering::Relaxed)
                            & crate::engine::client::flag::PUBSUB
                            != 0
                    })
                    .count();
                kv("pubsub_clients", &pubsub);
                kv("paused_clients", &shared.blocking.paused_clients());
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
                let peak = store.sample_peak();
                kv("used_memory_peak", &peak);
                kv("used_memory_peak_human", &human(peak));
                kv(
                    "used_memory_peak_perc",
                    &format!("{:.2}%", used as f64 * 100.0 / peak.max(1) as f64),
                );
                // The overhead ferrokv accounts for is what it allocates at start-up; keys,
                // values and their table slots are all counted as the dataset.
                let startup = crate::store::STARTUP_ALLOCATED;
                let dataset = used.saturating_sub(startup);
                kv("used_memory_overhead", &startup);
                kv("used_memory_startup", &startup);
                kv("used_memory_dataset", &dataset);
                kv(
                    "used_memory_dataset_perc",
                    // Redis's share of the memory used beyond start-up.
                    &format!("{:.2}%", dataset as f64 * 100.0 / dataset.max(1) as f64),
                );
                kv("total_system_memory", &sys);
                kv("total_system_memory_human", &human(sys));
                let lua = shared.scripts.memory();
                kv("used_memory_lua", &lua.vm_bytes);
                kv("used_memory_vm_eval", &lua.vm_bytes);
                kv("used_memory_lua_human", &human(lua.vm_bytes));
                kv("used_memory_scripts_eval", &lua.scripts_bytes);
                kv("number_of_cached_scripts", &lua.cached_scripts);
                kv("number_of_functions", &lua.functions);
                kv("number_of_libraries", &lua.libraries);
                kv("used_memory_vm_functions", &0);
                kv("used_memory_vm_total", &lua.vm_bytes);
                kv("used_memory_vm_total_human", &human(lua.vm_bytes));
                kv("used_memory_functions", &lua.functions_bytes);
                let scripts = lua.scripts_bytes + lua.functions_bytes;
                kv("used_memory_scripts", &scripts);
                kv("used_memory_scripts_human", &human(scripts));
                kv("maxmemory", &max);
                kv("maxmemory_human", &human(max));
                kv("maxmemory_policy", &cfg.get("maxmemory-policy"));
                let frag = if used > 0 {
                    rss as f64 / used as f64
                } else {
                    1.0
                };
                kv("mem_fragmentation_ratio", &format!("{frag:.2}"));
                kv("mem_fragmentation_bytes", &(rss as i64 - used as i64));
                // Eviction compares the dataset's accounting alone with maxmemory: no
                // buffer is counted in it, so none needs taking out.
                kv("mem_not_counted_for_evict", &0);
                // No replication and no cluster: nothing held for them.
                kv("mem_replication_backlog", &0);
                kv("mem_total_replication_buffers", &0);
                kv("mem_clients_slaves", &0);
                kv("mem_cluster_links", &0);
                kv("mem_allocator", MEM_ALLOCATOR.get().unwrap_or(&"libc"));
                kv("active_defrag_running", &0);
                let counters = shared.store.counters();
                kv(
                    "lazyfree_pending_objects",
                    &counters.lazyfree_pending.load(Ordering::Relaxed),
                );
                kv(
                    "lazyfreed_objects",
                    &counters.lazyfreed.load(Ordering::Relaxed),
                );
            }
            "persistence" => {
                kv("loading", &0);
                kv("async_loading", &0);
                kv("current_cow_peak", &0);
                kv("current_cow_size", &0);
                kv("current_cow_size_age", &0);
                kv("current_fork_perc", &"0.00");
                kv("current_save_keys_processed", &0);
                kv("current_save_keys_total", &0);
                kv(
                    "rdb_changes_since_last_save",
                    &(shared.stats.changes.load(Ordering::Relaxed)
                        - shared.stats.changes_at_save.load(Ordering::Relaxed)),
                );
                kv("rdb_bgsave_in_progress", &0);
                kv("rdb_last_save_time", &super::persist::last_save(shared));
                let bg_failed = shared.stats.last_bgsave_failed.load(Ordering::Relaxed);
                kv(
                    "rdb_last_bgsave_status",
                    if bg_failed { &"err" } else { &"ok" },
                );
                kv("rdb_last_bgsave_time_sec", &-1);
                kv("rdb_current_bgsave_time_sec", &-1);
                kv("rdb_saves", &shared.stats.saves.load(Ordering::Relaxed));
                // Snapshots are written without a fork (see `persist`): nothing copied on
                // write; and no RDB is loaded at start (the AOF is replayed).
                kv("rdb_last_cow_size", &0);
                kv("rdb_last_load_keys_expired", &0);
                kv("rdb_last_load_keys_loaded", &0);
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
                let (ops, in_kbps, out_kbps) = st.rates();
                kv("instantaneous_ops_per_sec", &ops);
                kv("total_net_input_bytes", &ld(&st.net_input_bytes));
                kv("total_net_output_bytes", &ld(&st.net_output_bytes));
                // No replication is offered: no replication traffic.
                kv("total_net_repl_input_bytes", &0);
                kv("total_net_repl_output_bytes", &0);
                kv("instantaneous_input_kbps", &format!("{in_kbps:.2}"));
                kv("instantaneous_output_kbps", &format!("{out_kbps:.2}"));
                kv("instantaneous_input_repl_kbps", &"0.00");
                kv("instantaneous_output_repl_kbps", &"0.00");
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
                kv("pubsub_channels", &shared.pubsub.channel_count());
                kv("pubsub_patterns", &shared.pubsub.numpat());
                kv("pubsubshard_channels", &shared.pubsub.shard_channel_count());
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
                let (tkeys, titems, tprefixes) = shared.tracking.totals();
                kv("tracking_total_keys", &tkeys);
                kv("tracking_total_items", &titems);
                kv("tracking_total_prefixes", &tprefixes);
                kv("unexpected_error_replies", &0);
                kv("total_error_replies", &ld(&st.error_replies));
                kv("dump_payload_sanitizations", &0);
                kv("total_reads_processed", &ld(&st.reads_processed));
                kv("total_writes_processed", &ld(&st.writes_processed));
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

pub(super) fn info(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let requested: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let text = info_text(ctx, &requested);
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}
