//! SAVE and LASTSAVE: a point-in-time RDB snapshot of every database and function library
//! (`store::rdb_file`), written in the foreground as Redis's SAVE is. ferrokv's own
//! durability is its AOF; the snapshot is for tools and for moving a dataset to Redis.

use super::error;
use super::{flags::*, Cmd, Ctx, Outcome};
use crate::engine::table::Scope;
use crate::engine::Engine;
use crate::store::rdb_file::RdbFile;
use crate::store::SHARDS;
use bytes::Bytes;
use std::sync::atomic::Ordering;

/// Unix seconds of the last successful save (the start time until there is one).
pub fn last_save(engine: &Engine) -> u64 {
    match engine.stats.last_save.load(Ordering::Relaxed) {
        0 => engine.started_unix_ms / 1000,
        t => t,
    }
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.int(last_save(ctx.engine) as i64);
    Ok(())
}

/// `SAVE`: the whole keyspace is held (`Scope::All`) while the file is written, so the
/// snapshot is of one instant; `dir`/`dbfilename` name it.
fn save(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    snapshot(ctx, false)?;
    ctx.out.ok();
    Ok(())
}

/// Write the snapshot (SAVE's work, without its reply); `background` for BGSAVE, whose
/// failure is the one `rdb_last_bgsave_status` reports (as in Redis).
fn snapshot(ctx: &mut Ctx, background: bool) -> Outcome {
    ctx.engine.stats.saves.fetch_add(1, Ordering::Relaxed);
    let path = {
        let cfg = ctx.engine.config.read();
        std::path::Path::new(cfg.get("dir")).join(cfg.get("dbfilename"))
    };
    let changes = ctx.engine.stats.changes.load(Ordering::Relaxed);
    match write(ctx, &path) {
        Ok(()) => {
            let stats = &ctx.engine.stats;
            stats.last_save.store(ctx.now / 1000, Ordering::Relaxed);
            stats.changes_at_save.store(changes, Ordering::Relaxed);
            stats.last_bgsave_failed.store(false, Ordering::Relaxed);
            tracing::info!(path = %path.display(), "DB saved on disk");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), "SAVE failed: {e}");
            if background {
                ctx.engine
                    .stats
                    .last_bgsave_failed
                    .store(true, Ordering::Relaxed);
            }
            // Redis answers a bare -ERR (the reason goes to its log).
            Err(error::text("ERR"))
        }
    }
}

/// `BGSAVE [SCHEDULE]`: ferrokv cannot fork a child to write the snapshot, so it writes it
/// as SAVE does, before answering (holding the keyspace meanwhile), and answers as Redis
/// does once its child has started. A failure is answered as SAVE's.
fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() > 2 || (args.len() == 2 && !super::is(&args[1], "schedule")) {
        return Err(error::SYNTAX);
    }
    snapshot(ctx, true)?;
    ctx.out.simple("Background saving started");
    Ok(())
}

fn write(ctx: &mut Ctx, path: &std::path::Path) -> std::io::Result<()> {
    let mut f = RdbFile::create(path)?;
    let r = fill(ctx, &mut f);
    match r {
        Ok(()) => f.finish(),
        Err(e) => {
            f.abandon();
            Err(e)
        }
    }
}

fn fill(ctx: &mut Ctx, f: &mut RdbFile) -> std::io::Result<()> {
    let engine = ctx.engine;
    f.aux("redis-ver", "7.0.15")?;
    f.aux("redis-bits", "64")?;
    f.aux("ctime", &(ctx.now / 1000).to_string())?;
    f.aux("used-mem", &engine.store.used_memory().to_string())?;
    f.aux("aof-base", "0")?;
    {
        let vm = engine.scripts.vm.lock();
        for lib in vm.libraries.libs.values() {
            f.function(&lib.code)?;
        }
    }
    let now = ctx.now;
    for db in 0..engine.store.databases() {
        let keys = ctx.keys.dbsize(db);
        if keys == 0 {
            continue;
        }
        let expires = ctx.keys.expires(db);
        f.select_db(db, keys, expires)?;
        for i in 0..SHARDS {
            let mut failed = None;
            ctx.keys.shard_at(db, i).for_each_live(now, |k, e| {
                if failed.is_none() {
                    failed = f.key(k, e.expire_at, &e.value).err();
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }
    Ok(())
}

pub static COMMANDS: &[Cmd] = &[
    Cmd::new(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI | NO_ASYNC_LOADING,
        "server",
        save,
    )
    .scope(Scope::All)
    .doc("Synchronously saves the dataset to disk", "1.0.0"),
    Cmd::new(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        "server",
        bgsave,
    )
    .scope(Scope::All)
    .doc("Asynchronously save the dataset to disk", "1.0.0"),
    Cmd::new("lastsave", 1, LOADING | STALE | FAST, "server", lastsave).doc(
        "Returns the Unix timestamp of the last successful save to disk.",
        "1.0.0",
    ),
];
